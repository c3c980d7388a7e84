#!/usr/bin/env bash
# Runs the Livedesk demo (a demo site, agents with printed tokens and
# simulated visitors) on a local PostgreSQL (found or started) at
# http://127.0.0.1:8080 (LIVEDESK_BIND to change it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/postgres.sh
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/livedesk?sslmode=disable}
exec cargo run --release --locked -p livedesk -- demo "$@"
