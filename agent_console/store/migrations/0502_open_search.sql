-- The open cases' own search index (issue 18): the same columns as cases_search, rows for open cases only, so the
-- open-cases screen's search walks doclists as long as the open cases, however many closed ones the database
-- holds. The store fills it from the projection when it next opens the database.
CREATE VIRTUAL TABLE open_search USING fts5 (who1, who2, body1, body2, tel, scope, tokenize = 'ascii');
INSERT INTO meta VALUES ('search_index', 'fill') ON CONFLICT(key) DO UPDATE SET value = excluded.value;
