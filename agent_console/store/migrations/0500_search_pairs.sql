-- Search at any length (issue 18): single characters and overlapping pairs (core/search_terms.py) instead of
-- trigrams, which could not hold the two-character names and words most searches are. The store fills the new
-- index from the projection the first time it opens the database (meta search_index = 'fill').
DROP TABLE IF EXISTS cases_fts;
CREATE VIRTUAL TABLE cases_search USING fts5 (who1, who2, body1, body2, tel, scope, tokenize = 'ascii');
INSERT INTO meta VALUES ('search_index', 'fill') ON CONFLICT(key) DO UPDATE SET value = excluded.value;
