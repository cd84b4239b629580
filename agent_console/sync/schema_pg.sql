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

CREATE OR REPLACE FUNCTION ac.push(batch jsonb, max_drift_ms bigint DEFAULT 300000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ac, pg_temp AS $$
DECLARE
    me text := session_user;
    mine text[] := ac.my_teams();
    first_seq bigint;
    n bigint;
    now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    result jsonb;
BEGIN
    IF coalesce(array_length(mine, 1), 0) = 0 THEN
        RAISE EXCEPTION 'login % is not a member of any team', me;
    END IF;
    -- the lock first: classification and numbering happen strictly one pusher at a time
    SELECT last INTO first_seq FROM ac.counter WHERE one = 1 FOR UPDATE;

    DROP TABLE IF EXISTS pg_temp.ac_batch;
    -- one set-based pass: each event's team (the registering team, or its case's), and its verdict
    CREATE TEMP TABLE ac_batch ON COMMIT DROP AS
    WITH raw AS (
        SELECT r.*, o.ord, row_number() OVER (PARTITION BY r.id ORDER BY o.ord) AS nth
          FROM jsonb_array_elements(batch) WITH ORDINALITY AS o(elem, ord),
               LATERAL jsonb_to_record(o.elem) AS r(id text, case_id text, kind text, actor text, device text,
                                                    at timestamptz, hlc text, payload jsonb, flags jsonb)
    ), registered_here AS (
        SELECT DISTINCT ON (case_id) case_id, payload ->> 'team' AS team
          FROM raw WHERE kind = 'registered' ORDER BY case_id, ord
    ), teamed AS (
        SELECT raw.*, CASE WHEN raw.kind = 'registered' THEN raw.payload ->> 'team'
                           WHEN raw.case_id IS NULL THEN mine[1]
                           ELSE coalesce(t.team, h.team) END AS team
          FROM raw
          LEFT JOIN ac.case_teams t ON t.case_id = raw.case_id
          LEFT JOIN registered_here h ON h.case_id = raw.case_id
    )
    SELECT teamed.*, CASE
        WHEN actor IS DISTINCT FROM me
            THEN 'written in the name of ' || quote_literal(coalesce(actor, '')) || ', not ' || quote_literal(me)
        WHEN team IS NULL THEN 'the case is unknown at the centre'
        WHEN NOT (team = ANY (mine)) THEN 'team ' || quote_literal(team) || ' is not yours'
        WHEN nth > 1 OR EXISTS (SELECT 1 FROM ac.events e WHERE e.id = teamed.id) THEN 'duplicate'
        END AS verdict
      FROM teamed;

    SELECT count(*) INTO n FROM ac_batch WHERE verdict IS NULL;
    UPDATE ac.counter SET last = last + n WHERE one = 1;

    INSERT INTO ac.events (seq, id, case_id, kind, actor, device, at, hlc, payload, flags, team)
    SELECT first_seq + row_number() OVER (ORDER BY ord), id, case_id, kind, me, device, at, hlc, payload,
           CASE WHEN split_part(hlc, '-', 1)::bigint - now_ms > max_drift_ms
                THEN coalesce(flags, '[]'::jsonb) || '["clock_skew"]'::jsonb ELSE coalesce(flags, '[]'::jsonb) END,
           team
      FROM ac_batch WHERE verdict IS NULL;

    INSERT INTO ac.case_teams (case_id, team)
    SELECT case_id, team FROM ac_batch WHERE verdict IS NULL AND kind = 'registered'
    ON CONFLICT DO NOTHING;

    SELECT jsonb_build_object(
        'accepted', coalesce((SELECT jsonb_agg(id ORDER BY ord) FROM ac_batch WHERE verdict IS NULL), '[]'),
        'duplicates', coalesce((SELECT jsonb_agg(id ORDER BY ord) FROM ac_batch WHERE verdict = 'duplicate'), '[]'),
        'refused', coalesce((SELECT jsonb_agg(jsonb_build_array(id, verdict) ORDER BY ord) FROM ac_batch
                              WHERE verdict IS NOT NULL AND verdict <> 'duplicate'), '[]'),
        'skew_ms', coalesce((SELECT max(split_part(hlc, '-', 1)::bigint - now_ms) FROM ac_batch
                              WHERE split_part(hlc, '-', 1)::bigint - now_ms > max_drift_ms), 0))
      INTO result;
    RETURN result;
END
$$;

ALTER TABLE ac.events ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS events_read_own_teams ON ac.events;
CREATE POLICY events_read_own_teams ON ac.events FOR SELECT USING (team = ANY (ac.my_teams()));

REVOKE ALL ON ac.events, ac.members, ac.counter, ac.case_teams FROM PUBLIC;
REVOKE ALL ON FUNCTION ac.push(jsonb, bigint) FROM PUBLIC;
GRANT USAGE ON SCHEMA ac TO ac_agent, ac_lead;
GRANT SELECT ON ac.events TO ac_agent, ac_lead;
GRANT EXECUTE ON FUNCTION ac.push(jsonb, bigint), ac.my_teams(), ac.whoami() TO ac_agent, ac_lead;
