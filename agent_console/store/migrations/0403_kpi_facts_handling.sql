-- Handling time per closed case (calendar and working seconds, paused time out), computed when the fact row is
-- (re)built with the caller's calendar; the watermark is dropped so every row is rebuilt once with them.
ALTER TABLE kpi_facts ADD COLUMN handling_calendar_s REAL;
ALTER TABLE kpi_facts ADD COLUMN handling_working_s REAL;
DELETE FROM meta WHERE key IN ('kpi_facts_seq', 'kpi_facts_shape', 'kpi_facts_calendar');
