#!/usr/bin/env bash
# Makes sure the browser tests can run: Debian's Chromium at
# /usr/bin/chromium, Node.js, and playwright-core and axe-core in tests/browser
# (from its lockfile). Installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "browser.sh: installing ${missing[*]} from Debian packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -f tests/browser/node_modules/.package-lock.json ] ||
  [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
  echo "browser.sh: installing playwright-core and axe-core (tests/browser)"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi
