-- SPIRAL participation (Council of Europe method, "Societal Progress Indicators for the
-- Responsibility of All"): the taxonomy of dimensions and components (data, editable by an
-- administrator, keywords for suggestions), workshops of a plan (counts of participants only,
-- never names), the criteria written on post-its (one question each: bien-être, mal-être,
-- capacités), their classification into a component validated by a coordinator, and the links
-- from components to the plan's orientations.

CREATE TABLE spiral_dimensions (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,               -- 'A' … 'H'
  label TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE spiral_components (
  id INTEGER PRIMARY KEY,
  dimension_id INTEGER NOT NULL REFERENCES spiral_dimensions(id) ON DELETE CASCADE,
  code TEXT NOT NULL UNIQUE,               -- 'A01', 'B00'…
  label TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  keywords TEXT NOT NULL DEFAULT '',       -- comma-separated, matched on text_fold()ed criteria
  position INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX spiral_components_by_dimension ON spiral_components(dimension_id, position);

CREATE TABLE spiral_workshops (
  id INTEGER PRIMARY KEY,
  plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('plateforme', 'groupe_pairs', 'reunion_ouverte')),
  group_description TEXT NOT NULL,         -- "agriculteurs", "jeunes mamans du foyer de l'enfance"
  group_type TEXT NOT NULL,                -- one of an allow-list in src/spiral.c
  place TEXT NOT NULL DEFAULT '',
  held_on TEXT,                            -- YYYY-MM-DD
  territory_code TEXT,                     -- INSEE code of a commune or SIREN of an EPCI
  participants INTEGER NOT NULL DEFAULT 0 CHECK (participants >= 0),
  is_demo INTEGER NOT NULL DEFAULT 0 CHECK (is_demo IN (0, 1)),
  created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX spiral_workshops_by_plan ON spiral_workshops(plan_id, held_on);

CREATE TABLE spiral_criteria (
  id INTEGER PRIMARY KEY,
  workshop_id INTEGER NOT NULL REFERENCES spiral_workshops(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  text TEXT NOT NULL,
  text_key TEXT NOT NULL,                  -- normalised text (folded, punctuation trimmed)
  question TEXT NOT NULL CHECK (question IN ('bien_etre', 'mal_etre', 'capacites')),
  group_approved INTEGER NOT NULL DEFAULT 0 CHECK (group_approved IN (0, 1)),
  component_id INTEGER REFERENCES spiral_components(id) ON DELETE SET NULL,
  suggested_component_id INTEGER REFERENCES spiral_components(id) ON DELETE SET NULL,
  validated_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  validated_at TEXT,
  is_demo INTEGER NOT NULL DEFAULT 0 CHECK (is_demo IN (0, 1)),
  created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX spiral_criteria_by_workshop ON spiral_criteria(workshop_id, position);
CREATE INDEX spiral_criteria_by_component ON spiral_criteria(component_id);
CREATE INDEX spiral_criteria_by_key ON spiral_criteria(question, text_key);

CREATE TABLE spiral_component_links (
  id INTEGER PRIMARY KEY,
  plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  component_id INTEGER NOT NULL REFERENCES spiral_components(id) ON DELETE CASCADE,
  node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  UNIQUE (component_id, node_id)
);
CREATE INDEX spiral_component_links_by_plan ON spiral_component_links(plan_id);
