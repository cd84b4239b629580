-- Reference data at the centre (sync/reference.py): the calendar years, profile overrides and phrasebook files a
-- team's lead publishes. Installed by `agent-console central init` after schema_pg.sql (it uses ac.members,
-- ac.my_teams() and ac.refuse_change() from there). Versioned per (team, kind, name), append-only like the events.
-- Nobody writes the table directly: ac.publish_reference() stamps the publisher from the session and refuses anyone
-- who is not a lead of that team; ac.reference_after() reads a login's teams' rows. Both are SECURITY DEFINER with a
-- pinned search_path and schema-qualified names; EXECUTE is revoked from PUBLIC and granted to the console roles.

CREATE TABLE IF NOT EXISTS ac.reference (
    seq bigserial PRIMARY KEY,
    team text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('calendar', 'overrides', 'phrasebook')),
    name text NOT NULL CHECK (name <> '' AND length(name) <= 100 AND name !~ '[/\\]'),
    version int NOT NULL CHECK (version >= 1),
    body text NOT NULL CHECK (length(body) <= 1000000),
    digest text NOT NULL,
    published_by text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team, kind, name, version)
);

DROP TRIGGER IF EXISTS reference_append_only ON ac.reference;
CREATE TRIGGER reference_append_only BEFORE UPDATE OR DELETE ON ac.reference
    FOR EACH ROW EXECUTE FUNCTION ac.refuse_change();

CREATE OR REPLACE FUNCTION ac.publish_reference(p_team text, p_kind text, p_name text, p_body text, p_digest text)
    RETURNS TABLE (seq bigint, team text, kind text, name text, version int, body text, digest text,
                   published_by text, published_at timestamptz)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    next_version int;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ac.members m WHERE m.login = session_user AND m.role = 'lead'
                                               AND p_team = ANY (m.teams)) THEN
        RAISE EXCEPTION 'only a lead of team % publishes its reference data', p_team
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_digest IS DISTINCT FROM encode(sha256(convert_to(p_body, 'UTF8')), 'hex') THEN
        RAISE EXCEPTION 'the body does not match its digest' USING ERRCODE = 'data_exception';
    END IF;
    -- one publisher at a time per file: versions are gapless and in order
    PERFORM pg_advisory_xact_lock(hashtext(p_team || '/' || p_kind || '/' || p_name));
    SELECT coalesce(max(r.version), 0) + 1 INTO next_version FROM ac.reference r
     WHERE r.team = p_team AND r.kind = p_kind AND r.name = p_name;
    RETURN QUERY
        INSERT INTO ac.reference AS r (team, kind, name, version, body, digest, published_by)
        VALUES (p_team, p_kind, p_name, next_version, p_body, p_digest, session_user::text)
        RETURNING r.seq, r.team, r.kind, r.name, r.version, r.body, r.digest, r.published_by, r.published_at;
END
$$;

CREATE OR REPLACE FUNCTION ac.reference_after(p_after bigint)
    RETURNS TABLE (seq bigint, team text, kind text, name text, version int, body text, digest text,
                   published_by text, published_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.seq, r.team, r.kind, r.name, r.version, r.body, r.digest, r.published_by, r.published_at
      FROM ac.reference r
     WHERE r.seq > p_after AND r.team = ANY (ac.my_teams())
     ORDER BY r.seq
$$;

REVOKE ALL ON ac.reference FROM PUBLIC;
REVOKE ALL ON SEQUENCE ac.reference_seq_seq FROM PUBLIC;
REVOKE ALL ON FUNCTION ac.publish_reference(text, text, text, text, text), ac.reference_after(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ac.publish_reference(text, text, text, text, text), ac.reference_after(bigint)
    TO ac_agent, ac_lead;
