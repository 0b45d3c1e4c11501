-- Evaluation grids: frameworks as data (a tree of items — axes, functions, criteria… — whose
-- leaves are scored on a scale with a descriptor per level), campaigns of a plan (a framework, a
-- year, the structures assessed), assessments of a structure (self-assessment or peer /
-- federation assessment) with a score and evidence per criterion, and testimonies quoted with the
-- speaker's role only (never a name). Shipped frameworks (data/grids/*.json) are loaded by the
-- application (grids_ensure_shipped), once per database, recorded in grid_shipped.

CREATE TABLE grid_frameworks (
  id INTEGER PRIMARY KEY,
  plan_id INTEGER REFERENCES plans(id) ON DELETE CASCADE,  -- NULL: shared (administrators)
  code TEXT UNIQUE,                                        -- shipped frameworks only
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  level_names TEXT NOT NULL DEFAULT '',                    -- level names, top first, one a line
  scale_min INTEGER NOT NULL DEFAULT 1,
  scale_max INTEGER NOT NULL DEFAULT 4,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  CHECK (scale_min >= 0 AND scale_max > scale_min AND scale_max <= 10)
);
CREATE INDEX grid_frameworks_by_plan ON grid_frameworks(plan_id);

CREATE TABLE grid_scale_levels (
  id INTEGER PRIMARY KEY,
  framework_id INTEGER NOT NULL REFERENCES grid_frameworks(id) ON DELETE CASCADE,
  level INTEGER NOT NULL,
  label TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  UNIQUE (framework_id, level)
);

CREATE TABLE grid_items (
  id INTEGER PRIMARY KEY,
  framework_id INTEGER NOT NULL REFERENCES grid_frameworks(id) ON DELETE CASCADE,
  parent_id INTEGER REFERENCES grid_items(id) ON DELETE CASCADE,  -- NULL: top level
  position INTEGER NOT NULL,
  label TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT ''
);
CREATE INDEX grid_items_by_framework ON grid_items(framework_id, parent_id, position);
CREATE INDEX grid_items_by_parent ON grid_items(parent_id);

CREATE TABLE grid_shipped (
  code TEXT PRIMARY KEY,
  loaded_at TEXT NOT NULL
);

CREATE TABLE grid_campaigns (
  id INTEGER PRIMARY KEY,
  framework_id INTEGER NOT NULL REFERENCES grid_frameworks(id),
  plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX grid_campaigns_by_plan ON grid_campaigns(plan_id, year);
CREATE INDEX grid_campaigns_by_framework ON grid_campaigns(framework_id);

CREATE TABLE grid_campaign_actors (
  id INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL REFERENCES grid_campaigns(id) ON DELETE CASCADE,
  actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
  ambassador INTEGER NOT NULL DEFAULT 0 CHECK (ambassador IN (0, 1)),  -- a TECS ambassador named (no name kept)
  UNIQUE (campaign_id, actor_id)
);

CREATE TABLE grid_assessments (
  id INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL REFERENCES grid_campaigns(id) ON DELETE CASCADE,
  actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('self', 'peer')),
  assessor TEXT NOT NULL DEFAULT '',                 -- an organisation, never a person
  assessed_on TEXT,                                  -- YYYY-MM-DD
  summary TEXT NOT NULL DEFAULT '',
  is_demo INTEGER NOT NULL DEFAULT 0 CHECK (is_demo IN (0, 1)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (campaign_id, actor_id, kind)
);
CREATE INDEX grid_assessments_by_actor ON grid_assessments(actor_id);

CREATE TABLE grid_scores (
  id INTEGER PRIMARY KEY,
  assessment_id INTEGER NOT NULL REFERENCES grid_assessments(id) ON DELETE CASCADE,
  item_id INTEGER NOT NULL REFERENCES grid_items(id) ON DELETE CASCADE,
  score INTEGER,                                     -- NULL: not assessed
  evidence TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL,
  UNIQUE (assessment_id, item_id)
);
CREATE INDEX grid_scores_by_item ON grid_scores(item_id);

CREATE TABLE grid_testimonies (
  id INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL REFERENCES grid_campaigns(id) ON DELETE CASCADE,
  assessment_id INTEGER REFERENCES grid_assessments(id) ON DELETE CASCADE,  -- NULL: campaign-wide
  item_id INTEGER REFERENCES grid_items(id) ON DELETE SET NULL,
  speaker_role TEXT NOT NULL
    CHECK (speaker_role IN ('elu', 'technicien', 'partenaire', 'habitant', 'autre')),
  quote TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX grid_testimonies_by_campaign ON grid_testimonies(campaign_id);
CREATE INDEX grid_testimonies_by_assessment ON grid_testimonies(assessment_id);
