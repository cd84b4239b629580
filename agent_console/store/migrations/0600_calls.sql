-- The caller log: one row per call and agent, projected from call_* events (which belong to no case).
CREATE TABLE calls (
    agent TEXT NOT NULL,
    call_id TEXT NOT NULL,
    direction TEXT NOT NULL DEFAULT '',   -- in | out
    remote TEXT NOT NULL DEFAULT '',      -- the other party's number as given ('' = withheld)
    remote_digits TEXT NOT NULL DEFAULT '',
    local TEXT NOT NULL DEFAULT '',
    queue TEXT NOT NULL DEFAULT '',
    team TEXT NOT NULL DEFAULT '',
    rang_at TEXT,                         -- UTC ISO-8601
    answered_at TEXT,
    ended_at TEXT,
    cause TEXT NOT NULL DEFAULT '',
    case_id TEXT,
    PRIMARY KEY (agent, call_id)
);
CREATE INDEX calls_rang ON calls (rang_at);
CREATE INDEX calls_remote ON calls (remote_digits, rang_at);
