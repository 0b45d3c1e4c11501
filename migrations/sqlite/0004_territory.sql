-- Territory, actors and the observatory of needs: the directory of structures in full, contacts
-- (personal data, kept minimal), networks, services and capacities, population by age band, and
-- the needs recorded on the territory with the fiches-actions that answer them.

-- Structures: more of what a directory needs. Coordinates placed by rule are flagged.
ALTER TABLE actors ADD COLUMN opening_hours TEXT NOT NULL DEFAULT '';
ALTER TABLE actors ADD COLUMN email TEXT;              -- the structure's own address, not a person's
ALTER TABLE actors ADD COLUMN phone TEXT;
ALTER TABLE actors ADD COLUMN source TEXT NOT NULL DEFAULT '';   -- 'demo', 'import csv', 'data·inclusion'…
ALTER TABLE actors ADD COLUMN external_id TEXT;        -- id in the source (data·inclusion…)
ALTER TABLE communes ADD COLUMN coordinates_placed INTEGER NOT NULL DEFAULT 0;  -- 1: by rule, not measured

CREATE TABLE actor_thematics (
  actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
  tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  PRIMARY KEY (actor_id, tag_id)
);
CREATE TABLE actor_competences (
  actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  search_label TEXT NOT NULL,                          -- text_fold(label), for suggestions
  PRIMARY KEY (actor_id, label)
);
CREATE INDEX actor_competences_by_label ON actor_competences(search_label);
CREATE TABLE actor_area (                              -- communes served; none: its own commune
  actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
  commune TEXT NOT NULL REFERENCES communes(code),
  PRIMARY KEY (actor_id, commune)
);

-- People attached to structures: the minimum, with the legal basis; exportable and erasable.
CREATE TABLE contacts (
  id INTEGER PRIMARY KEY,
  actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT '',
  email TEXT,
  phone TEXT,
  legal_basis TEXT NOT NULL CHECK (legal_basis IN ('consentement', 'interet_legitime')),
  basis_note TEXT NOT NULL DEFAULT '',                 -- how and when consent was given, or why
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX contacts_by_actor ON contacts(actor_id);

CREATE TABLE networks (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  thematic_tag_id INTEGER REFERENCES tags(id) ON DELETE SET NULL,
  coordinator_actor_id INTEGER REFERENCES actors(id) ON DELETE SET NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE network_members (
  network_id INTEGER NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
  actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
  PRIMARY KEY (network_id, actor_id)
);

-- Offer: services and equipments with their capacities.
CREATE TABLE services (
  id INTEGER PRIMARY KEY,
  actor_id INTEGER REFERENCES actors(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,                                  -- short code: EAJE, ALSH, LAEP, FRANCE_SERVICES…
  name TEXT NOT NULL,
  commune TEXT NOT NULL REFERENCES communes(code),
  latitude REAL,                                       -- NULL: the commune's point
  longitude REAL,
  capacity REAL NOT NULL DEFAULT 0 CHECK (capacity >= 0),   -- places (or the chosen supply unit)
  opening_days INTEGER CHECK (opening_days BETWEEN 0 AND 366),
  hours TEXT NOT NULL DEFAULT '',
  atypical_hours INTEGER NOT NULL DEFAULT 0,           -- early, late, weekend
  age_min INTEGER,                                     -- years
  age_max INTEGER,
  publics TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX services_by_kind ON services(kind, commune);

-- Population by commune and age band ('0-2', '3-5', '6-11', '12-17', '18-24', '25-59', '60-74', '75+').
CREATE TABLE population_bands (
  commune TEXT NOT NULL REFERENCES communes(code) ON DELETE CASCADE,
  band TEXT NOT NULL CHECK (band IN ('0-2', '3-5', '6-11', '12-17', '18-24', '25-59', '60-74', '75+')),
  population REAL NOT NULL CHECK (population >= 0),
  year INTEGER,
  source TEXT NOT NULL DEFAULT '',                     -- 'demo (dérivée)' for the demo
  PRIMARY KEY (commune, band)
);

-- An imported origin–destination matrix of travel times (from a road router).
CREATE TABLE travel_times (
  origin TEXT NOT NULL REFERENCES communes(code) ON DELETE CASCADE,
  destination TEXT NOT NULL,                           -- a service id ('s:42') or a commune code
  minutes REAL NOT NULL CHECK (minutes >= 0),
  PRIMARY KEY (origin, destination)
);

-- The observatory of needs.
CREATE TABLE needs (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL CHECK (source IN ('habitants', 'professionnels', 'statistiques', 'enquete', 'spiral')),
  thematic_tag_id INTEGER REFERENCES tags(id) ON DELETE SET NULL,
  public TEXT NOT NULL DEFAULT '',                     -- target public
  observed_on TEXT,                                    -- YYYY-MM-DD
  recorded_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  priority INTEGER NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 3),   -- 1 high
  status TEXT NOT NULL DEFAULT 'identifie'
    CHECK (status IN ('identifie', 'qualifie', 'priorise', 'couvert', 'abandonne')),
  evidence TEXT NOT NULL DEFAULT '',                   -- Markdown: links, figures
  moderation TEXT NOT NULL DEFAULT 'publie' CHECK (moderation IN ('a_moderer', 'publie', 'rejete')),
  search_title TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX needs_by_status ON needs(status, moderation);
CREATE TABLE need_communes (
  need_id INTEGER NOT NULL REFERENCES needs(id) ON DELETE CASCADE,
  commune TEXT NOT NULL REFERENCES communes(code),
  PRIMARY KEY (need_id, commune)
);
CREATE TABLE need_fiches (
  need_id INTEGER NOT NULL REFERENCES needs(id) ON DELETE CASCADE,
  node_id INTEGER NOT NULL REFERENCES fiches(node_id) ON DELETE CASCADE,
  PRIMARY KEY (need_id, node_id)
);
CREATE INDEX need_fiches_by_node ON need_fiches(node_id);
