-- Governance, second part: decisions linked to the COPIL arbitration of a proposal of the
-- yearly cycle, personal calendar feeds (a secret token per user, stored hashed), and in-app
-- notifications (a follow-up assigned to me, a meeting I am invited to, a measurement overdue).

-- A decision of a COPIL meeting may arbitrate a proposal: the arbitration it recorded.
ALTER TABLE decisions ADD COLUMN proposal_id INTEGER REFERENCES proposals(id) ON DELETE SET NULL;
ALTER TABLE decisions ADD COLUMN proposal_decision TEXT
  CHECK (proposal_decision IN ('retenue', 'ajournee', 'refusee'));
CREATE INDEX decisions_by_proposal ON decisions(proposal_id);

-- An agenda item may be about an indicator of a fiche (its trajectory shown in the meeting pack).
ALTER TABLE agenda_items ADD COLUMN fiche_indicator_id INTEGER
  REFERENCES fiche_indicators(id) ON DELETE SET NULL;

-- One personal calendar feed per user: only the hash of its secret token is stored.
CREATE TABLE calendar_tokens (
  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  used_at TEXT
);

-- Notifications, generated lazily from the data (ref_key makes each one unique per user).
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('follow_up', 'meeting', 'overdue')),
  ref_key TEXT NOT NULL,
  title TEXT NOT NULL,
  href TEXT NOT NULL,
  created_at TEXT NOT NULL,
  read_at TEXT,
  emailed_at TEXT,                         -- sent by e-mail (only when SMTP is configured)
  UNIQUE (user_id, ref_key)
);
CREATE INDEX notifications_unread ON notifications(user_id, read_at);

-- When the notifications of a user were last generated (at most every few minutes).
CREATE TABLE notification_state (
  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  refreshed_at TEXT NOT NULL
);
