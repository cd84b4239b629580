-- Events the centre refused (with its reason): kept here for the status line, never pushed again.
CREATE TABLE sync_refused (event_id TEXT PRIMARY KEY, reason TEXT NOT NULL, at TEXT NOT NULL);
