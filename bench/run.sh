#!/usr/bin/env bash
# Runs the benchmark protocol (../shared/BENCHMARKS.md) on one TEXMEX dataset folder.
#   bench/run.sh DATASET_DIR [run.sh options] [bench.py options]
# By default: installs missing apt packages (as root), builds and installs piramid, starts a
# throwaway cluster with the protocol's settings, runs bench/bench.py against it over loopback
# TCP, then stops and removes the cluster (also on failure or Ctrl-C).
# run.sh options:
#   --reuse-server   use the server the PG* environment variables name (no cluster, no install)
#   --no-build       skip build_and_install (use the piramid already installed)
# Everything else goes to bench.py (see bench/bench.py --help): --ef-search, --passes, --m,
# --ef-construction, --queries, --no-index, --hnswlib, --no-pg, --pgvector-anchor, ...
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
export PIRAMID_ROOT=${PIRAMID_ROOT:-$(dirname "$BENCH")}
# shellcheck source=../scripts/lib.sh
source "$PIRAMID_ROOT/scripts/lib.sh"

reuse=0
build=1
no_pg=0
args=()
for a in "$@"; do
    case "$a" in
        --reuse-server) reuse=1 ;;
        --no-build) build=0 ;;
        --no-pg) no_pg=1; args+=("$a") ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exec /usr/bin/python3 "$BENCH/bench.py" --help ;;
        *) args+=("$a") ;;
    esac
done
if [ ${#args[@]} -eq 0 ]; then
    echo "usage: bench/run.sh DATASET_DIR [options]   (--help for the options)" >&2
    exit 2
fi

if [ $reuse = 1 ] || [ $no_pg = 1 ]; then
    exec /usr/bin/python3 "$BENCH/bench.py" "${args[@]}"
# The plots (bench/plots/*.png) from the newest result of each dataset, this run's included.
/usr/bin/python3 "$BENCH/plot.py" || log "bench/plot.py failed (the figures above stand)"
fi

# matplotlib draws the plots (bench/plot.py)
PIRAMID_APT_PACKAGES="$PIRAMID_APT_PACKAGES python3-matplotlib"
ensure_deps
[ $build = 1 ] && build_and_install

trap stop_cluster EXIT
trap 'exit 130' INT TERM
# The protocol's settings (later lines win over start_cluster's fsync = off).
start_cluster \
    "shared_buffers = 4GB" \
    "effective_cache_size = 16GB" \
    "work_mem = 64MB" \
    "maintenance_work_mem = 2GB" \
    "max_parallel_maintenance_workers = 1" \
    "max_parallel_workers_per_gather = 0" \
    "random_page_cost = 1.1" \
    "jit = off" \
    "autovacuum = off" \
    "fsync = on" \
    "full_page_writes = on"

/usr/bin/python3 "$BENCH/bench.py" "${args[@]}"
# The plots (bench/plots/*.png) from the newest result of each dataset, this run's included.
/usr/bin/python3 "$BENCH/plot.py" || log "bench/plot.py failed (the figures above stand)"
