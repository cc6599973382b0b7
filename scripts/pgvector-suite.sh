#!/bin/bash
# Reruns pgvector's own regression files (pgvector 0.8.x test/sql + test/expected, kept here under
# $PGV/sql and $PGV/expected, never in this repository: they are pgvector's, fetch them from
# its repository at the version to compare with) against piramid.
#
#   scripts/pgvector-suite.sh [WORKTREE] [TEST...]   (PGV=DIR: where the files are, default /tmp/pgv)
#     WORKTREE  a piramid checkout (default /work/main)
#     TEST      test names (default: every /tmp/pgv/sql/*.sql)
#   NOBUILD=1   skip the build (use what WORKTREE has built)
#   EXT=piramid  load piramid instead of its `vector` alias (default EXT=vector, as pgvector's own
#               Makefile does with --load-extension=vector)
#
# Builds WORKTREE under /tmp/piramid-build.lock, then, under /tmp/piramid-install.lock (the
# installed extension is shared), installs it and its vector alias, starts a throwaway cluster,
# runs pg_regress and stops the cluster. Results: /tmp/pgv/out/results/*.out, the diff in
# /tmp/pgv/out/regression.diffs, a one-line-per-test summary in /tmp/pgv/out/summary.txt.
set -u
PGV=${PGV:-/tmp/pgv}
WT=${1:-/work/main}
shift || true
EXT=${EXT:-vector}
if [ $# -gt 0 ]; then
    TESTS="$*"
else
    TESTS=$(cd "$PGV/sql" && ls *.sql | sed 's/\.sql$//' | tr '\n' ' ')
fi
PG_REGRESS=$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress

if [ -z "${NOBUILD:-}" ]; then
    (cd "$WT" && flock /tmp/piramid-build.lock make -s -j2) || { echo "build failed"; exit 2; }
fi

rm -rf "$PGV/out"
mkdir -p "$PGV/out"
export WT PGV EXT TESTS PG_REGRESS
flock /tmp/piramid-install.lock bash -c '
    cd "$WT" && make -s install >/dev/null && make -s install-vector-alias >/dev/null || exit 2
    source scripts/lib.sh
    ensure_deps >/dev/null && start_cluster >/dev/null 2>&1 || exit 2
    # copy.sql writes results/*.bin relative to the client: run from the output directory
    cd "$PGV/out"
    "$PG_REGRESS" --inputdir="$PGV" --outputdir="$PGV/out" --bindir="$(pg_config --bindir)" \
        --dbname=pgvector_regression --load-extension="$EXT" $TESTS >"$PGV/out/pg_regress.log" 2>&1
    rc=$?
    stop_cluster
    exit $rc'
rc=$?
grep -E '^test |tests (passed|failed)|of [0-9]+ tests' "$PGV/out/pg_regress.log" | tee "$PGV/out/summary.txt"
[ $rc = 2 ] && { echo "install or cluster start failed"; cat "$PGV/out/pg_regress.log"; }
echo "diff: $PGV/out/regression.diffs ($(grep -c '^@@' "$PGV/out/regression.diffs" 2>/dev/null || echo 0) hunks)"
echo "per-test hunks: python3 scripts/pgvector-suite-hunks.py [--all] [TEST...]   (without --all: hides hunks naming"
echo "  the sparsevec hnsw opclasses, the missing feature)"
exit $rc
