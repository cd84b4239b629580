-- The whole list nearest due first (`case list` without --open, a lead's view of every case): the open/owner/team
-- indexes order by next_due only under an is_open constraint, so with none SQLite sorted every case to hand back
-- the first 20 (15 s at a million). Partial: only cases with a running clock are in it (a few per cent of them all).
CREATE INDEX cases_due ON cases (next_due, received_at DESC) WHERE next_due IS NOT NULL;
