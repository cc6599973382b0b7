#!/bin/bash
# Runs pgvector's own TAP files (pgvector 0.8.x test/t/*.pl, kept here under $PGV_TAP/t, never in
# this repository: they are pgvector's, fetch them from its repository at the version to compare
# with) against piramid. They run `CREATE EXTENSION vector`, so piramid's `vector` alias is
# installed with it.
#
#   scripts/pgvector-tap.sh [WORKTREE] [TEST...]   (PGV_TAP=DIR: where the files are, default /tmp/pgv-tap)
#     WORKTREE  a piramid checkout (default /work/main; a first argument that is a directory)
#     TEST      file names, with or without .pl (default: every $PGV_TAP/t/*.pl)
#   NOBUILD=1       skip the build (use what WORKTREE has built)
#   TAP_TIMEOUT=S   seconds one file may run (default 1800); past it the file counts as TIMEOUT
#   KEEP_DATA=1     keep the clusters' data directories of failed files (default: removed, the
#                   logs are kept)
#
# Builds WORKTREE under /tmp/piramid-build.lock, then, under /tmp/piramid-install.lock (the
# installed extension is shared: it is held for the whole run, about 15 minutes for all 44
# files on 2 cores; name the files you need to be brief), installs it and its vector alias and
# runs the files one by one with prove as the unprivileged postgres user (Postgres refuses
# root), with TESTDIR=$PGV_TAP/out. Servers a file left running (a timeout) are stopped after
# it. Results: prove's output in $PGV_TAP/out/prove/TEST.out, the TAP logs in
# $PGV_TAP/out/tmp_check/log (regress_log_TEST and the servers' logs TEST_NODE.log), a
# one-line-per-file summary in $PGV_TAP/out/summary.txt. One run at a time per $PGV_TAP.
set -u
PGV_TAP=${PGV_TAP:-/tmp/pgv-tap}
SELF=$(readlink -f "$0")
WT=/work/main
if [ $# -gt 0 ] && [ -d "$1" ]; then
    WT=$(cd "$1" && pwd)
    shift
fi
TAP_TIMEOUT=${TAP_TIMEOUT:-1800}
if [ $# -gt 0 ]; then
    TESTS=()
    for t in "$@"; do TESTS+=("$(basename "${t%.pl}").pl"); done
else
    mapfile -t TESTS < <(cd "$PGV_TAP/t" && ls *.pl)
fi
for t in "${TESTS[@]}"; do
    [ -f "$PGV_TAP/t/$t" ] || { echo "no $PGV_TAP/t/$t"; exit 2; }
done

if [ -z "${PGV_TAP_LOCKED:-}" ]; then
    if [ -z "${NOBUILD:-}" ]; then
        (cd "$WT" && flock /tmp/piramid-build.lock make -s -j2) || { echo "build failed"; exit 2; }
    fi
    # One run per $PGV_TAP (the output folder is replaced); then the install lock for the rest:
    # this script again, told that it holds the lock (it does not take it a second time). -o: the
    # servers the tests start do not inherit the lock.
    exec 8>>"$PGV_TAP/.run.lock"
    flock -n 8 || { echo "another run is using $PGV_TAP"; exit 2; }
    PGV_TAP_LOCKED=1 flock -o /tmp/piramid-install.lock "$SELF" "$WT" "${TESTS[@]}" 8>&-
    exit $?
fi

cd "$WT" && make -s install >/dev/null && make -s install-vector-alias >/dev/null ||
    { echo "install failed"; exit 2; }
source "$WT/scripts/lib.sh"
ensure_deps >/dev/null || exit 2
PGXS_DIR=$(dirname "$($PG_CONFIG --pgxs)")/..
OUT="$PGV_TAP/out"
rm -rf "$OUT"
mkdir -p "$OUT/prove"
chmod 755 "$OUT"
[ "$(id -u)" = 0 ] && chown "$PIRAMID_OS_USER" "$OUT"
{
    echo "# $(cd "$WT" && git describe --always --dirty 2>/dev/null) piramid.so md5" \
        "$(md5sum <"$($PG_CONFIG --pkglibdir)/piramid.so" | cut -c1-8), $(date -u +%FT%TZ)"
} >"$OUT/summary.txt"

# stop_leftover TEST KEEP: stops the servers of TEST's clusters that are still running, and
# drops their data directories unless KEEP is 1.
stop_leftover() {
    local t=$1 keep=$2 pid
    for pid in "$OUT"/tmp_check/t_"${t}"_*_data/pgdata/postmaster.pid; do
        [ -f "$pid" ] || continue
        as_pg_user pg_ctl -D "$(dirname "$pid")" -m immediate -w stop >/dev/null 2>&1
    done
    [ "$keep" = 1 ] || rm -rf "$OUT"/tmp_check/t_"${t}"_*_data
}

failed=0
for t in "${TESTS[@]}"; do
    name=${t%.pl}
    start=$(date +%s)
    (cd "$OUT" && as_pg_user env PG_REGRESS="$PGXS_DIR/test/regress/pg_regress" \
        PERL5LIB="$PGXS_DIR/test/perl" TESTDIR="$OUT" \
        timeout -k 30 "$TAP_TIMEOUT" prove --timer "$PGV_TAP/t/$t") >"$OUT/prove/$name.out" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    tests=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\).*/\1/p' "$OUT/prove/$name.out")
    if [ $rc = 0 ]; then
        status=ok
    elif [ $rc = 124 ] || [ $rc = 137 ]; then
        status="TIMEOUT after ${TAP_TIMEOUT}s"
    else
        status=FAIL
        bad=$(sed -n 's/^ *Failed tests*: *//p' "$OUT/prove/$name.out" | tr -s ' ' | paste -sd' ')
        [ -n "$bad" ] && status="FAIL (failed: $bad)"
        # a test that died (an error outside an assertion, a missing plan)
        grep -q 'test exited with\|Parse errors\|No plan found\|Bad plan' "$OUT/prove/$name.out" &&
            status="$status, died: see regress_log_$name"
    fi
    [ $rc = 0 ] || failed=$((failed + 1))
    stop_leftover "$name" "$([ $rc != 0 ] && [ -n "${KEEP_DATA:-}" ] && echo 1 || echo 0)"
    printf '%-45s %-7s tests=%-5s %5ss\n' "$t" "${status%% *}" "${tests:-?}" "$secs" >&2
    printf '%s %s tests=%s %ss\n' "$t" "$status" "${tests:-?}" "$secs" >>"$OUT/summary.txt"
done
echo "$(( ${#TESTS[@]} - failed )) of ${#TESTS[@]} files passed; summary: $OUT/summary.txt," \
    "logs: $OUT/tmp_check/log"
[ $failed = 0 ]
