#!/usr/bin/env bash
# Set-up command 1: install Agent Console into ./.venv and open the console on the embedded default
# (a local SQLite database under ~/.local/share/agent-console; demo data is added on the first run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/agent-console "$@"
