-- What each case contributes to the KPIs, worked out once when its fact row is (re)built (store/kpi_facts.py), so
-- a month's figures are a few aggregate scans instead of a Python pass parsing every timestamp:
--   flags: bit set of the facts that do not depend on the moment of reading (kpi_facts.ESCALATED ... NINE_DAY);
--   late_from_us: resolution due (µs since the epoch) of a running, unpaused clock: late once "now" is past it;
--   coord_ok_until_us: coordinator due of a running clock: in time while "now" has not passed it;
--   response_s: seconds from the first routing to the first progress note after it.
-- Stored timestamps mix offsets (+08:00, Z), so "now"-dependent comparisons use these integers, not the text.
-- The watermark is dropped: every row is rebuilt once with the new columns.
ALTER TABLE kpi_facts ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_facts ADD COLUMN late_from_us INTEGER;
ALTER TABLE kpi_facts ADD COLUMN coord_ok_until_us INTEGER;
ALTER TABLE kpi_facts ADD COLUMN response_s REAL;
-- Everything a month's KPI read touches (the filters' columns included), so it scans this narrow index in receipt
-- order and never the wide rows.
CREATE INDEX kpi_facts_month ON kpi_facts (received_at, number, flags, late_from_us, coord_ok_until_us, response_s,
                                           handling_calendar_s, handling_working_s, category, owner, department,
                                           team, causes);
DELETE FROM meta WHERE key IN ('kpi_facts_seq', 'kpi_facts_shape', 'kpi_facts_calendar');
