-- The foundation schema: geography, actors, accounts, plans and their tree, audit log.
-- Times are ISO-8601 UTC text; the same statements are meant to run on PostgreSQL.
--
-- search_name (communes, epcis, actors) holds text_fold(name) (src/text.c): the name lower-cased,
-- accents removed, hyphens and apostrophes as spaces ('Étoile-sur-Rhône' → 'etoile sur rhone').
-- The application writes it with the name, so that searches are plain `=` and `LIKE` on it and
-- the same SQL works on SQLite and PostgreSQL (neither folds accents the same way, if at all).

CREATE TABLE departements (
  code TEXT PRIMARY KEY,            -- INSEE code: '26', '07', '2A'…
  name TEXT NOT NULL,
  region TEXT
);

CREATE TABLE epcis (
  code TEXT PRIMARY KEY,            -- SIREN of the EPCI
  name TEXT NOT NULL,
  search_name TEXT NOT NULL DEFAULT '',   -- text_fold(name), written by the application
  kind TEXT,                        -- CC, CA, CU, METRO…
  population INTEGER
);

CREATE TABLE communes (
  code TEXT PRIMARY KEY,            -- INSEE code of the current commune
  name TEXT NOT NULL,
  search_name TEXT NOT NULL DEFAULT '',   -- text_fold(name), written by the application
  departement TEXT REFERENCES departements(code),
  epci TEXT REFERENCES epcis(code),
  population INTEGER,
  latitude REAL,
  longitude REAL,
  postal_codes TEXT NOT NULL DEFAULT ''   -- space-separated
);
CREATE INDEX communes_by_epci ON communes(epci);
CREATE INDEX communes_by_departement ON communes(departement);
CREATE INDEX communes_by_search_name ON communes(search_name);

CREATE TABLE actors (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  search_name TEXT NOT NULL DEFAULT '',   -- text_fold(name), written by the application
  kind TEXT NOT NULL,               -- caf, centre_social, evs, association…
  siret TEXT,
  address TEXT,
  commune TEXT REFERENCES communes(code),
  latitude REAL,
  longitude REAL,
  website TEXT,
  description TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX actors_by_commune ON actors(commune);
CREATE UNIQUE INDEX actors_by_name ON actors(name);
CREATE INDEX actors_by_search_name ON actors(search_name);

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'pilot', 'partner', 'reader')),
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,      -- hash of the cookie value: the token itself is never stored
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);

CREATE TABLE login_failures (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,                -- hash of the e-mail or of the client address
  at TEXT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures(key, at);

CREATE TABLE plans (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('ctg', 'schema', 'projet_social', 'autre')),
  title TEXT NOT NULL,
  start_year INTEGER,
  end_year INTEGER,
  description TEXT NOT NULL DEFAULT '',
  is_public INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- The names of a plan's levels, top to bottom (Thématique, Orientation, Objectif, Action).
CREATE TABLE plan_levels (
  plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  depth INTEGER NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (plan_id, depth)
);

CREATE TABLE plan_territory (
  plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  scope TEXT NOT NULL CHECK (scope IN ('commune', 'epci', 'departement')),
  code TEXT NOT NULL,
  PRIMARY KEY (plan_id, scope, code)
);

CREATE TABLE plan_signatories (
  plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  actor_id INTEGER NOT NULL REFERENCES actors(id),
  PRIMARY KEY (plan_id, actor_id)
);

CREATE TABLE plan_members (
  plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('coordinator', 'pilot', 'partner', 'reader')),
  PRIMARY KEY (plan_id, user_id)
);
CREATE INDEX plan_members_by_user ON plan_members(user_id);

-- Tags: the 7 CTG thematic fields (plan_id NULL), a plan's transversal threads and territories.
CREATE TABLE tags (
  id INTEGER PRIMARY KEY,
  plan_id INTEGER REFERENCES plans(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('thematique', 'fil', 'territoire')),
  slug TEXT NOT NULL,
  label TEXT NOT NULL
);
CREATE UNIQUE INDEX tags_by_slug ON tags(COALESCE(plan_id, 0), slug);

-- The plan tree: axes, orientations, objectives, fiches-actions… of any depth.
CREATE TABLE nodes (
  id INTEGER PRIMARY KEY,
  plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  parent_id INTEGER REFERENCES nodes(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,        -- order among siblings, from 1
  depth INTEGER NOT NULL,           -- 0 for the top level
  number TEXT NOT NULL,             -- '1', '1.2', '1.2.3', recomputed on every change
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX nodes_by_plan ON nodes(plan_id, depth, position);
CREATE INDEX nodes_by_parent ON nodes(parent_id, position);

CREATE TABLE node_tags (
  node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
  tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  PRIMARY KEY (node_id, tag_id)
);

-- Every write: who, when, what, before and after (JSON).
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
  origin TEXT NOT NULL,             -- 'web', 'api', 'cli'
  action TEXT NOT NULL,             -- 'create', 'update', 'delete', 'login'…
  entity TEXT NOT NULL,             -- 'plan', 'node', 'user'…
  entity_id TEXT,
  before_json TEXT,
  after_json TEXT
);
CREATE INDEX audit_by_entity ON audit_log(entity, entity_id);
CREATE INDEX audit_by_time ON audit_log(at);

INSERT INTO tags (plan_id, kind, slug, label) VALUES
  (NULL, 'thematique', 'acces-droits', 'Accès aux droits et inclusion numérique'),
  (NULL, 'thematique', 'petite-enfance', 'Petite enfance'),
  (NULL, 'thematique', 'enfance', 'Enfance'),
  (NULL, 'thematique', 'jeunesse', 'Jeunesse'),
  (NULL, 'thematique', 'parentalite', 'Parentalité'),
  (NULL, 'thematique', 'animation-vie-sociale', 'Animation de la vie sociale'),
  (NULL, 'thematique', 'logement', 'Logement');
