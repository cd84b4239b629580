-- Pulled rows that did not parse or fold (issue 13): kept aside with the reason, never applied, shown to the lead.
CREATE TABLE sync_quarantine (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT,
    seq INTEGER,
    reason TEXT NOT NULL,
    row TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL
);
