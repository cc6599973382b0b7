#!/usr/bin/env bash
# The whole test suite (README: `make test`). On a fresh Debian 12 machine, as root: installs what
# it needs with apt, builds, runs the unit tests (CTest), installs the extension, runs pg_regress,
# pgTAP and the TAP tests on throwaway clusters, and exits non-zero on any failure.
#   PIRAMID_SKIP_TAP=1  skip the TAP tests (quick loop while developing)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PIRAMID_ROOT=$ROOT
# shellcheck source=../scripts/lib.sh
source "$ROOT/scripts/lib.sh"

ensure_deps || exit 1

passed=0
failed=0
failures=()
step() {  # step NAME COMMAND...
    local name=$1
    shift
    log "$name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

unit_tests() {
    local bdir="$ROOT/build"
    cmake -S "$ROOT" -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DPIRAMID_WERROR=ON >/dev/null &&
        cmake --build "$bdir" -j2 >"$bdir.log" 2>&1 || { tail -50 "$bdir.log"; return 1; }
    ctest --test-dir "$bdir" --output-on-failure -j2
}

cpu_only_build() {
    # The same core and unit tests configured with no nvcc on PATH: the CPU-only build must
    # succeed, build no plugin, and pass (piramid.so never links CUDA in either build).
    local nocuda bdir="$ROOT/build-cpu"
    nocuda=$(printf '%s' "$PATH" | tr ':' '\n' | while read -r d; do [ -x "$d/nvcc" ] || printf '%s\n' "$d"; done | paste -sd:)
    env PATH="$nocuda" CUDACXX= cmake -S "$ROOT" -B "$bdir" -DCMAKE_BUILD_TYPE=Release \
        -DPIRAMID_WERROR=ON >/dev/null &&
        env PATH="$nocuda" cmake --build "$bdir" -j2 >"$bdir.log" 2>&1 || { tail -50 "$bdir.log"; return 1; }
    if [ -e "$bdir/cuda/piramid_cuda.so" ]; then
        echo "the CPU-only build produced a CUDA plugin"
        return 1
    fi
    ctest --test-dir "$bdir" -j2 --output-on-failure | tail -15
    return "${PIPESTATUS[0]}"
}

core_isolation() {
    # src/core must never include a Postgres header (it is also compiled without their path).
    if grep -rnE '#\s*include\s*[<"](postgres|fmgr|utils/|access/|storage/|catalog/)' "$ROOT/src/core"; then
        echo "src/core includes a Postgres header"
        return 1
    fi
}

regress() {
    # pg_regress writes results/ into the tree; clients run as root, connecting as postgres.
    make -C "$ROOT" -s installcheck PG_CONFIG="$PG_CONFIG" ISOLATION= || {
        [ -f "$ROOT/regression.diffs" ] && head -200 "$ROOT/regression.diffs"
        return 1
    }
}

isolation() {
    # pg_isolation_regress on test/isolation/specs (the Makefile's ISOLATION); writes output_iso/.
    make -C "$ROOT" -s installcheck PG_CONFIG="$PG_CONFIG" REGRESS= || {
        [ -f "$ROOT/output_iso/regression.diffs" ] && head -200 "$ROOT/output_iso/regression.diffs"
        return 1
    }
}

pgtap() {
    local files=("$ROOT"/test/pgtap/*.sql)
    [ -e "${files[0]}" ] || return 0
    psql -q -X -c 'CREATE DATABASE piramid_pgtap' >/dev/null &&
        pg_prove -d piramid_pgtap "${files[@]}"
}

tap() {
    local files=("$ROOT"/test/t/*.pl)
    [ -e "${files[0]}" ] || return 0
    local pgxs_dir
    pgxs_dir=$(dirname "$($PG_CONFIG --pgxs)")/..
    local tapdir
    tapdir=$(mktemp -d /tmp/piramid-tap.XXXXXX)
    chmod 755 "$tapdir"
    [ "$(id -u)" = 0 ] && chown "$PIRAMID_OS_USER" "$tapdir"
    (cd "$tapdir" && as_pg_user env PG_REGRESS="$pgxs_dir/test/regress/pg_regress" \
        PERL5LIB="$pgxs_dir/test/perl" PIRAMID_ROOT="$ROOT" \
        PIRAMID_SHARED_DATA="$ROOT/../shared/data" TESTDIR="$tapdir" \
        prove --timer "${files[@]}")
    local rc=$?
    if [ $rc -ne 0 ]; then
        find "$tapdir" -name '*.log' -newer "$ROOT/Makefile" | head -5 | while read -r f; do
            echo "---- $f"; tail -40 "$f"; done
    fi
    rm -rf "$tapdir"
    return $rc
}

step "core isolation check" core_isolation
step "unit tests (CTest)" unit_tests
step "CPU-only build (no nvcc on PATH) + unit tests" cpu_only_build
# [engine/gpu] the CUDA plugin, when nvcc built one: only the versioned export, static cudart.
step "CUDA plugin check" bash "$ROOT/test/check_cuda_plugin.sh"
build_and_install || { echo "0 passed, 1 failed"; exit 1; }

installed_plugin() {
    # `make` built cuda/piramid_cuda.so when nvcc is on PATH and `make install` put it next to
    # piramid.so; without nvcc neither exists.
    local lib
    lib="$("$PG_CONFIG" --pkglibdir)/piramid_cuda.so"
    if ! command -v nvcc >/dev/null; then
        echo "no nvcc on PATH: no plugin expected"
        return 0
    fi
    [ -f "$ROOT/cuda/piramid_cuda.so" ] || { echo "make built no cuda/piramid_cuda.so"; return 1; }
    cmp -s "$ROOT/cuda/piramid_cuda.so" "$lib" || { echo "make install did not install it as $lib"; return 1; }
    bash "$ROOT/test/check_cuda_plugin.sh" "$lib"
}
step "make && make install: the CUDA plugin" installed_plugin

trap stop_cluster EXIT
start_cluster || { echo "0 passed, 1 failed"; exit 1; }
step "pg_regress" regress
step "isolation" isolation
step "pgTAP" pgtap
step "differential oracle (test/oracle)" /usr/bin/python3 "$ROOT/test/oracle/oracle.py"
step "clients and ORMs (test/clients)" bash "$ROOT/test/clients/run.sh"
stop_cluster
trap - EXIT

if [ -z "${PIRAMID_SKIP_TAP:-}" ]; then
    step "TAP tests" tap
fi
# The Debian packages: make deb, dpkg -i, pg_regress + isolation against the installed packages,
# then purge them and put back what `make install` installed above (test/deb/run.sh).
step "Debian packages (make deb, dpkg -i, installcheck)" bash "$ROOT/test/deb/run.sh"

echo
if [ $failed -ne 0 ]; then
    echo "failed steps: ${failures[*]}"
fi
echo "suites: $passed passed, $failed failed"
[ $failed -eq 0 ]
