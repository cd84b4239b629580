-- The central store in PostgreSQL: installed (and re-installed safely) by `agent-console central init URL`, which
-- runs this file as the dedicated owner role (ac_owner by default: NOLOGIN, not a superuser), after creating that role,
-- the schema (owned by it) and the group roles. Agents and leads log in with their own roles (members of ac_agent /
-- ac_lead). They write only through ac.push_staged() / ac.push(), which stamp the actor from the session, check every
-- row's shape and who may do what, and refuse the rest with a reason; they read only their teams' events (row-level
-- security). Nobody can update or delete an event.
--
-- Every SECURITY DEFINER function here follows PostgreSQL's guidance for writing them safely: search_path is pinned to
-- pg_catalog, ac, pg_temp (pg_temp last, so no temporary object of the caller can shadow a table, a type or a
-- function: functions and operators are never looked up in pg_temp at all), every object of the centre is named with
-- its schema, the one temporary object used (the push stage) is created by the function and refused when a table of
-- that name exists that the centre's owner did not create, EXECUTE is revoked from PUBLIC and granted to the group
-- roles one function at a time, and arguments a caller could bend (the drift bound) are clamped.

CREATE TABLE IF NOT EXISTS ac.members (
    login text PRIMARY KEY,
    role text NOT NULL CHECK (role IN ('agent', 'lead')),
    teams text[] NOT NULL
);

-- One row per team: the last ordering number (tseq) handed out in that team. Taking its row lock inside the pushing
-- transaction serializes the team's pushers, so a team's numbers become visible in the order they were assigned and
-- a reader following tseq > its cursor for the team never skips a late commit. Teams never wait on each other: a
-- push locks only the rows of the login's own teams (in team order, so two leads cannot deadlock).
CREATE TABLE IF NOT EXISTS ac.team_counters (team text PRIMARY KEY, last bigint NOT NULL);
-- seq only identifies a row (the key; quarantined rows are named by it): it is handed out without a lock, so it
-- says nothing about the order of commits
CREATE SEQUENCE IF NOT EXISTS ac.event_seq;

CREATE TABLE IF NOT EXISTS ac.case_teams (case_id text PRIMARY KEY, team text NOT NULL);

CREATE TABLE IF NOT EXISTS ac.events (
    seq bigint PRIMARY KEY,
    id text NOT NULL UNIQUE,
    case_id text,
    kind text NOT NULL,
    actor text NOT NULL,
    device text NOT NULL,
    at timestamptz NOT NULL,
    hlc text NOT NULL,
    payload jsonb NOT NULL,
    flags jsonb NOT NULL DEFAULT '[]',
    team text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    tseq bigint
);
-- A centre installed before the per-team numbering: number every team's events in their old (global) order, once,
-- with the append-only trigger held off inside this install's transaction; then the old single counter goes.
ALTER TABLE ac.events ADD COLUMN IF NOT EXISTS tseq bigint;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM ac.events WHERE tseq IS NULL) THEN
        ALTER TABLE ac.events DISABLE TRIGGER USER;
        UPDATE ac.events e SET tseq = n.tseq
          FROM (SELECT seq, row_number() OVER (PARTITION BY team ORDER BY seq) AS tseq FROM ac.events) n
         WHERE n.seq = e.seq AND e.tseq IS NULL;
        ALTER TABLE ac.events ENABLE TRIGGER USER;
    END IF;
END
$$;
ALTER TABLE ac.events ALTER COLUMN tseq SET NOT NULL;
INSERT INTO ac.team_counters (team, last)
SELECT team, max(tseq) FROM ac.events GROUP BY team
ON CONFLICT (team) DO UPDATE SET last = greatest(ac.team_counters.last, excluded.last);
SELECT setval('ac.event_seq', greatest((SELECT max(seq) FROM ac.events), (SELECT last_value FROM ac.event_seq), 1));
DROP TABLE IF EXISTS ac.counter;
-- the pull reads each team in its order; the (team, seq) index of the single counter is no longer read
CREATE UNIQUE INDEX IF NOT EXISTS events_team_tseq ON ac.events (team, tseq);
DROP INDEX IF EXISTS ac.events_team_seq;
-- who asked for a decision on a case (a lead may not decide their own request): few rows, a small partial index
CREATE INDEX IF NOT EXISTS events_requests ON ac.events (case_id, kind, hlc)
    WHERE kind IN ('extension_requested', 'closure_proposed');
-- the events stamped by a clock running ahead of the centre, by case (few rows): a later action on the same case that
-- they override is flagged for the lead (ac.push_staged)
CREATE INDEX IF NOT EXISTS events_skewed ON ac.events (case_id) WHERE flags ? 'clock_skew';

CREATE OR REPLACE FUNCTION ac.refuse_change() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, ac, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'central events are append-only: % refused', TG_OP;
END
$$;
DROP TRIGGER IF EXISTS events_append_only ON ac.events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON ac.events
    FOR EACH ROW EXECUTE FUNCTION ac.refuse_change();
DROP TRIGGER IF EXISTS events_no_truncate ON ac.events;
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON ac.events
    FOR EACH STATEMENT EXECUTE FUNCTION ac.refuse_change();

CREATE OR REPLACE FUNCTION ac.my_teams() RETURNS text[]
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, ac, pg_temp AS $$
    SELECT coalesce((SELECT m.teams FROM ac.members m WHERE m.login = session_user), '{}'::text[])
$$;

CREATE OR REPLACE FUNCTION ac.whoami(OUT login text, OUT role text, OUT teams text[])
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, ac, pg_temp AS $$
    SELECT session_user::text, m.role, m.teams FROM ac.members m WHERE m.login = session_user
$$;

-- The roster a console may give a case to: the members of the caller's teams, each with only the teams it shares with
-- the caller (nothing of other teams leaks).
CREATE OR REPLACE FUNCTION ac.team_members(OUT login text, OUT role text, OUT teams text[]) RETURNS SETOF record
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, ac, pg_temp AS $$
    SELECT m.login, m.role,
           ARRAY(SELECT u.t FROM pg_catalog.unnest(m.teams) AS u(t) WHERE u.t = ANY (ac.my_teams()) ORDER BY u.t)
      FROM ac.members m WHERE m.teams && ac.my_teams() ORDER BY m.login
$$;

-- The push stage is this session's temporary table pg_temp.ac_stage, created by ac.push_stage() and owned by the
-- centre's owner (the session may only INSERT into it). A table of that name that the owner did not create (a caller's
-- own TEMP table, view or anything with a trigger or rule) is never used: reading it or writing to it as the definer
-- would run the caller's code with the owner's rights. Every definer function that touches the stage asks this first.
CREATE OR REPLACE FUNCTION ac.temp_ready(name text) RETURNS boolean
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, ac, pg_temp AS $$
DECLARE
    r record;
BEGIN
    SELECT c.relkind, c.relowner, c.relhastriggers, c.relhasrules, c.relrowsecurity INTO r
      FROM pg_catalog.pg_class c
     WHERE c.relname = name AND c.relnamespace = pg_catalog.pg_my_temp_schema();
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF r.relkind <> 'r' OR r.relowner <> (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
       OR r.relhastriggers OR r.relhasrules OR r.relrowsecurity THEN
        RAISE EXCEPTION 'push refused: this session has its own object named % (not the centre''s stage)', name
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN true;
END
$$;
CREATE OR REPLACE FUNCTION ac.stage_ready() RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, ac, pg_temp AS $$ SELECT ac.temp_ready('ac_stage') $$;

CREATE OR REPLACE FUNCTION ac.push_stage() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, ac, pg_temp AS $$
BEGIN
    IF NOT ac.stage_ready() THEN
        CREATE TEMP TABLE ac_stage (ord bigint, id text, case_id text, kind text, actor text, device text,
                                    at timestamptz, hlc text, payload jsonb, flags jsonb) ON COMMIT DELETE ROWS;
        EXECUTE format('GRANT INSERT ON pg_temp.ac_stage TO %I', session_user);
    END IF;
END
$$;

-- The holder of the push lock when it is stuck: a session that sits idle (or has been in one transaction for a
-- minute) while holding it. A console's push holds the lock for the few milliseconds between ac.push_staged() and its
-- commit; anything else is a hung console or someone holding the lock on purpose, and is ended so that every other
-- console (of every team) can push again. Returns the pid ended, or NULL.
CREATE OR REPLACE FUNCTION ac.end_stuck_push_holder() RETURNS integer
    LANGUAGE plpgsql SET search_path = pg_catalog, ac, pg_temp AS $$
DECLARE
    holder integer;
BEGIN
    -- only ac.push_staged() touches ac.team_counters: a session holding a lock on it is a pusher (one that waits
    -- for the row is active; the holder has the row, and is stuck if it sits idle)
    SELECT a.pid INTO holder
      FROM pg_catalog.pg_locks l
      JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'relation' AND l.relation = 'ac.team_counters'::pg_catalog.regclass AND l.granted
       AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
       AND a.pid <> pg_catalog.pg_backend_pid()
       AND ((a.state <> 'active' AND a.state_change < pg_catalog.clock_timestamp() - interval '2 seconds')
            OR a.xact_start < pg_catalog.clock_timestamp() - interval '60 seconds')
     ORDER BY a.xact_start
     LIMIT 1;
    IF holder IS NOT NULL THEN
        RAISE WARNING 'ending session % that held the push lock while idle', holder;
        PERFORM pg_catalog.pg_terminate_backend(holder);
    END IF;
    RETURN holder;
END
$$;

-- ac.staged_problems and ac.checked_verdicts read the temporary tables each pushing session creates for itself:
-- they cannot be checked at install time
SET check_function_bodies = off;

-- The check of a push comes in two parts. What a row alone decides (its shape, as the consoles' pydantic models say,
-- ac.payload_problem; its stamp and times: an absurd stamp is refused; who wrote it: the session) is checked by
-- ac.push_check() BEFORE the team's push lock is taken, while the batch before is still being recorded by the other
-- session of the console; what the centre's state decides (the case's team and the login's, lead-only kinds, a
-- second registration of a known case, a lead deciding their own request) is checked by ac.push_staged() under the
-- lock. The first failing rule gives the reason, in this order.
--
-- ac.staged_problems: each staged row, its place in the batch and what is wrong with it alone (NULL: nothing). The
-- place is the row's `ord` counted from `first_ord` (plus `base`) when the batch numbers its rows densely (as the
-- console does: no sort needed), else its rank by ord. Plain SQL, inlined into ac.push_check's INSERT.
DROP FUNCTION IF EXISTS ac.staged_verdicts(text, text[], boolean);
DROP FUNCTION IF EXISTS ac.staged_verdicts(text, text[], boolean, bigint);
DROP FUNCTION IF EXISTS ac.staged_verdicts(text, text[], boolean, bigint, bigint);
CREATE OR REPLACE FUNCTION ac.staged_problems(me text, first_ord bigint, now_ms bigint, base bigint)
    RETURNS TABLE (place bigint, ord bigint, id text, case_id text, kind text, actor text, device text,
                   at timestamptz, hlc text, payload jsonb, flags jsonb, verdict text)
    LANGUAGE sql STABLE AS $$
    SELECT s.place, s.ord, s.id, s.case_id, s.kind, s.actor, s.device, s.at, s.hlc, s.payload, s.flags, CASE
        WHEN s.id IS NULL OR s.id = '' OR length(s.id) > 100 THEN 'malformed: no id (or too long)'
        WHEN s.kind IS NULL OR s.kind = '' THEN 'malformed: no kind'
        WHEN s.device IS NULL OR s.device = '' OR length(s.device) > 100 OR s.at IS NULL
            THEN 'malformed: no device or time'
        -- <13 digits>-<4 to 9 digits>-<device>: a regex without counted repeats and two lengths (a counted
        -- repeat costs PostgreSQL's regex engine ten times as much, per row)
        WHEN s.hlc IS NULL OR s.hlc !~ '^[0-9]+-[0-9]+-[!-~]+$' OR length(split_part(s.hlc, '-', 1)) <> 13
          OR length(split_part(s.hlc, '-', 2)) NOT BETWEEN 4 AND 9 OR length(s.hlc) > 88
            THEN 'malformed: bad hlc stamp'
        WHEN split_part(s.hlc, '-', 1)::bigint > now_ms + 86400000
          OR split_part(s.hlc, '-', 1)::bigint < 1577836800000
            THEN 'malformed: absurd clock (more than a day ahead of the centre, or before 2020)'
        -- the time of the act only informs (the stamp orders): it may be a planned or test clock, not absurd
        WHEN s.at < '2000-01-01T00:00:00Z'::timestamptz OR s.at >= '2100-01-01T00:00:00Z'::timestamptz
            THEN 'malformed: absurd time (before 2000 or after 2099)'
        WHEN s.flags IS NOT NULL AND s.flags <> '[]'::jsonb
             AND (jsonb_typeof(s.flags) <> 'array' OR jsonb_array_length(s.flags) > 20
                  OR jsonb_path_exists(s.flags, '$[*] ? (@.type() != "string")'))
            THEN 'malformed: flags is not a list of texts'
        WHEN s.case_id IS NULL AND s.kind = 'registered' THEN 'malformed: a registration without a case'
        WHEN ac.payload_problem(s.kind, s.payload) IS NOT NULL
            THEN 'malformed: ' || s.kind || ': ' || ac.payload_problem(s.kind, s.payload)
        WHEN s.actor IS DISTINCT FROM me
            THEN 'written in the name of ' || quote_literal(coalesce(s.actor, '')) || ', not ' || quote_literal(me)
        END
      FROM (SELECT r.*, base + r.ord - first_ord + 1 AS place FROM pg_temp.ac_stage r WHERE first_ord IS NOT NULL
            UNION ALL
            SELECT r.*, base + row_number() OVER (ORDER BY r.ord, r.ctid) FROM pg_temp.ac_stage r
             WHERE first_ord IS NULL) s
$$;

-- ac.checked_verdicts: each checked row (pg_temp.ac_checked, which only the centre's owner writes) with its team
-- (the registering team, or its case's) and its verdict (NULL: it may be recorded): its own problem, else what the
-- centre's state says. Plain SQL, inlined into the statements of ac.push_staged (run as the definer, under the lock).
CREATE OR REPLACE FUNCTION ac.checked_verdicts(me text, mine text[], lead boolean)
    RETURNS TABLE (place bigint, ord bigint, id text, case_id text, kind text, device text, at timestamptz, hlc text,
                   payload jsonb, flags jsonb, team text, verdict text)
    LANGUAGE sql STABLE AS $$
    SELECT s.place, s.ord, s.id, s.case_id, s.kind, s.device, s.at, s.hlc, s.payload, s.flags, x.team, CASE
        WHEN s.verdict IS NOT NULL THEN s.verdict
        WHEN x.team IS NULL OR NOT (x.team = ANY (mine)) THEN 'the case is unknown at the centre or not of your team'
        WHEN s.kind = ANY (ac.lead_only_kinds()) AND NOT lead
            THEN 'only a lead of team ' || quote_literal(x.team) || ' may record ' || s.kind
        WHEN s.kind = 'registered' AND ((t.team IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ac.events e WHERE e.id = s.id))
                                         OR h.first_id IS DISTINCT FROM s.id)
            THEN 'the case is registered at the centre already'
        WHEN s.kind IN ('extension_approved', 'extension_refused', 'closure_approved', 'closure_refused')
             AND (SELECT r.actor FROM (
                      SELECT e.actor, e.hlc FROM ac.events e
                       WHERE e.case_id = s.case_id AND e.hlc < s.hlc
                         AND e.kind = CASE WHEN s.kind LIKE 'extension%' THEN 'extension_requested'
                                           ELSE 'closure_proposed' END
                      UNION ALL
                      SELECT q.actor, q.hlc FROM pg_temp.ac_checked q
                       WHERE q.case_id = s.case_id AND q.hlc < s.hlc
                         AND q.kind = CASE WHEN s.kind LIKE 'extension%' THEN 'extension_requested'
                                           ELSE 'closure_proposed' END) r
                   ORDER BY r.hlc DESC LIMIT 1) = me
            THEN 'nobody may decide their own request'
        END
      FROM pg_temp.ac_checked s
      LEFT JOIN ac.case_teams t ON t.case_id = s.case_id
      LEFT JOIN (SELECT DISTINCT ON (r.case_id) r.case_id, r.payload ->> 'team' AS team, r.id AS first_id
                   FROM pg_temp.ac_checked r WHERE r.kind = 'registered' ORDER BY r.case_id, r.ord) h
             ON h.case_id = s.case_id
      CROSS JOIN LATERAL (SELECT CASE WHEN s.kind = 'registered' THEN s.payload ->> 'team'
                                      WHEN s.case_id IS NULL THEN mine[1]
                                      ELSE coalesce(t.team, h.team) END AS team) x
$$;

RESET check_function_bodies;

-- What the session staged, checked row by row for what each row alone decides (ac.staged_problems) and moved into
-- pg_temp.ac_checked, a table of the centre's owner that the session can neither read nor write: what push_staged
-- records was checked, whatever the session stages afterwards (that is checked by push_staged itself, which calls
-- this first). A console calls it right after its COPY, before it waits for its turn: the check then runs beside
-- the batch before it being recorded, not under the team's lock. Returns how many rows it checked.
CREATE OR REPLACE FUNCTION ac.push_check() RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, ac, pg_temp SET jit = off AS $$
DECLARE
    me text := session_user;
    -- a variable, not an argument below: a volatile argument would keep ac.staged_problems from being inlined
    now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    staged bigint;
    distinct_ords bigint;
    lowest bigint;
    highest bigint;
    base bigint := 0;
BEGIN
    IF NOT ac.stage_ready() THEN
        RAISE EXCEPTION 'nothing staged: call ac.push_stage() first';
    END IF;
    IF NOT ac.temp_ready('ac_checked') THEN
        CREATE TEMP TABLE ac_checked (place bigint, ord bigint, id text, case_id text, kind text, actor text,
                                      device text, at timestamptz, hlc text, payload jsonb, flags jsonb, verdict text)
            ON COMMIT DELETE ROWS;
    ELSE
        SELECT coalesce(max(c.place), 0) INTO base FROM pg_temp.ac_checked c;
    END IF;
    -- dense: every ord once, none missing (each row's place is then its ord: no sort)
    SELECT count(*), count(DISTINCT r.ord), min(r.ord), max(r.ord) INTO staged, distinct_ords, lowest, highest
      FROM pg_temp.ac_stage r;
    IF staged = 0 THEN
        RETURN 0;
    END IF;
    INSERT INTO pg_temp.ac_checked
    SELECT * FROM ac.staged_problems(me, CASE WHEN highest - lowest + 1 = staged AND distinct_ords = staged
                                              THEN lowest END, now_ms, base);
    DELETE FROM pg_temp.ac_stage;
    RETURN staged;
END
$$;

-- lock_timeout: a pusher waits a bounded time for the push lock (then looks for a stuck holder, ends it, and tries
-- again; a push that still cannot get it fails with "centre busy" and is sent again on the next round).
-- jit off: the verdict is one large expression; compiling it costs seconds a batch, more than it ever saves.
-- work_mem: numbering a batch sorts its rows by team and place, whole rows (payloads with them); at the default 4 MB
-- a 20,000-row batch spilled to disk every time. One push_staged runs per team at a time (the team's lock).
DROP FUNCTION IF EXISTS ac.push_staged(bigint);
CREATE OR REPLACE FUNCTION ac.push_staged(max_drift_ms bigint DEFAULT 300000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, ac, pg_temp SET lock_timeout = '3s'
    SET jit = off SET work_mem = '32MB' AS $$
DECLARE
    me text := session_user;
    mine text[] := ac.my_teams();
    lead boolean := coalesce((SELECT m.role = 'lead' FROM ac.members m WHERE m.login = session_user), false);
    drift bigint := least(greatest(coalesce(max_drift_ms, 300000), 0), 300000);  -- a caller may only narrow it
    firsts jsonb;  -- each of the login's teams: the last number handed out before this push
    locked boolean := false;
    tops jsonb;  -- each team this push recorded rows of: [its first number, its last]
    ctops jsonb;  -- each team the centre flagged conflicts in: the last number they took
    n bigint;
    flagged bigint := 0;
    staged bigint;
    latest text;
    now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    skip bigint[] := '{}';  -- the stage rows (by place) found refused or already there, on the careful path
    careful boolean := false;
    duplicates jsonb := '[]';
    refused jsonb := '[]';
BEGIN
    IF coalesce(array_length(mine, 1), 0) = 0 THEN
        RAISE EXCEPTION 'login % is not a member of any team', me USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- whatever is staged and not yet checked (all of it, from a console that does not ask for the check first) is
    -- checked now, before the lock: under it, only what the centre's state decides
    PERFORM ac.push_check();
    -- the locks first, on the counters of the login's teams only (in team order): classification and numbering
    -- happen strictly one pusher at a time within a team, so a team's numbers become visible in the order they were
    -- handed out and a reader following tseq > its cursor never skips a late commit; other teams push meanwhile
    FOR attempt IN 1..4 LOOP
        BEGIN
            INSERT INTO ac.team_counters (team, last) SELECT t, 0 FROM unnest(mine) AS t ON CONFLICT DO NOTHING;
            SELECT jsonb_object_agg(c.team, c.last) INTO firsts
              FROM (SELECT x.team, x.last FROM ac.team_counters x WHERE x.team = ANY (mine) ORDER BY x.team
                    FOR UPDATE) c;
            locked := true;
            EXIT;
        EXCEPTION WHEN lock_not_available THEN
            IF ac.end_stuck_push_holder() IS NULL AND attempt >= 3 THEN
                RAISE EXCEPTION 'centre busy: another push of your team holds the lock; try again in a moment'
                    USING ERRCODE = 'lock_not_available';
            END IF;
        END;
    END LOOP;
    IF NOT locked THEN
        RAISE EXCEPTION 'centre busy: another push of your team holds the lock; try again in a moment'
            USING ERRCODE = 'lock_not_available';
    END IF;
    -- one look at the checked rows: how many, and this device's latest stamp (stamps sort as text, wall time first),
    -- to tell it how far ahead its clock runs
    SELECT count(*), max(r.hlc) INTO staged, latest FROM pg_temp.ac_checked r;
    LOOP
        BEGIN
            -- one set-based pass: the rows that stand are recorded, numbered within their team in the order they
            -- were sent, densely (a reader can tell how many rows a team holds past its cursor)
            WITH ins AS (
                INSERT INTO ac.events (seq, tseq, id, case_id, kind, actor, device, at, hlc, payload, flags, team)
                SELECT nextval('ac.event_seq'),
                       (firsts ->> v.team)::bigint + row_number() OVER (PARTITION BY v.team ORDER BY v.place),
                       v.id, v.case_id, v.kind, me, v.device, v.at, v.hlc, v.payload,
                       CASE WHEN split_part(v.hlc, '-', 1)::bigint - now_ms > drift
                            THEN coalesce(v.flags, '[]'::jsonb) || '["clock_skew"]'::jsonb
                            ELSE coalesce(v.flags, '[]'::jsonb) END,
                       v.team
                  FROM ac.checked_verdicts(me, mine, lead) v
                 WHERE v.verdict IS NULL AND NOT (v.place = ANY (skip))
                RETURNING team, tseq)
            SELECT coalesce(sum(c.rows), 0),
                   coalesce(jsonb_object_agg(c.team, jsonb_build_array(c.low, c.high)), '{}')
              INTO n, tops
              FROM (SELECT i.team, count(*) AS rows, min(i.tseq) AS low, max(i.tseq) AS high FROM ins i
                     GROUP BY i.team) c;
            EXIT;
        EXCEPTION WHEN unique_violation OR not_null_violation THEN
            -- an event already here (a batch sent again after a lost answer) or sent twice in the batch: rare, so
            -- only now set the refused and the duplicates aside and record the rest
            IF careful THEN RAISE; END IF;
            careful := true;
            SELECT coalesce(array_agg(v.place), '{}'),
                   coalesce(jsonb_agg(jsonb_build_array(v.id, v.verdict) ORDER BY v.place), '[]')
              INTO skip, refused
              FROM ac.checked_verdicts(me, mine, lead) v WHERE v.verdict IS NOT NULL;
            WITH dup AS (
                SELECT c.place, c.id FROM (
                    SELECT v.place, v.id, row_number() OVER (PARTITION BY v.id ORDER BY v.place) AS nth
                      FROM ac.checked_verdicts(me, mine, lead) v WHERE v.verdict IS NULL) c
                 WHERE c.nth > 1 OR EXISTS (SELECT 1 FROM ac.events e WHERE e.id = c.id))
            SELECT skip || coalesce((SELECT array_agg(place) FROM dup), '{}'),
                   coalesce((SELECT jsonb_agg(id ORDER BY place) FROM dup), '[]')
              INTO skip, duplicates;
        END;
    END LOOP;
    IF NOT careful AND n < staged THEN
        -- some rows did not stand (refused, never duplicates: those stop the fast pass): say which, and why
        SELECT coalesce(jsonb_agg(jsonb_build_array(v.id, v.verdict) ORDER BY v.place), '[]') INTO refused
          FROM ac.checked_verdicts(me, mine, lead) v WHERE v.verdict IS NOT NULL;
    END IF;
    -- the teams of the cases registered just now; teams push side by side, so a case id registered by another team
    -- at the same moment is caught here (its row waits for that push to commit): this push is undone and tried again
    -- on the next round, when the verdict refuses the second registration
    INSERT INTO ac.case_teams (case_id, team)
    SELECT e.case_id, e.team FROM pg_temp.ac_checked s JOIN ac.events e ON e.id = s.id
     WHERE s.kind = 'registered' AND e.tseq >= (tops -> e.team ->> 0)::bigint
    ON CONFLICT DO NOTHING;
    IF EXISTS (SELECT 1 FROM pg_temp.ac_checked s JOIN ac.events e ON e.id = s.id
                 JOIN ac.case_teams t ON t.case_id = e.case_id
                WHERE s.kind = 'registered' AND e.tseq >= (tops -> e.team ->> 0)::bigint AND t.team <> e.team) THEN
        RAISE EXCEPTION 'centre busy: the same case was registered by another team at the same moment; try again'
            USING ERRCODE = 'lock_not_available';
    END IF;
    -- A fast clock overriding a later action: an event just recorded (F) is ordered before an event of another
    -- device on the same case that the centre flagged clock_skew (E: its stamp is later than F's), although F was
    -- stamped after E had reached the centre (by a clock that is not itself flagged as fast), so F happened after E
    -- and E wins only because its clock runs ahead. (Had F's console seen E first, its clock would have moved past
    -- E's stamp: no pair.) The centre records a conflict_flagged event on the case, once per pair, numbered after the
    -- batch; every console folds it like any other event, so each shows the lead the same conflict.
    WITH flag AS (
    INSERT INTO ac.events (seq, tseq, id, case_id, kind, actor, device, at, hlc, payload, flags, team)
    SELECT nextval('ac.event_seq'),
           (tops -> p.team ->> 1)::bigint + row_number() OVER (PARTITION BY p.team ORDER BY p.f_seq, p.e_seq),
           p.id, p.case_id, 'conflict_flagged',
           'centre', 'centre', clock_timestamp(),
           split_part(p.e_hlc, '-', 1) || '-' || lpad((split_part(p.e_hlc, '-', 2)::bigint + 1)::text, 4, '0')
               || '-centre',
           jsonb_build_object('events', jsonb_build_array(p.e_id, p.f_id), 'reason', 'clock_ahead'), '[]', p.team
      FROM (SELECT DISTINCT ON (e.id, f.id) 'clock-' || md5(e.id || ' ' || f.id) AS id, f.case_id, f.team,
                   f.tseq AS f_seq, e.seq AS e_seq, e.id AS e_id, f.id AS f_id, e.hlc AS e_hlc
              -- from the stage (this batch) to the few fast-clock events of its cases (a small partial index),
              -- and only for those to the row just recorded: nothing here reads the whole table
              FROM pg_temp.ac_checked s
              JOIN ac.events e ON e.case_id = s.case_id AND e.flags ? 'clock_skew'
              JOIN ac.events f ON f.id = s.id
             WHERE s.case_id IS NOT NULL AND f.tseq >= (tops -> f.team ->> 0)::bigint
               AND f.kind <> 'conflict_flagged' AND NOT f.flags ? 'clock_skew'
               AND e.device <> f.device AND e.hlc > f.hlc
               AND split_part(f.hlc, '-', 1)::bigint > (extract(epoch FROM e.received_at) * 1000)::bigint) p
       WHERE NOT EXISTS (SELECT 1 FROM ac.events x WHERE x.id = p.id)
    RETURNING team, tseq)
    SELECT count(*), coalesce(jsonb_object_agg(f.team, f.top), '{}') INTO flagged, ctops
      FROM (SELECT g.team, max(g.tseq) AS top FROM flag g GROUP BY g.team) f;
    -- each team's counter moves to the last number it handed out (the centre's conflicts included), from what
    -- this push knows: no look at the events
    UPDATE ac.team_counters c
       SET last = greatest((tops -> c.team ->> 1)::bigint, coalesce((ctops ->> c.team)::bigint, 0))
     WHERE c.team = ANY (mine) AND tops ? c.team;
    RETURN jsonb_build_object(
        'accepted_count', n, 'duplicates', duplicates, 'refused', refused,
        'skew_ms', CASE WHEN latest ~ '^[0-9]{13}-' AND split_part(latest, '-', 1)::bigint - now_ms > drift
                        THEN split_part(latest, '-', 1)::bigint - now_ms ELSE 0 END);
END
$$;

-- The same push for a batch sent as one JSON array (older consoles, tests): staged, then the set-based pass above.
-- A row whose time does not read is refused with the others' verdicts (it is staged without one).
CREATE OR REPLACE FUNCTION ac.push(batch jsonb, max_drift_ms bigint DEFAULT 300000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, ac, pg_temp AS $$
DECLARE
    result jsonb;
    ids jsonb;
BEGIN
    IF batch IS NULL OR jsonb_typeof(batch) <> 'array' THEN
        RAISE EXCEPTION 'push refused: the batch is not a JSON array' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM ac.push_stage();
    DELETE FROM pg_temp.ac_stage;  -- a second call in the same transaction starts from an empty stage
    IF ac.temp_ready('ac_checked') THEN
        DELETE FROM pg_temp.ac_checked;
    END IF;
    INSERT INTO pg_temp.ac_stage (ord, id, case_id, kind, actor, device, at, hlc, payload, flags)
    SELECT o.ord, o.elem ->> 'id', o.elem ->> 'case_id', o.elem ->> 'kind', o.elem ->> 'actor', o.elem ->> 'device',
           CASE WHEN o.elem ->> 'at' ~ ac.iso_time_pattern() THEN (o.elem ->> 'at')::timestamptz END,
           o.elem ->> 'hlc', o.elem -> 'payload', o.elem -> 'flags'
      FROM jsonb_array_elements(batch) WITH ORDINALITY AS o(elem, ord);
    SELECT coalesce(jsonb_agg(o.elem -> 'id' ORDER BY o.ord), '[]') INTO ids
      FROM jsonb_array_elements(batch) WITH ORDINALITY AS o(elem, ord);
    result := ac.push_staged(max_drift_ms);
    -- accepted: what was sent, less duplicates and refusals
    RETURN result || jsonb_build_object('accepted', coalesce((
        SELECT jsonb_agg(i ORDER BY n) FROM jsonb_array_elements(ids) WITH ORDINALITY AS x(i, n)
         WHERE NOT result -> 'duplicates' @> jsonb_build_array(i)
           AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(result -> 'refused') f WHERE f -> 0 = i)), '[]'));
END
$$;

ALTER TABLE ac.events ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS events_read_own_teams ON ac.events;
-- (SELECT …): the login's teams are looked up once per query, not once per row
CREATE POLICY events_read_own_teams ON ac.events FOR SELECT USING (team = ANY ((SELECT ac.my_teams())::text[]));

-- Privileges: nothing for PUBLIC; the group roles get exactly what a console uses.
REVOKE ALL ON SCHEMA ac FROM PUBLIC;
REVOKE ALL ON ac.events, ac.members, ac.team_counters, ac.case_teams FROM PUBLIC;
REVOKE ALL ON SEQUENCE ac.event_seq FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ac FROM PUBLIC;
REVOKE ALL ON ac.events, ac.members, ac.team_counters, ac.case_teams FROM ac_agent, ac_lead;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ac FROM ac_agent, ac_lead;
GRANT USAGE ON SCHEMA ac TO ac_agent, ac_lead;
GRANT SELECT ON ac.events TO ac_agent, ac_lead;
GRANT EXECUTE ON FUNCTION ac.push(jsonb, bigint), ac.push_stage(), ac.push_check(), ac.push_staged(bigint),
    ac.my_teams(), ac.whoami() TO ac_agent, ac_lead;
GRANT EXECUTE ON FUNCTION ac.team_members() TO ac_agent, ac_lead;
