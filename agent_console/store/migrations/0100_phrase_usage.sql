-- How often each phrasebook entry is used, per agent and case category, for the team lead's reports.
CREATE TABLE phrase_usage (
    entry_id TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    agent TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    last_used TEXT NOT NULL,
    PRIMARY KEY (entry_id, category, agent)
);
