-- Governance: instances (COPIL, COTECH, commissions, networks) of a plan or a network, their
-- members, meetings with agenda, attendance, minutes, numbered decisions and follow-ups
-- ("le pas d'après"), so that the collective memory is kept and recalled at the next meeting.

CREATE TABLE instances (
  id INTEGER PRIMARY KEY,
  plan_id INTEGER REFERENCES plans(id) ON DELETE CASCADE,
  network_id INTEGER REFERENCES networks(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('copil', 'cotech', 'commission', 'reseau', 'autre')),
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  CHECK (plan_id IS NOT NULL OR network_id IS NOT NULL)
);
CREATE INDEX instances_by_plan ON instances(plan_id);
CREATE INDEX instances_by_network ON instances(network_id);

CREATE TABLE instance_members (
  id INTEGER PRIMARY KEY,
  instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
  actor_id INTEGER REFERENCES actors(id) ON DELETE CASCADE,
  role TEXT NOT NULL DEFAULT '',
  CHECK (user_id IS NOT NULL OR actor_id IS NOT NULL)
);
CREATE INDEX instance_members_by_instance ON instance_members(instance_id);

CREATE TABLE meetings (
  id INTEGER PRIMARY KEY,
  instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  starts_at TEXT NOT NULL,                 -- ISO 8601 UTC, 'YYYY-MM-DDTHH:MM:SSZ'
  place TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'held', 'cancelled')),
  minutes TEXT NOT NULL DEFAULT '',        -- Markdown
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX meetings_by_instance ON meetings(instance_id, starts_at);

CREATE TABLE agenda_items (
  id INTEGER PRIMARY KEY,
  meeting_id INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  title TEXT NOT NULL,
  node_id INTEGER REFERENCES nodes(id) ON DELETE SET NULL,
  need_id INTEGER REFERENCES needs(id) ON DELETE SET NULL
);
CREATE INDEX agenda_items_by_meeting ON agenda_items(meeting_id, position);

CREATE TABLE attendance (
  id INTEGER PRIMARY KEY,
  meeting_id INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
  actor_id INTEGER REFERENCES actors(id) ON DELETE CASCADE,
  guest_name TEXT,
  status TEXT NOT NULL DEFAULT 'absent' CHECK (status IN ('present', 'excuse', 'absent')),
  CHECK (user_id IS NOT NULL OR actor_id IS NOT NULL OR guest_name IS NOT NULL)
);
CREATE INDEX attendance_by_meeting ON attendance(meeting_id);

CREATE TABLE decisions (
  id INTEGER PRIMARY KEY,
  meeting_id INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  text TEXT NOT NULL,
  node_id INTEGER REFERENCES nodes(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  UNIQUE (meeting_id, number)
);

CREATE TABLE follow_ups (
  id INTEGER PRIMARY KEY,
  meeting_id INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
  what TEXT NOT NULL,
  owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
  owner_text TEXT NOT NULL DEFAULT '',
  due_on TEXT,                             -- YYYY-MM-DD
  status TEXT NOT NULL DEFAULT 'ouvert' CHECK (status IN ('ouvert', 'fait', 'abandonne')),
  created_at TEXT NOT NULL,
  closed_at TEXT
);
CREATE INDEX follow_ups_by_meeting ON follow_ups(meeting_id);
