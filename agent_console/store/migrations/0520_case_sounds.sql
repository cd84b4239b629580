-- Case text indexed by its sound too (issue 15: core/search_terms.sound_terms): the folded-syllable pairs of a
-- case's caller's name, facts and request, so a homophone the IME picked (理陪 for 理赔) finds the case.
-- Beside cases_search and open_search (same rowids, same scope column), not in them: an older database gets only
-- these rows written (meta search_index = 'sounds'), not its whole index again.
CREATE VIRTUAL TABLE cases_sound USING fts5 (sound, scope, tokenize = 'ascii');
CREATE VIRTUAL TABLE open_sound USING fts5 (sound, scope, tokenize = 'ascii');
INSERT INTO meta VALUES ('search_index', 'sounds') ON CONFLICT(key) DO UPDATE SET value = 'sounds'
  WHERE meta.value <> 'fill';
