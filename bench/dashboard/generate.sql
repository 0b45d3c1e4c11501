-- generate: a 200-fiche plan with 5 years of quarterly measurements, on top of the demo data.
-- 5 axes × 4 orientations × 10 fiches; 250 indicators (one per fiche, a second one for the
-- first 50) with a baseline, yearly targets and 20 quarterly measurements each (5,000 in all);
-- 800 audit entries of progress changes over the last 12 months ("what changed").
-- Bench data only: SQLite's recursive CTEs, run with the sqlite3 shell (bench/dashboard/run.sh).
-- Every generated row is marked: plan title "Plan de mesure (bench)", is_demo = 1.

BEGIN;

INSERT INTO plans (kind, title, start_year, end_year, description, is_public, created_at, updated_at)
VALUES ('schema', 'Plan de mesure (bench)', 2021, 2025,
        'Plan généré pour mesurer le tableau de bord et le bilan.', 1,
        '2021-01-01T00:00:00Z', '2021-01-01T00:00:00Z');

CREATE TEMP TABLE bench AS SELECT MAX(id) AS plan FROM plans;

INSERT INTO plan_levels (plan_id, depth, name)
SELECT plan, 0, 'Axe' FROM bench UNION ALL
SELECT plan, 1, 'Orientation' FROM bench UNION ALL
SELECT plan, 2, 'Fiche-action' FROM bench;

INSERT INTO plan_territory (plan_id, scope, code)
SELECT plan, 'departement', '26' FROM bench;

-- axes 1..5
WITH RECURSIVE a(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM a WHERE i < 5)
INSERT INTO nodes (plan_id, parent_id, position, depth, number, title, created_at, updated_at)
SELECT (SELECT plan FROM bench), NULL, i, 0, CAST(i AS TEXT), 'Axe ' || i || ' du plan de mesure',
       '2021-01-01T00:00:00Z', '2021-01-01T00:00:00Z' FROM a;

-- orientations 4 per axis
WITH RECURSIVE o(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM o WHERE j < 4)
INSERT INTO nodes (plan_id, parent_id, position, depth, number, title, created_at, updated_at)
SELECT n.plan_id, n.id, o.j, 1, n.number || '.' || o.j,
       'Orientation ' || n.number || '.' || o.j, '2021-01-01T00:00:00Z', '2021-01-01T00:00:00Z'
FROM nodes n, o WHERE n.plan_id = (SELECT plan FROM bench) AND n.depth = 0;

-- fiches 10 per orientation
WITH RECURSIVE f(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM f WHERE k < 10)
INSERT INTO nodes (plan_id, parent_id, position, depth, number, title, created_at, updated_at)
SELECT n.plan_id, n.id, f.k, 2, n.number || '.' || f.k,
       'Fiche-action ' || n.number || '.' || f.k || ' : accompagner les familles du territoire',
       '2021-01-01T00:00:00Z', '2021-01-01T00:00:00Z'
FROM nodes n, f WHERE n.plan_id = (SELECT plan FROM bench) AND n.depth = 1;

-- statuses and progress spread like the Ardèche mid-term review (14 / 45 / 33 / 8 %)
INSERT INTO fiches (node_id, status, progress, start_date, end_date, is_demo)
SELECT id,
       CASE WHEN id % 100 < 3 THEN 'abandonnee' WHEN id % 100 < 5 THEN 'proposee'
            WHEN id % 100 < 19 THEN 'achevee' ELSE 'en_cours' END,
       CASE WHEN id % 100 < 5 THEN 'non_engagee' WHEN id % 100 < 19 THEN 'achevee'
            WHEN id % 100 < 64 THEN 'bien_engagee' WHEN id % 100 < 97 THEN 'peu_engagee'
            ELSE 'non_engagee' END,
       '2021-01-01', '2025-12-31', 1
FROM nodes WHERE plan_id = (SELECT plan FROM bench) AND depth = 2;

UPDATE fiches SET closing_note = 'Action menée à son terme (données de mesure).',
                  closed_at = '2024-06-30T00:00:00Z'
WHERE status IN ('achevee', 'abandonnee')
  AND node_id IN (SELECT id FROM nodes WHERE plan_id = (SELECT plan FROM bench));

-- pilots (structures), communes, impact domains
INSERT INTO fiche_pilots (node_id, actor_id)
SELECT f.node_id, (SELECT MIN(a.id) FROM actors a WHERE a.id % 20 = f.node_id % 20)
FROM fiches f JOIN nodes n ON n.id = f.node_id WHERE n.plan_id = (SELECT plan FROM bench);

INSERT INTO fiche_communes (node_id, commune)
SELECT f.node_id, (SELECT MIN(c.code) FROM communes c WHERE c.departement = '26'
                   AND CAST(c.code AS INTEGER) % 40 = f.node_id % 40)
FROM fiches f JOIN nodes n ON n.id = f.node_id
WHERE n.plan_id = (SELECT plan FROM bench) AND f.node_id % 3 = 0;

INSERT INTO fiche_impacts (node_id, domain)
SELECT f.node_id, (SELECT slug FROM impact_domains WHERE position = 1 + f.node_id % 7)
FROM fiches f JOIN nodes n ON n.id = f.node_id WHERE n.plan_id = (SELECT plan FROM bench);

-- the indicators of the référentiel used here
WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 10)
INSERT INTO indicators (name, definition, unit, kind, value_type, direction, shared, created_at,
                        updated_at)
SELECT 'Indicateur de mesure ' || i, 'Indicateur généré pour le banc d''essai.',
       CASE WHEN i % 2 THEN 'familles' ELSE 'personnes' END,
       CASE WHEN i % 3 = 0 THEN 'impact' ELSE 'realisation' END, 'number',
       CASE WHEN i % 4 = 0 THEN 'down' ELSE 'up' END, 1,
       '2021-01-01T00:00:00Z', '2021-01-01T00:00:00Z' FROM r;

CREATE TEMP TABLE ref AS SELECT MIN(id) AS first FROM indicators
  WHERE name LIKE 'Indicateur de mesure %';

-- one indicator per fiche, a second one for 50 of them: 250
INSERT INTO fiche_indicators (node_id, indicator_id, baseline_value, baseline_date, frequency)
SELECT f.node_id, (SELECT first FROM ref) + f.node_id % 10, 100 + f.node_id % 50, '2021-01-01',
       'quarterly'
FROM fiches f JOIN nodes n ON n.id = f.node_id WHERE n.plan_id = (SELECT plan FROM bench);

INSERT INTO fiche_indicators (node_id, indicator_id, baseline_value, baseline_date, frequency)
SELECT f.node_id, (SELECT first FROM ref) + (f.node_id + 5) % 10, 40 + f.node_id % 30,
       '2021-01-01', 'quarterly'
FROM fiches f JOIN nodes n ON n.id = f.node_id
WHERE n.plan_id = (SELECT plan FROM bench)
  AND f.node_id IN (SELECT node_id FROM fiches f2 JOIN nodes n2 ON n2.id = f2.node_id
                    WHERE n2.plan_id = (SELECT plan FROM bench) ORDER BY node_id LIMIT 50);

-- yearly targets 2021..2025: +10 % a year (or −5 % for indicators whose good is down)
WITH RECURSIVE y(yr) AS (SELECT 2021 UNION ALL SELECT yr + 1 FROM y WHERE yr < 2025)
INSERT INTO indicator_targets (fiche_indicator_id, year, value)
SELECT fi.id, y.yr,
       CASE WHEN i.direction = 'down' THEN fi.baseline_value * (1 - 0.05 * (y.yr - 2020))
            ELSE fi.baseline_value * (1 + 0.10 * (y.yr - 2020)) END
FROM fiche_indicators fi JOIN indicators i ON i.id = fi.indicator_id
JOIN nodes n ON n.id = fi.node_id, y
WHERE n.plan_id = (SELECT plan FROM bench);

-- 20 quarterly measurements from 2021-03-31 to 2025-12-31: 250 × 20 = 5,000
WITH RECURSIVE q(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM q WHERE k < 19)
INSERT INTO measurements (fiche_indicator_id, measured_on, value, source, entered_at, is_demo)
SELECT fi.id,
       date('2021-01-01', '+' || (3 * (q.k + 1)) || ' months', '-1 day'),
       fi.baseline_value * (1 + (CASE WHEN i.direction = 'down' THEN -0.012 ELSE 0.025 END)
                                * (q.k + 1) * (0.7 + (fi.id % 7) / 10.0)),
       'banc d''essai', '2025-12-31T00:00:00Z', 1
FROM fiche_indicators fi JOIN indicators i ON i.id = fi.indicator_id
JOIN nodes n ON n.id = fi.node_id, q
WHERE n.plan_id = (SELECT plan FROM bench);

-- 800 audited progress changes over the last year (4 per fiche)
WITH RECURSIVE c(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM c WHERE k < 3)
INSERT INTO audit_log (at, user_id, origin, action, entity, entity_id, before_json, after_json)
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || ((f.node_id * 7 + c.k * 90) % 360) || ' days'),
       (SELECT id FROM users WHERE email = 'coordination@demo.maillage.fr'), 'web', 'update',
       'fiche', CAST(f.node_id AS TEXT),
       '{"title":"x","status":"en_cours","progress":"peu_engagee"}',
       '{"title":"x","status":"en_cours","progress":"bien_engagee"}'
FROM fiches f JOIN nodes n ON n.id = f.node_id, c WHERE n.plan_id = (SELECT plan FROM bench);

SELECT plan FROM bench;
COMMIT;
