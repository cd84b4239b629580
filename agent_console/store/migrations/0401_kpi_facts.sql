-- What the KPIs need of each case, in one narrow row ordered by receipt: a derived table (like the case
-- projection), brought up to date from the event log before every KPI run (store/kpi_queries.refresh_facts), so a
-- month of 100,000 cases is read without touching the wide case rows. Drop its rows and it is rebuilt.
CREATE TABLE kpi_facts (
    received_at TEXT NOT NULL,   -- UTC ISO-8601, as in cases
    id TEXT NOT NULL,
    number TEXT NOT NULL,
    status TEXT NOT NULL,
    category TEXT NOT NULL,
    department TEXT NOT NULL,
    owner TEXT NOT NULL,
    team TEXT NOT NULL,
    complexity TEXT NOT NULL,
    closed_at TEXT,
    due TEXT,                    -- the resolution clock's due (NULL while paused)
    stopped_at TEXT,             -- when the resolution clock stopped
    escalated_from TEXT,
    causes TEXT,                 -- JSON list
    assigned_at TEXT,            -- first routing
    answered_at TEXT,            -- the coordinator's first answer after it
    pauses TEXT,                 -- JSON [[paused, resumed|null], …]
    satisfaction TEXT,           -- JSON of the latest satisfaction follow-up
    PRIMARY KEY (received_at, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX kpi_facts_id ON kpi_facts (id);
