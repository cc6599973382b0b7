#!/usr/bin/env bash
# The GPU check kit (README, "GPU check kit"): on a machine with an NVIDIA GPU and CUDA, without
# PostgreSQL or network, in under 8 minutes: the CudaEngine unit tests (parity with the CPU
# engine, cancellation, threshold calibration), then piramid_engine_bench (batched exact k-NN
# GPU vs CPU on 1M x 128 and 100k x 768 for batches of 1..1000; the engine-driven build on the
# GPU vs the threaded CPU build on 1M x 128), written as one Markdown report.
#
#   bash scripts/gpu-check.sh [REPORT_DIR]     (default: $OUT when set, else /tmp/piramid-gpu-check)
#
# It uses a prebuilt build/ (piramid_unit, piramid_engine_bench, cuda/piramid_cuda.so: x86-64,
# sm_80/sm_90 code, as `cmake --build build` makes them on a CPU machine) and builds what is
# missing when cmake and nvcc are there. Exit status: 0 when everything passed, else 1.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTDIR=${1:-${OUT:-/tmp/piramid-gpu-check}}
mkdir -p "$OUTDIR"
BUILD=${PIRAMID_BUILD_DIR:-$ROOT/build}
PLUGIN=${PIRAMID_CUDA_PLUGIN:-$BUILD/cuda/piramid_cuda.so}
REPORT="$OUTDIR/gpu-report.md"
rc=0

say() { printf '%s\n' "$*" | tee -a "$REPORT"; }
: >"$REPORT"

if [ ! -x "$BUILD/piramid_engine_bench" ] || [ ! -f "$PLUGIN" ]; then
    if command -v cmake >/dev/null && command -v nvcc >/dev/null; then
        echo "building what build/ lacks" >&2
        cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPIRAMID_CUDA=ON >"$OUTDIR/cmake.log" 2>&1
        cmake --build "$BUILD" -j"$(nproc)" --target piramid_engine_bench piramid_cuda \
            >>"$OUTDIR/cmake.log" 2>&1 || { tail -30 "$OUTDIR/cmake.log"; exit 1; }
    else
        echo "no prebuilt $BUILD/piramid_engine_bench and $PLUGIN, and no cmake/nvcc to build them" >&2
        exit 1
    fi
fi

say "# piramid GPU check"
say ""
say "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(uname -srm); git: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if command -v nvidia-smi >/dev/null; then
    say "- nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -4 | paste -sd';')"
else
    say "- nvidia-smi: not found"
fi
say "- CPU: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
say ""

say "## CudaEngine unit tests"
say ""
if [ -x "$BUILD/piramid_unit" ]; then
    PIRAMID_TEST_GPU=1 PIRAMID_CUDA_PLUGIN="$PLUGIN" timeout 240 "$BUILD/piramid_unit" \
        --gtest_filter='CudaEngine.*:*Gpu*:*Cuda*' >"$OUTDIR/unit.log" 2>&1
    urc=$?
    say '```'
    grep -E '^\[ +(OK|FAILED|SKIPPED|PASSED) +\]|^calibration|tests? ran' "$OUTDIR/unit.log" | tee -a "$REPORT"
    say '```'
    [ $urc -eq 0 ] || { say "unit tests: FAILED (exit $urc; see unit.log)"; rc=1; }
else
    say "piramid_unit is not in $BUILD (GoogleTest missing when it was built): skipped"
    rc=1
fi
say ""

timeout 420 "$BUILD/piramid_engine_bench" --plugin "$PLUGIN" --report "$OUTDIR/engine.md" \
    >"$OUTDIR/engine.log" 2>&1
brc=$?
if [ -f "$OUTDIR/engine.md" ]; then
    sed '1d' "$OUTDIR/engine.md" >>"$REPORT"
else
    tail -40 "$OUTDIR/engine.log" >>"$REPORT"
fi
case $brc in
    0) ;;
    2) say "engine bench: no usable GPU"; rc=1 ;;
    124) say "engine bench: timed out after 420 s"; rc=1 ;;
    *) say "engine bench: FAILED (exit $brc)"; rc=1 ;;
esac
say ""
say "Overall: $([ $rc -eq 0 ] && echo PASS || echo FAIL)"
echo "report: $REPORT" >&2
exit $rc
