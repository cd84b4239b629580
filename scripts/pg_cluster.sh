#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on 127.0.0.1 and a free port, run as the `postgres` user
# (initdb and pg_ctl refuse to run as root). Source this file, then `pg_cluster_start` / `pg_cluster_stop`.
# pg_cluster_start exports AGENT_CONSOLE_TEST_PG, the superuser URL the tests use.

pg_find_bin() {
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
    done
    return 1
}

pg_cluster_start() {
    local bin
    if ! bin=$(pg_find_bin); then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "pg_cluster: installing PostgreSQL from Debian's packages" >&2
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || return 1
            bin=$(pg_find_bin) || return 1
        else
            echo "pg_cluster: no PostgreSQL binaries found" >&2
            return 1
        fi
    fi
    local runas=()
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql postgres
        runas=(runuser -u postgres --)
    fi
    PG_TEST_DIR=$(mktemp -d /tmp/agent-console-pg.XXXXXX)
    chmod 755 "$PG_TEST_DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$PG_TEST_DIR"
    PG_TEST_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${runas[@]}" "$bin/initdb" -D "$PG_TEST_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale >"$PG_TEST_DIR/initdb.log" 2>&1 || {
        cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
    "${runas[@]}" "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 60 \
        -o "-p $PG_TEST_PORT -k $PG_TEST_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=${PG_MAX_CONNECTIONS:-200}" \
        start >/dev/null || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
    PG_TEST_BIN=$bin
    export PG_TEST_DIR PG_TEST_PORT PG_TEST_BIN
    export AGENT_CONSOLE_TEST_PG="postgresql://postgres@127.0.0.1:$PG_TEST_PORT/postgres"
    echo "pg_cluster: PostgreSQL running on 127.0.0.1:$PG_TEST_PORT" >&2
}

pg_cluster_stop() {
    [ -n "${PG_TEST_DIR:-}" ] || return 0
    local runas=()
    [ "$(id -u)" = 0 ] && runas=(runuser -u postgres --)
    "${runas[@]}" "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TEST_DIR"
    unset PG_TEST_DIR
}
