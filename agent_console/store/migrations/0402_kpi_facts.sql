-- What the KPIs need of each case, one narrow row ordered by receipt (store/kpi_facts.py). Derived like the case
-- projection: refreshed from the event log (events.seq watermark in meta) before every read; delete the watermark
-- (meta kpi_facts_seq) and it is rebuilt. Same columns as kpi_queries.case_facts, plus routing, first answer, pauses.
-- (A short-lived 0401 draft of this table may exist in some databases: replace it.)
DROP TABLE IF EXISTS kpi_facts;
CREATE TABLE kpi_facts (
    received_at TEXT NOT NULL,
    id TEXT NOT NULL,
    number TEXT NOT NULL,
    status TEXT NOT NULL,
    is_open INTEGER NOT NULL,
    owner TEXT NOT NULL,
    team TEXT NOT NULL,
    department TEXT NOT NULL,
    category TEXT NOT NULL,
    closed_at TEXT,
    resolve_due TEXT,
    resolve_stopped TEXT,
    resolve_paused TEXT,
    coord_due TEXT,
    coord_stopped TEXT,
    coord_missed INTEGER,
    escalated_from TEXT,
    causes TEXT,
    outcome TEXT,
    assigned_at TEXT,     -- first routing to a department
    progress_at TEXT,     -- first progress note after it
    pauses TEXT,          -- JSON [[paused, resumed|null], ...] in the fold's order
    PRIMARY KEY (received_at, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX kpi_facts_id ON kpi_facts (id);
