-- Recorded satisfaction follow-ups folded into each case's KPI facts (store/kpi_facts.py): a follow-up is an event
-- on its case, so the row is rebuilt when one is recorded, and a month's satisfaction figures come from the same
-- narrow index scans instead of looking up every follow-up's case in the wide rows.
--   sat_n: follow-ups with a recorded result; sat_satisfied: of them "satisfied"; sat_score: the sum of their
--   (attitude + professionalism + timeliness) / 3. kpi_facts.SURVEYED / SATISFIED flag the cases with any.
ALTER TABLE kpi_facts ADD COLUMN sat_n INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_facts ADD COLUMN sat_satisfied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_facts ADD COLUMN sat_score REAL;
DROP INDEX IF EXISTS kpi_facts_month;
CREATE INDEX kpi_facts_month ON kpi_facts (received_at, number, flags, late_from_us, coord_ok_until_us, response_s,
                                           handling_calendar_s, handling_working_s, category, owner, department,
                                           team, causes, sat_n, sat_satisfied, sat_score);
DELETE FROM meta WHERE key IN ('kpi_facts_seq', 'kpi_facts_shape', 'kpi_facts_calendar');
