-- Callbacks are their own records (never a case deadline), projected from callback_* events.
CREATE TABLE callbacks (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    due TEXT NOT NULL,          -- UTC ISO-8601
    status TEXT NOT NULL,       -- pending | done | cancelled
    note TEXT NOT NULL DEFAULT '',
    attempts TEXT NOT NULL DEFAULT '[]',
    satisfaction TEXT,
    created_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX callbacks_owner_due ON callbacks (owner, status, due);
CREATE INDEX callbacks_case ON callbacks (case_id);
