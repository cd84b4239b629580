-- Which outbox rows the store wrote itself from events it had just validated (make_event: the payload models, the
-- event's shape): a push does not validate those again row by row (a million of them cost seconds); every other row
-- (queued before this column, sent again by `sync --retry-refused`, or written behind the store's back) keeps the
-- default and is checked before sending (sync/engine.py). The centre checks every row whatever this says.
ALTER TABLE outbox ADD COLUMN checked INTEGER NOT NULL DEFAULT 0;
