#!/usr/bin/env bash
# Builds the agent console (console/ -> console/dist, which `livedesk`
# serves at /console/) when it is missing or older than its sources, and
# installs the demo's country database (demo/geo). Node.js and npm come
# from Debian's packages when missing. `--test` also runs the console's
# unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "console.sh: installing nodejs and npm from Debian packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm >/dev/null
fi

# `npm ci` when node_modules is missing or older than the lockfile.
install() {
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "console.sh: npm ci in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
}

install demo/geo
install console

stale=$(find console/src console/index.html console/package-lock.json console/vite.config.ts console/codegen.ts \
  console/tsconfig.json console/scripts api-graphql/schema.graphql -newer console/dist/index.html 2>/dev/null | head -1 || true)
if [ ! -f console/dist/index.html ] || [ -n "$stale" ]; then
  echo "console.sh: building the console${stale:+ ($stale changed)}"
  npm run --prefix console build --silent
fi

if [ "${1:-}" = "--test" ]; then
  npm test --prefix console --silent
fi
