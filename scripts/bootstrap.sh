#!/bin/sh
# Installs npm dependencies (including Node 24 as node_modules/.bin/node) when
# they are missing or older than package-lock.json. A no-op otherwise.
# POSIX sh; may run under the system Node 20 — it only needs npm.
set -eu
cd "$(dirname "$0")/.."

need_install=
if [ ! -x node_modules/.bin/node ]; then
  need_install="node_modules/.bin/node is missing"
elif [ -f package-lock.json ]; then
  if [ ! -f node_modules/.package-lock.json ]; then
    need_install="node_modules/.package-lock.json is missing"
  elif [ -n "$(find package-lock.json -newer node_modules/.package-lock.json)" ]; then
    need_install="package-lock.json changed since the last install"
  fi
fi
[ -z "$need_install" ] && exit 0

if ! command -v npm >/dev/null 2>&1; then
  echo "bootstrap: npm not found. Install Node.js (any version >= 18 with npm) first." >&2
  exit 1
fi

if [ -f package-lock.json ]; then
  echo "bootstrap: $need_install; running npm ci…" >&2
  npm ci --no-audit --no-fund
else
  echo "bootstrap: $need_install; running npm install (no package-lock.json)…" >&2
  npm install --no-audit --no-fund
fi

if [ ! -x node_modules/.bin/node ]; then
  echo "bootstrap: npm finished but node_modules/.bin/node (Node 24 from the 'node' package) is missing." >&2
  exit 1
fi
