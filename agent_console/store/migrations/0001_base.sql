-- The event log is the record: append-only, enforced by the database itself.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- local order of arrival
    id TEXT NOT NULL UNIQUE,
    case_id TEXT,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    device TEXT NOT NULL,
    at TEXT NOT NULL,
    hlc TEXT NOT NULL,
    payload TEXT NOT NULL,
    flags TEXT NOT NULL DEFAULT '[]',
    origin TEXT NOT NULL DEFAULT 'local'
);
CREATE INDEX events_case ON events (case_id, hlc);
CREATE INDEX events_kind_at ON events (kind, at);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END;

-- Events recorded here and not yet acknowledged by the centre (written in the same transaction as the event).
CREATE TABLE outbox (event_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);

-- The case projection: one row per case, rebuilt from events at will (`agent-console rebuild`).
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    is_open INTEGER NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    channel TEXT NOT NULL,
    category TEXT NOT NULL,
    complexity TEXT NOT NULL,
    owner TEXT NOT NULL,
    team TEXT NOT NULL,
    department TEXT NOT NULL,
    received_at TEXT NOT NULL,
    closed_at TEXT,
    name TEXT NOT NULL DEFAULT '',
    phone_digits TEXT NOT NULL DEFAULT '',
    next_due TEXT,          -- nearest due among running clocks, UTC ISO-8601 (sortable)
    next_clock TEXT,
    conflicts INTEGER NOT NULL DEFAULT 0,
    updated_hlc TEXT NOT NULL,
    state TEXT NOT NULL     -- the folded CaseState as JSON
);
CREATE INDEX cases_open_due ON cases (is_open, next_due);
CREATE INDEX cases_owner_due ON cases (owner, is_open, next_due);
CREATE INDEX cases_team_due ON cases (team, is_open, next_due);
CREATE INDEX cases_phone ON cases (phone_digits);
CREATE INDEX cases_received ON cases (received_at);

-- Chinese substring search needs no word segmentation with trigrams.
CREATE VIRTUAL TABLE cases_fts USING fts5 (number, name, phone, body, tokenize = 'trigram');

CREATE TABLE drafts (key TEXT PRIMARY KEY, agent TEXT NOT NULL, data TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);

CREATE TABLE enquiries (
    event_id TEXT PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, phone_digits TEXT NOT NULL,
    name TEXT NOT NULL, topic TEXT NOT NULL, answer TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE INDEX enquiries_phone ON enquiries (phone_digits);
