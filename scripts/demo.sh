#!/usr/bin/env bash
# `make demo`: build and install piramid, start a throwaway cluster, load a small dataset, build
# an hnsw index and run a k-NN query. Works from a clean clone as root on Debian 12 (installs
# what it needs with apt). The cluster is stopped and removed on exit, failure included.
#   PIRAMID_DEMO_DATA=DIR  TEXMEX folder to load (default ../shared/data/sift-ngt-5k; when it is
#                          absent, 5,000 random 128-d vectors are generated instead)
#   PIRAMID_NO_BUILD=1     use the piramid already installed (skip build_and_install)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PIRAMID_ROOT=$ROOT
# shellcheck source=lib.sh
source "$ROOT/scripts/lib.sh"

DATA=${PIRAMID_DEMO_DATA:-$ROOT/../shared/data/sift-ngt-5k}
PY=/usr/bin/python3
VEC="$ROOT/bench/vecdata.py"

ensure_deps
[ -n "${PIRAMID_NO_BUILD:-}" ] || build_and_install

trap stop_cluster EXIT
trap 'exit 130' INT TERM
start_cluster

sql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

if [ -f "$DATA/base.fvecs" ] && [ -f "$DATA/query.fvecs" ]; then
    source_desc="$(basename "$DATA") (base.fvecs)"
    dim=$($PY -c "import numpy as np; print(int(np.fromfile('$DATA/base.fvecs', '<i4', 1)[0]))")
    gen() { $PY "$VEC" copy "$DATA/base.fvecs"; }
    query=$($PY "$VEC" literal "$DATA/query.fvecs" 0)
    truth=""
    if [ -f "$DATA/gt.ivecs" ]; then truth=$($PY "$VEC" gt "$DATA/gt.ivecs" 0 5); fi
else
    source_desc="5,000 random vectors (no dataset at $DATA)"
    dim=128
    gen() { $PY "$VEC" random 5000 128 1; }
    query=$($PY "$VEC" random 1 128 2 | cut -f2)
    truth=""
fi

sql -c "CREATE EXTENSION piramid" \
    -c "CREATE TABLE items (id int PRIMARY KEY, embedding vector($dim))"
t0=$(now)
gen | sql -c "COPY items (id, embedding) FROM STDIN"
sql -c "VACUUM ANALYZE items"
t1=$(now)
sql -c "CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)"
t2=$(now)
rows=$(sql -At -c "SELECT count(*) FROM items")
size=$(sql -At -c "SELECT pg_size_pretty(pg_relation_size('items_embedding_idx'))")

echo
echo "piramid demo: $rows rows of vector($dim) from $source_desc"
echo "  COPY + VACUUM ANALYZE $(secs "$t0" "$t1") s; hnsw index built in $(secs "$t1" "$t2") s ($size)"
echo
echo "The 5 nearest neighbours of query 0 (L2 distance, hnsw.ef_search = 100):"
sql -P footer=off -v q="$query" <<'SQL'
SET hnsw.ef_search = 100;
SELECT id, round((embedding <-> :'q')::numeric, 3) AS distance
FROM items ORDER BY embedding <-> :'q' LIMIT 5;
SQL
if [ -n "$truth" ]; then
    got=$(sql -At -v q="$query" <<'SQL' | tr '\n' ' '
SET hnsw.ef_search = 100;
SELECT id FROM items ORDER BY embedding <-> :'q' LIMIT 5;
SQL
    )
    echo "index result:             $got"
    echo "exact answer (gt.ivecs):  $truth"
    echo
fi
echo "EXPLAIN (the vector literal is shortened here):"
sql -At -v q="$query" <<'SQL' | sed -E "s/'\[([^],]*,[^],]*,[^],]*),[^]]*\]'/'[\1,...]'/"
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> :'q' LIMIT 5;
SQL
