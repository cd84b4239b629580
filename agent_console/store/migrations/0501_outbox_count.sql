-- The number of events waiting in the outbox, kept by the store as it queues and acknowledges them: the status line
-- reads it every two seconds, and counting a million-row outbox took 20 s from a cold disk (issue 18).
INSERT INTO counters VALUES ('outbox', (SELECT count(*) FROM outbox))
    ON CONFLICT(name) DO UPDATE SET value = excluded.value;
