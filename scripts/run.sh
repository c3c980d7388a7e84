#!/usr/bin/env bash
# Runs the Livedesk demo (a demo site, agents with printed passwords and
# tokens, simulated visitors, the agent console at /console/) on a local
# PostgreSQL (found or started) at http://127.0.0.1:8080 (LIVEDESK_BIND to
# change it). Builds the console when it is missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/postgres.sh
scripts/console.sh
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/livedesk?sslmode=disable}
exec cargo run --release --locked -p livedesk -- demo "$@"
