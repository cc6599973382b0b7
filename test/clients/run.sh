#!/usr/bin/env bash
# Client and ORM tests (README, "Using from your ORM"): Python from Debian's packages, Node with
# pinned npm packages. Needs the libpq environment (PGHOST, PGPORT, PGUSER) of a running server
# with piramid and its "vector" alias installed (make install install-vector-alias); test/run.sh
# runs it on its throwaway cluster. Exits non-zero when any client fails.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
rc=0
/usr/bin/python3 "$HERE/python/clients.py" || rc=1
if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ]; then
    # Debian packages npm apart from nodejs (NodeSource's nodejs includes it)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
fi
bash "$HERE/node/run.sh" || rc=1
exit $rc
