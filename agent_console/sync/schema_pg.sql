-- The central store in PostgreSQL: installed (and re-installed safely) by `agent-console central init URL`.
-- Agents and leads log in with their own roles (members of ac_agent / ac_lead). They write only through ac.push(),
-- which stamps the actor from the session and refuses events in anyone else's name; they read only their teams'
-- events (row-level security). Nobody can update or delete an event.

CREATE SCHEMA IF NOT EXISTS ac;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ac_agent') THEN CREATE ROLE ac_agent NOLOGIN; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ac_lead') THEN CREATE ROLE ac_lead NOLOGIN; END IF;
END
$$;

CREATE TABLE IF NOT EXISTS ac.members (
    login text PRIMARY KEY,
    role text NOT NULL CHECK (role IN ('agent', 'lead')),
    teams text[] NOT NULL
);

-- One row: the last ordering number handed out. Taking its row lock inside the pushing transaction serializes
-- pushers, so numbers become visible in the order they were assigned and a reader never skips a late commit.
CREATE TABLE IF NOT EXISTS ac.counter (one int PRIMARY KEY DEFAULT 1 CHECK (one = 1), last bigint NOT NULL);
INSERT INTO ac.counter VALUES (1, 0) ON CONFLICT DO NOTHING;

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
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS events_team_seq ON ac.events (team, seq);

CREATE OR REPLACE FUNCTION ac.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'central events are append-only: % refused', TG_OP;
END
$$;
DROP TRIGGER IF EXISTS events_append_only ON ac.events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON ac.events
    FOR EACH ROW EXECUTE FUNCTION ac.refuse_change();

CREATE OR REPLACE FUNCTION ac.my_teams() RETURNS text[]
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ac, pg_temp AS $$
    SELECT coalesce((SELECT teams FROM ac.members WHERE login = session_user), '{}'::text[])
$$;

CREATE OR REPLACE FUNCTION ac.whoami(OUT login text, OUT role text, OUT teams text[])
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ac, pg_temp AS $$
    SELECT session_user::text, m.role, m.teams FROM ac.members m WHERE m.login = session_user
$$;

-- Pushing goes through a per-session staging table: the console COPYs a batch into pg_temp.ac_stage (fast, no
-- per-row round trips, no JSON document to parse twice), then ac.push_staged() classifies and numbers the whole batch
-- in one set-based pass. The stage belongs to the definer (the session gets INSERT only), so what ac.push_staged()
-- reads is exactly what this session copied in; its rows vanish at commit. A row whose time or JSON does not parse
-- fails the COPY itself: the console then finds it, keeps it as refused with the reason, and sends the rest.
CREATE OR REPLACE FUNCTION ac.push_stage() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ac, pg_temp AS $$
BEGIN
    IF to_regclass('pg_temp.ac_stage') IS NULL THEN
        CREATE TEMP TABLE ac_stage (ord bigint, id text, case_id text, kind text, actor text, device text,
                                    at timestamptz, hlc text, payload jsonb, flags jsonb) ON COMMIT DELETE ROWS;
        EXECUTE format('GRANT INSERT ON pg_temp.ac_stage TO %I', session_user);
    END IF;
END
$$;

-- ac.staged_verdicts reads the stage each pushing session creates for itself: it cannot be checked at install time
SET check_function_bodies = off;

-- Each staged row with its place in the batch, its team (the registering team, or its case's) and its verdict (NULL:
-- it may be recorded). Plain SQL so that it is inlined into the statements of ac.push_staged (which runs it as the
-- definer). `strict` adds the checks that cost a regular expression per row; the fast path leaves them to the casts,
-- which fail loudly. The place is the row's `ord` counted from `first_ord` when the batch numbers its rows densely
-- (as the console does: no sort needed), else its rank by ord.
DROP FUNCTION IF EXISTS ac.staged_verdicts(text, text[], boolean);
CREATE OR REPLACE FUNCTION ac.staged_verdicts(me text, mine text[], strict boolean, first_ord bigint)
    RETURNS TABLE (place bigint, ord bigint, id text, case_id text, kind text, device text, at timestamptz, hlc text,
                   payload jsonb, flags jsonb, team text, verdict text)
    LANGUAGE sql STABLE AS $$
    SELECT s.place, s.ord, s.id, s.case_id, s.kind, s.device, s.at, s.hlc, s.payload, s.flags, x.team, CASE
        WHEN s.id IS NULL OR s.id = '' THEN 'malformed: no id'
        WHEN s.kind IS NULL OR s.kind = '' THEN 'malformed: no kind'
        WHEN s.device IS NULL OR s.at IS NULL THEN 'malformed: no device or time'
        WHEN strict AND (s.hlc IS NULL OR s.hlc !~ '^[0-9]{13}-[0-9]{4}-') THEN 'malformed: bad hlc stamp'
        WHEN s.payload IS NULL OR jsonb_typeof(s.payload) <> 'object' THEN 'malformed: payload is not an object'
        WHEN s.flags IS NOT NULL AND jsonb_typeof(s.flags) <> 'array' THEN 'malformed: flags is not a list'
        WHEN s.actor IS DISTINCT FROM me
            THEN 'written in the name of ' || quote_literal(coalesce(s.actor, '')) || ', not ' || quote_literal(me)
        WHEN x.team IS NULL THEN 'the case is unknown at the centre'
        WHEN NOT (x.team = ANY (mine)) THEN 'team ' || quote_literal(x.team) || ' is not yours'
        END
      FROM (SELECT r.*, r.ord - first_ord + 1 AS place FROM pg_temp.ac_stage r WHERE first_ord IS NOT NULL
            UNION ALL
            SELECT r.*, row_number() OVER (ORDER BY r.ord, r.ctid) FROM pg_temp.ac_stage r WHERE first_ord IS NULL) s
      LEFT JOIN ac.case_teams t ON t.case_id = s.case_id
      LEFT JOIN (SELECT DISTINCT ON (r.case_id) r.case_id, r.payload ->> 'team' AS team
                   FROM pg_temp.ac_stage r WHERE r.kind = 'registered' ORDER BY r.case_id, r.ord) h
             ON h.case_id = s.case_id
      CROSS JOIN LATERAL (SELECT CASE WHEN s.kind = 'registered' THEN s.payload ->> 'team'
                                      WHEN s.case_id IS NULL THEN mine[1]
                                      ELSE coalesce(t.team, h.team) END AS team) x
$$;

CREATE OR REPLACE FUNCTION ac.push_staged(max_drift_ms bigint DEFAULT 300000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ac, pg_temp AS $$
DECLARE
    me text := session_user;
    mine text[] := ac.my_teams();
    first_seq bigint;
    n bigint;
    staged bigint;
    lowest bigint;
    highest bigint;
    dense_from bigint;
    latest text;
    now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    skip bigint[] := '{}';  -- the stage rows (by place) found refused or already there, on the careful path
    careful boolean := false;
    duplicates jsonb := '[]';
    refused jsonb := '[]';
BEGIN
    IF coalesce(array_length(mine, 1), 0) = 0 THEN
        RAISE EXCEPTION 'login % is not a member of any team', me;
    END IF;
    -- the lock first: classification and numbering happen strictly one pusher at a time, so numbers become visible
    -- in the order they were handed out and a reader following seq > cursor never skips a late commit
    SELECT last INTO first_seq FROM ac.counter WHERE one = 1 FOR UPDATE;
    -- one look at the stage: how many rows, whether they are numbered densely (each row's place is then its ord),
    -- and this device's latest stamp (stamps sort as text, wall time first), to tell it how far ahead its clock runs
    SELECT count(*), min(ord), max(ord), max(hlc) INTO staged, lowest, highest, latest FROM pg_temp.ac_stage;
    dense_from := CASE WHEN highest - lowest + 1 = staged THEN lowest END;
    LOOP
        BEGIN
            -- one set-based pass: the rows that stand are recorded, numbered in the order they were sent (a row
            -- that does not stand leaves its number unused: readers follow seq > cursor, a gap skips nothing)
            INSERT INTO ac.events (seq, id, case_id, kind, actor, device, at, hlc, payload, flags, team)
            SELECT first_seq + v.place, v.id, v.case_id, v.kind, me, v.device, v.at,
                   v.hlc, v.payload,
                   CASE WHEN split_part(v.hlc, '-', 1)::bigint - now_ms > max_drift_ms
                        THEN coalesce(v.flags, '[]'::jsonb) || '["clock_skew"]'::jsonb
                        ELSE coalesce(v.flags, '[]'::jsonb) END,
                   v.team
              FROM ac.staged_verdicts(me, mine, careful, dense_from) v
             WHERE v.verdict IS NULL AND NOT (v.place = ANY (skip));
            GET DIAGNOSTICS n = ROW_COUNT;
            EXIT;
        EXCEPTION WHEN unique_violation OR not_null_violation OR invalid_text_representation
                       OR numeric_value_out_of_range THEN
            -- an event already here (a batch sent again after a lost answer), two rows with one ord, or a row the
            -- casts cannot read: rare, so only now look at every row, set the refused and the duplicates aside,
            -- number the rest by rank and record them
            IF careful THEN RAISE; END IF;
            careful := true;
            dense_from := NULL;
            SELECT coalesce(array_agg(v.place), '{}'),
                   coalesce(jsonb_agg(jsonb_build_array(v.id, v.verdict) ORDER BY v.place), '[]')
              INTO skip, refused
              FROM ac.staged_verdicts(me, mine, true, NULL) v WHERE v.verdict IS NOT NULL;
            WITH dup AS (
                SELECT c.place, c.id FROM (
                    SELECT v.place, v.id, row_number() OVER (PARTITION BY v.id ORDER BY v.place) AS nth
                      FROM ac.staged_verdicts(me, mine, true, NULL) v WHERE v.verdict IS NULL) c
                 WHERE c.nth > 1 OR EXISTS (SELECT 1 FROM ac.events e WHERE e.id = c.id))
            SELECT skip || coalesce((SELECT array_agg(place) FROM dup), '{}'),
                   coalesce((SELECT jsonb_agg(id ORDER BY place) FROM dup), '[]')
              INTO skip, duplicates;
        END;
    END LOOP;
    IF NOT careful AND n < staged THEN
        -- some rows did not stand (refused, never duplicates: those stop the fast pass): say which, and why
        SELECT coalesce(jsonb_agg(jsonb_build_array(v.id, v.verdict) ORDER BY v.place), '[]') INTO refused
          FROM ac.staged_verdicts(me, mine, false, dense_from) v WHERE v.verdict IS NOT NULL;
    END IF;
    -- the teams of the cases registered just now
    INSERT INTO ac.case_teams (case_id, team)
    SELECT e.case_id, e.team FROM pg_temp.ac_stage s JOIN ac.events e ON e.id = s.id
     WHERE s.kind = 'registered' AND e.seq > first_seq
    ON CONFLICT DO NOTHING;
    UPDATE ac.counter SET last = last + staged WHERE one = 1;
    RETURN jsonb_build_object(
        'accepted_count', n, 'duplicates', duplicates, 'refused', refused,
        'skew_ms', CASE WHEN latest ~ '^[0-9]{13}-' AND split_part(latest, '-', 1)::bigint - now_ms > max_drift_ms
                        THEN split_part(latest, '-', 1)::bigint - now_ms ELSE 0 END);
END
$$;

-- The same push for a batch sent as one JSON array (older consoles, tests): staged, then the set-based pass above.
CREATE OR REPLACE FUNCTION ac.push(batch jsonb, max_drift_ms bigint DEFAULT 300000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ac, pg_temp AS $$
DECLARE
    result jsonb;
    ids jsonb;
BEGIN
    PERFORM ac.push_stage();
    DELETE FROM pg_temp.ac_stage;  -- a second call in the same transaction starts from an empty stage
    INSERT INTO pg_temp.ac_stage (ord, id, case_id, kind, actor, device, at, hlc, payload, flags)
    SELECT o.ord, o.elem ->> 'id', o.elem ->> 'case_id', o.elem ->> 'kind', o.elem ->> 'actor', o.elem ->> 'device',
           (o.elem ->> 'at')::timestamptz, o.elem ->> 'hlc', o.elem -> 'payload', o.elem -> 'flags'
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

REVOKE ALL ON ac.events, ac.members, ac.counter, ac.case_teams FROM PUBLIC;
REVOKE ALL ON FUNCTION ac.push(jsonb, bigint), ac.push_stage(), ac.push_staged(bigint),
    ac.staged_verdicts(text, text[], boolean, bigint) FROM PUBLIC;
GRANT USAGE ON SCHEMA ac TO ac_agent, ac_lead;
GRANT SELECT ON ac.events TO ac_agent, ac_lead;
GRANT EXECUTE ON FUNCTION ac.push(jsonb, bigint), ac.push_stage(), ac.push_staged(bigint), ac.my_teams(), ac.whoami()
    TO ac_agent, ac_lead;
