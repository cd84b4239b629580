-- What each case's deadlines were counted over, as the recompute and rebuild last folded it (issue 18): the first and
-- last day (ordinals) the working-day arithmetic looked at, the profile it was folded under and the clocks it holds
-- (' a b ', padded). A calendar change of days D refolds only the open cases whose days reach D, a profile change
-- only its own cases (those with a changed clock, when only clocks' lengths changed). A case without a row here
-- (written by any other path: its row is dropped) is refolded by every change.
CREATE TABLE case_reach (
    rowid INTEGER PRIMARY KEY,  -- the case's rowid in cases
    first_day INTEGER NOT NULL,
    last_day INTEGER NOT NULL,  -- first_day > last_day: no working day counted
    profile TEXT NOT NULL,
    clocks TEXT NOT NULL
);
