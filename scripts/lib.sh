# Shared shell helpers for test/run.sh, scripts/demo.sh and bench/. Source, do not run.
# Postgres refuses to run as root, so servers run as an unprivileged OS user (PIRAMID_OS_USER,
# default "postgres") in a throwaway directory; clients connect over a Unix socket there.

PIRAMID_ROOT=${PIRAMID_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PIRAMID_OS_USER=${PIRAMID_OS_USER:-postgres}
PG_CONFIG=${PG_CONFIG:-pg_config}
PIRAMID_APT_PACKAGES="build-essential cmake g++ postgresql-15 postgresql-client-15 \
postgresql-server-dev-15 libipc-run-perl postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl \
libgtest-dev libbenchmark-dev python3 python3-numpy python3-psycopg2 python3-hnswlib \
python3-psycopg python3-asyncpg python3-sqlalchemy python3-django nodejs debhelper"

log() { printf '==> %s\n' "$*" >&2; }

# Installs missing apt packages (only when running as root; otherwise they must be present).
ensure_deps() {
    local missing=()
    for p in $PIRAMID_APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" != 0 ]; then
            log "missing packages (install as root): ${missing[*]}"
            return 1
        fi
        log "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    PG_BINDIR=$($PG_CONFIG --bindir)
    export PG_BINDIR
    if ! id "$PIRAMID_OS_USER" >/dev/null 2>&1; then
        useradd --system --create-home "$PIRAMID_OS_USER"
    fi
}

# Runs a command as the unprivileged OS user (or as is, when we are not root).
as_pg_user() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$PIRAMID_OS_USER" -- env PATH="$PG_BINDIR:$PATH" "$@"
    else
        env PATH="$PG_BINDIR:$PATH" "$@"
    fi
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Builds and installs the extension into the PostgreSQL that pg_config names.
build_and_install() {
    log "building piramid.so"
    make -C "$PIRAMID_ROOT" -s -j2 PG_CONFIG="$PG_CONFIG"
    if [ "$(id -u)" = 0 ]; then
        make -C "$PIRAMID_ROOT" -s install PG_CONFIG="$PG_CONFIG" &&
            # the opt-in "vector" alias (sql/vector_alias.sql, test/clients use it)
            make -C "$PIRAMID_ROOT" -s install-vector-alias PG_CONFIG="$PG_CONFIG"
    else
        log "not root: skipping make install (run it as root)"
    fi
}

# start_cluster [extra postgresql.conf lines...]: creates and starts a throwaway cluster.
# Exports PIRAMID_TMP, PGDATA, PGHOST, PGPORT, PGUSER, PGDATABASE.
start_cluster() {
    PIRAMID_TMP=$(mktemp -d /tmp/piramid.XXXXXX)
    chmod 755 "$PIRAMID_TMP"
    [ "$(id -u)" = 0 ] && chown "$PIRAMID_OS_USER" "$PIRAMID_TMP"
    export PIRAMID_TMP
    export PGDATA="$PIRAMID_TMP/data" PGHOST="$PIRAMID_TMP" PGPORT=$(free_port)
    export PGUSER=postgres PGDATABASE=postgres
    as_pg_user initdb -D "$PGDATA" -U postgres -A trust --no-sync >"$PIRAMID_TMP/initdb.log" 2>&1 ||
        { cat "$PIRAMID_TMP/initdb.log"; return 1; }
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $PGPORT"
        echo "unix_socket_directories = '$PIRAMID_TMP'"
        echo "fsync = off"
        echo "max_connections = 40"
        for line in "$@"; do echo "$line"; done
    } >>"$PGDATA/postgresql.conf"
    as_pg_user pg_ctl -D "$PGDATA" -l "$PIRAMID_TMP/server.log" -w start >/dev/null ||
        { cat "$PIRAMID_TMP/server.log"; return 1; }
    log "cluster up: PGHOST=$PGHOST PGPORT=$PGPORT"
}

stop_cluster() {
    if [ -n "${PGDATA:-}" ] && [ -f "$PGDATA/postmaster.pid" ]; then
        as_pg_user pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [ -n "${PIRAMID_TMP:-}" ] && [ -z "${PIRAMID_KEEP_TMP:-}" ]; then
        rm -rf "$PIRAMID_TMP"
    fi
}
