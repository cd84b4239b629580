#!/usr/bin/env bash
# Set-up command 2: install everything into ./.venv, start a throwaway PostgreSQL on 127.0.0.1, run every test.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k calendar`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# shellcheck source=scripts/pg_cluster.sh
source scripts/pg_cluster.sh
pg_cluster_start || { echo "test.sh: PostgreSQL could not start; the tests that need it will fail under CI" >&2; }
trap pg_cluster_stop EXIT
set +e
.venv/bin/python -m pytest -p no:cacheprovider "$@"
status=$?
set -e
exit $status
