-- Plans and fiches-actions: the fiche attached to a node, its people, money, impacts, links,
-- comments; proposals and the yearly cycle; invitations to a plan; full-text search.

-- Nodes can be archived (a refused proposal) without losing their history.
ALTER TABLE nodes ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;

-- A fiche-action is a node with a fiche row (1:1).
CREATE TABLE fiches (
  node_id INTEGER PRIMARY KEY REFERENCES nodes(id) ON DELETE CASCADE,
  status TEXT NOT NULL DEFAULT 'proposee'
    CHECK (status IN ('proposee', 'retenue', 'en_cours', 'achevee', 'abandonnee', 'ajournee')),
  progress TEXT NOT NULL DEFAULT 'non_engagee'
    CHECK (progress IN ('non_engagee', 'peu_engagee', 'bien_engagee', 'achevee')),
  expected_results TEXT NOT NULL DEFAULT '',   -- Markdown
  human_means TEXT NOT NULL DEFAULT '',        -- Markdown
  start_date TEXT,                             -- YYYY-MM-DD
  end_date TEXT,
  closing_note TEXT NOT NULL DEFAULT '',       -- required when achevée or abandonnée
  closed_at TEXT,
  progress_updated_at TEXT,                    -- last progress report by a pilot
  is_demo INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX fiches_by_status ON fiches(status);

-- Pilots: people (accounts) and structures; partners: structures.
CREATE TABLE fiche_pilots (
  id INTEGER PRIMARY KEY,
  node_id INTEGER NOT NULL REFERENCES fiches(node_id) ON DELETE CASCADE,
  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
  actor_id INTEGER REFERENCES actors(id) ON DELETE CASCADE,
  CHECK ((user_id IS NULL) <> (actor_id IS NULL))
);
CREATE UNIQUE INDEX fiche_pilots_unique ON fiche_pilots(node_id, COALESCE(user_id, 0), COALESCE(actor_id, 0));
CREATE INDEX fiche_pilots_by_user ON fiche_pilots(user_id);

CREATE TABLE fiche_partners (
  node_id INTEGER NOT NULL REFERENCES fiches(node_id) ON DELETE CASCADE,
  actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
  PRIMARY KEY (node_id, actor_id)
);

CREATE TABLE fiche_publics (
  node_id INTEGER NOT NULL REFERENCES fiches(node_id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  PRIMARY KEY (node_id, label)
);

-- No row: the fiche covers the whole plan territory.
CREATE TABLE fiche_communes (
  node_id INTEGER NOT NULL REFERENCES fiches(node_id) ON DELETE CASCADE,
  commune TEXT NOT NULL REFERENCES communes(code),
  PRIMARY KEY (node_id, commune)
);

CREATE TABLE budget_lines (
  id INTEGER PRIMARY KEY,
  node_id INTEGER NOT NULL REFERENCES fiches(node_id) ON DELETE CASCADE,
  year INTEGER,
  label TEXT NOT NULL,
  amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
  funder_actor_id INTEGER REFERENCES actors(id) ON DELETE SET NULL,
  funder_name TEXT NOT NULL DEFAULT ''         -- when the funder is not in the directory
);
CREATE INDEX budget_lines_by_node ON budget_lines(node_id);

-- The 7 impact domains of the Ardèche evaluation framework ("ce que cela transforme").
CREATE TABLE impact_domains (
  slug TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  position INTEGER NOT NULL
);
INSERT INTO impact_domains (slug, label, position) VALUES
  ('cohesion-sociale-territoriale', 'Cohésion sociale et territoriale', 1),
  ('pertinence-action-institutionnelle', 'Pertinence de l''action institutionnelle', 2),
  ('transition-ecologique', 'Transition écologique', 3),
  ('reduction-precarite-economique', 'Réduction de la précarité économique', 4),
  ('parcours-de-vie', 'Parcours de vie', 5),
  ('pouvoir-d-agir', 'Pouvoir d''agir', 6),
  ('lien-social', 'Lien social', 7);

CREATE TABLE fiche_impacts (
  node_id INTEGER NOT NULL REFERENCES fiches(node_id) ON DELETE CASCADE,
  domain TEXT NOT NULL REFERENCES impact_domains(slug),
  PRIMARY KEY (node_id, domain)
);

CREATE TABLE fiche_links (
  id INTEGER PRIMARY KEY,
  node_id INTEGER NOT NULL REFERENCES fiches(node_id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  url TEXT NOT NULL
);

CREATE TABLE comments (
  id INTEGER PRIMARY KEY,
  node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
  body TEXT NOT NULL,                           -- Markdown
  created_at TEXT NOT NULL
);
CREATE INDEX comments_by_node ON comments(node_id, created_at);

-- The yearly cycle: a proposal (a fiche in status 'proposee'), the COTECH opinion, the COPIL
-- arbitration, then the year's annex.
CREATE TABLE proposals (
  id INTEGER PRIMARY KEY,
  plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  node_id INTEGER NOT NULL UNIQUE REFERENCES fiches(node_id) ON DELETE CASCADE,
  year INTEGER NOT NULL,                        -- the annex year it is proposed for
  proposed_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  proposed_at TEXT NOT NULL,
  cotech_opinion TEXT CHECK (cotech_opinion IN ('favorable', 'reserve', 'defavorable')),
  cotech_date TEXT,
  cotech_comment TEXT NOT NULL DEFAULT '',
  copil_decision TEXT CHECK (copil_decision IN ('retenue', 'ajournee', 'refusee')),
  copil_date TEXT,
  copil_comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX proposals_by_plan ON proposals(plan_id, year);

-- A closed year: its annex is frozen as a copy of what was voted.
CREATE TABLE annexes (
  plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  year INTEGER NOT NULL,
  closed_at TEXT NOT NULL,
  closed_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  PRIMARY KEY (plan_id, year)
);

CREATE TABLE annex_items (
  plan_id INTEGER NOT NULL,
  year INTEGER NOT NULL,
  position INTEGER NOT NULL,
  node_id INTEGER,                              -- may since have been deleted
  number TEXT NOT NULL,
  title TEXT NOT NULL,
  parent_title TEXT NOT NULL DEFAULT '',
  pilots TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  progress TEXT NOT NULL,
  is_new INTEGER NOT NULL DEFAULT 0,            -- retained by this year's COPIL
  PRIMARY KEY (plan_id, year, position),
  FOREIGN KEY (plan_id, year) REFERENCES annexes(plan_id, year) ON DELETE CASCADE
);

-- Invitations to join a plan: the link carries a token whose hash only is stored.
CREATE TABLE invitations (
  token_hash TEXT PRIMARY KEY,
  plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('coordinator', 'pilot', 'partner', 'reader')),
  invited_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  accepted_at TEXT
);

-- Full-text search over plans and nodes, accents and case folded. SQLite FTS5 here; the
-- PostgreSQL migration uses a tsvector with unaccent and the French configuration instead.
CREATE VIRTUAL TABLE search_index USING fts5(
  kind UNINDEXED, ref UNINDEXED, plan_id UNINDEXED, title, body,
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER search_plans_ai AFTER INSERT ON plans BEGIN
  INSERT INTO search_index (kind, ref, plan_id, title, body)
  VALUES ('plan', new.id, new.id, new.title, new.description);
END;
CREATE TRIGGER search_plans_au AFTER UPDATE OF title, description ON plans BEGIN
  DELETE FROM search_index WHERE kind = 'plan' AND ref = old.id;
  INSERT INTO search_index (kind, ref, plan_id, title, body)
  VALUES ('plan', new.id, new.id, new.title, new.description);
END;
CREATE TRIGGER search_plans_ad AFTER DELETE ON plans BEGIN
  DELETE FROM search_index WHERE plan_id = old.id;
END;
CREATE TRIGGER search_nodes_ai AFTER INSERT ON nodes BEGIN
  INSERT INTO search_index (kind, ref, plan_id, title, body)
  VALUES ('node', new.id, new.plan_id, new.title, new.description);
END;
CREATE TRIGGER search_nodes_au AFTER UPDATE OF title, description ON nodes BEGIN
  DELETE FROM search_index WHERE kind = 'node' AND ref = old.id;
  INSERT INTO search_index (kind, ref, plan_id, title, body)
  VALUES ('node', new.id, new.plan_id, new.title, new.description);
END;
CREATE TRIGGER search_nodes_ad AFTER DELETE ON nodes BEGIN
  DELETE FROM search_index WHERE kind = 'node' AND ref = old.id;
END;
INSERT INTO search_index (kind, ref, plan_id, title, body)
  SELECT 'plan', id, id, title, description FROM plans;
INSERT INTO search_index (kind, ref, plan_id, title, body)
  SELECT 'node', id, plan_id, title, description FROM nodes;
