-- Who unmasked personal data in an export, and when (DOMAIN.md §8).
CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL,
                        action TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX cases_department ON cases (department, is_open);
