-- The lead console: who asked to see personal data unmasked in an export, and when (DOMAIN.md §8).
-- Append-only like the event log: the record of an unmasking is never edited or deleted.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,   -- e.g. report_export
    detail TEXT NOT NULL    -- JSON: report, format, period, masked, rows
);
CREATE INDEX audit_log_action ON audit_log (action, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END;
-- Drill-downs and the department view filter the projection by department within a period.
CREATE INDEX cases_department_received ON cases (department, received_at);
