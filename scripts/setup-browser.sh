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
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/sqlite3 ]; then
  echo "setup-browser: chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
else
  echo "setup-browser: /usr/bin/chromium or /usr/bin/sqlite3 is missing; running apt-get update"
  $SUDO apt-get update
  echo "setup-browser: apt-get install -y chromium sqlite3"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium sqlite3
  echo "setup-browser: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
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
