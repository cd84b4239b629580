-- The sound index also holds the pairs pypinyin's phrase dictionary reads as neither per-character table does
-- (core/search_terms: 行长 -> han0zan, 行 read háng and 长 zhǎng): an older database gets its sound rows written again
-- (meta search_index = 'sounds'; LocalStore._fill_sounds), not its whole index.
INSERT INTO meta VALUES ('search_index', 'sounds') ON CONFLICT(key) DO UPDATE SET value = 'sounds'
  WHERE meta.value <> 'fill';
