-- Callers' names indexed by their sound too (issue 15: core/search_terms.sound_runs): the store writes every case's
-- search rows again from the projection the next time it opens the database.
INSERT INTO meta VALUES ('search_index', 'fill') ON CONFLICT(key) DO UPDATE SET value = excluded.value;
