#!/usr/bin/env bash
# Installs what the browser tests (tests/browser/) need, skipping what is
# already there: Debian's Chromium (/usr/bin/chromium) and the npm dev
# dependencies (playwright-core drives that Chromium; `npx playwright install`
# cannot download browsers on an offline machine, and is not needed).
#
# Idempotent: `apt-get update` runs at most once, and only when Chromium is
# missing. Runs as root (as CI does); otherwise through sudo when available.
set -euo pipefail

cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
fi

# sqlite3: the delivery test reads the collector's database file with it.
# CHROMIUM and SQLITE3 name other binaries (another distribution, no root).
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
SQLITE3="${SQLITE3:-/usr/bin/sqlite3}"
if [ -x "$CHROMIUM" ] && [ -x "$SQLITE3" ]; then
  echo "setup-browser: chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
elif ! command -v apt-get >/dev/null 2>&1 || { [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; }; then
  echo "setup-browser: $CHROMIUM or $SQLITE3 is missing, and apt-get cannot install them here (no apt-get, or not root and no sudo)." >&2
  echo "setup-browser: install Chromium and sqlite3 yourself, then run again with CHROMIUM=/path/to/chromium SQLITE3=/path/to/sqlite3." >&2
  exit 1
else
  echo "setup-browser: $CHROMIUM or $SQLITE3 is missing; running apt-get update"
  $SUDO apt-get update
  echo "setup-browser: apt-get install -y chromium sqlite3"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium sqlite3
  echo "setup-browser: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
  for bin in "$CHROMIUM" "$SQLITE3"; do
    [ -x "$bin" ] || { echo "setup-browser: $bin is still missing (CHROMIUM or SQLITE3 names another path than apt installs to)" >&2; exit 1; }
  done
fi

if [ -f node_modules/playwright-core/package.json ]; then
  echo "setup-browser: playwright-core already installed ($(node -p "require('./node_modules/playwright-core/package.json').version"))"
else
  echo "setup-browser: npm install (playwright-core and the other dev dependencies)"
  if [ -f package-lock.json ]; then
    npm install --no-audit --no-fund
  else
    npm install --no-audit --no-fund playwright-core
  fi
fi
