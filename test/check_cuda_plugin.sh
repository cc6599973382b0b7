#!/usr/bin/env bash
# Checks the built CUDA plugin: it exports only the versioned entry point and does not depend on
# a shared CUDA runtime (or any CUDA library), so piramid.so can dlopen it on machines without
# CUDA installed. Usage: test/check_cuda_plugin.sh [path/to/piramid_cuda.so]
# Exit 0 with a note when there is no plugin to check (CPU-only build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SO=${1:-$ROOT/build/cuda/piramid_cuda.so}
if [ ! -f "$SO" ]; then
    if command -v nvcc >/dev/null 2>&1 && [ "${PIRAMID_CUDA:-AUTO}" != OFF ]; then
        echo "nvcc is on PATH but $SO was not built"
        exit 1
    fi
    echo "no CUDA plugin built (CPU-only build): nothing to check"
    exit 0
fi
fail=0
exports=$(nm -D --defined-only "$SO" | awk '$2 != "A" {print $3}')
if [ "$exports" != "piramid_cuda_plugin_v1@@PIRAMID_CUDA_1" ]; then
    echo "unexpected exported symbols:"; echo "$exports"; fail=1
fi
if readelf -d "$SO" | grep NEEDED | grep -Ei 'libcuda|libcudart|libcublas|libnv'; then
    echo "the plugin depends on a shared CUDA library (must link cudart statically)"; fail=1
fi
if ! readelf -d "$SO" | grep -q NEEDED; then
    echo "readelf found no dynamic section"; fail=1
fi
[ $fail -eq 0 ] && echo "CUDA plugin OK: $SO exports only piramid_cuda_plugin_v1@@PIRAMID_CUDA_1, no shared CUDA runtime"
exit $fail
