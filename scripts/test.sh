#!/usr/bin/env bash
# Runs every test of the workspace against a real PostgreSQL (a fresh
# database per test) and, for the widget and the console, a real headless
# Chromium; first the console's own unit tests and its build (which the
# browser tests use). Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/postgres.sh
scripts/browser.sh
scripts/console.sh --test
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
exec cargo test --workspace --locked "$@"
