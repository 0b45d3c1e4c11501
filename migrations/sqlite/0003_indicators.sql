-- Indicators: the shared référentiel, the indicators of each fiche with baseline, targets and
-- expected frequency, and their measurements ("ce qui est fait" / "ce que cela transforme").

CREATE TABLE indicators (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  definition TEXT NOT NULL DEFAULT '',
  unit TEXT NOT NULL DEFAULT '',                 -- "familles", "%", "places"…
  kind TEXT NOT NULL CHECK (kind IN ('realisation', 'impact')),
  value_type TEXT NOT NULL DEFAULT 'number' CHECK (value_type IN ('number', 'qualitative')),
  impact_domain TEXT REFERENCES impact_domains(slug),
  source TEXT NOT NULL DEFAULT '',               -- where the figures come from
  direction TEXT NOT NULL DEFAULT 'up' CHECK (direction IN ('up', 'down')),  -- which way is good
  shared INTEGER NOT NULL DEFAULT 1,             -- 1: in the référentiel; 0: one fiche's own
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX indicators_by_kind ON indicators(shared, kind);

CREATE TABLE fiche_indicators (
  id INTEGER PRIMARY KEY,
  node_id INTEGER NOT NULL REFERENCES fiches(node_id) ON DELETE CASCADE,
  indicator_id INTEGER NOT NULL REFERENCES indicators(id),
  baseline_value REAL,
  baseline_text TEXT,
  baseline_date TEXT,                            -- YYYY-MM-DD
  frequency TEXT NOT NULL DEFAULT 'yearly'
    CHECK (frequency IN ('monthly', 'quarterly', 'half_yearly', 'yearly')),
  UNIQUE (node_id, indicator_id)
);
CREATE INDEX fiche_indicators_by_indicator ON fiche_indicators(indicator_id);

CREATE TABLE indicator_targets (
  fiche_indicator_id INTEGER NOT NULL REFERENCES fiche_indicators(id) ON DELETE CASCADE,
  year INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (fiche_indicator_id, year)
);

CREATE TABLE measurements (
  id INTEGER PRIMARY KEY,
  fiche_indicator_id INTEGER NOT NULL REFERENCES fiche_indicators(id) ON DELETE CASCADE,
  measured_on TEXT NOT NULL,                     -- YYYY-MM-DD
  value REAL,                                    -- number indicators
  text_value TEXT,                               -- qualitative indicators
  level INTEGER CHECK (level BETWEEN 1 AND 4),   -- qualitative level
  source TEXT NOT NULL DEFAULT '',
  comment TEXT NOT NULL DEFAULT '',
  entered_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  entered_at TEXT NOT NULL,
  is_demo INTEGER NOT NULL DEFAULT 0,
  CHECK (value IS NOT NULL OR text_value IS NOT NULL)
);
CREATE INDEX measurements_by_indicator ON measurements(fiche_indicator_id, measured_on);
