#!/usr/bin/env bash
# Runs every test of the workspace against a real PostgreSQL (a fresh
# database per test) and, for the widget, a real headless Chromium. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/postgres.sh
scripts/browser.sh
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
exec cargo test --workspace --locked "$@"
