#!/usr/bin/env bash
# `make deb`: builds the Debian packages postgresql-15-piramid and
# postgresql-15-piramid-vector-alias (debian/) with dpkg-buildpackage, on a copy of the source
# tree in $PIRAMID_DEB_OUT/src (default build-deb/, git-ignored), so that the packaging's
# `make clean` never touches the working tree. The .debs land in $PIRAMID_DEB_OUT.
# Missing build dependencies are installed with apt-get build-dep when run as root; otherwise
# they are listed and the build stops. Nothing else needs root (Rules-Requires-Root: no).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${PIRAMID_DEB_OUT:-$ROOT/build-deb}
log() { printf '==> %s\n' "$*" >&2; }

# The package version's upstream part must be the Makefile's EXTVERSION.
extversion=$(sed -n 's/^EXTVERSION *= *//p' "$ROOT/Makefile")
debversion=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
if [ "${debversion%-*}" != "$extversion" ]; then
    echo "debian/changelog is at $debversion, the Makefile's EXTVERSION is $extversion:" \
        "add a debian/changelog entry ($extversion-1)" >&2
    exit 1
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SRC="$OUT/src/piramid-$extversion"
rm -rf "$OUT/src"
mkdir -p "$SRC"
log "copying the source tree to $SRC"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # tracked and untracked files that git does not ignore (no build outputs)
    (cd "$ROOT" && git ls-files -z -c -o --exclude-standard --deduplicate |
        tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$SRC"
else
    # no git (e.g. a Docker build context): everything but the usual build outputs
    (cd "$ROOT" && tar --exclude-vcs --exclude=./build --exclude='./build-*' \
        --exclude=./.deps --exclude=./results --exclude=./output_iso --exclude=./tmp_check \
        --exclude='*.o' --exclude='*.so' --exclude='*.bc' --exclude=./regression.diffs \
        --exclude=./regression.out --exclude="./sql/piramid--$extversion.sql" \
        --exclude="./sql/piramid--*--$extversion.sql" -cf - .) | tar -xf - -C "$SRC"
fi

cd "$SRC"
if ! dpkg-checkbuilddeps >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        log "installing the build dependencies (apt-get build-dep)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get build-dep -y -qq "$SRC" >/dev/null
    else
        dpkg-checkbuilddeps || true
        echo "install the build dependencies above as root (apt-get build-dep $ROOT)" >&2
        exit 1
    fi
fi

log "dpkg-buildpackage (log: $OUT/build.log)"
if ! dpkg-buildpackage -b -us -uc -j"${PIRAMID_DEB_JOBS:-2}" >"$OUT/build.log" 2>&1; then
    tail -60 "$OUT/build.log"
    echo "dpkg-buildpackage failed (full log: $OUT/build.log; tree: $SRC)" >&2
    exit 1
fi
cd "$OUT"
rm -f "$OUT"/*.deb "$OUT"/*.ddeb "$OUT"/*.buildinfo "$OUT"/*.changes
mv "$OUT"/src/*.deb "$OUT"/src/*.buildinfo "$OUT"/src/*.changes "$OUT"/
mv "$OUT"/src/*.ddeb "$OUT"/ 2>/dev/null || true
rm -rf "$OUT/src"
ls -1 "$OUT"/*.deb
