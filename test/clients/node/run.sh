#!/usr/bin/env bash
# Node.js client and ORM tests (clients.mjs) with the npm packages pinned in package-lock.json.
# Needs the libpq environment (PGHOST, PGPORT, PGUSER) of a running server with piramid and its
# "vector" alias installed; test/clients/run.sh runs it. Exits non-zero when any client fails.
set -euo pipefail
cd "$(dirname "$0")"
for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "client node: FAIL: $tool not found (install Node.js 20.19 or newer with npm)" >&2
        exit 1
    fi
done
npm ci --no-audit --no-fund --loglevel=error >/dev/null
exec node clients.mjs
