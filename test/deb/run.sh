#!/usr/bin/env bash
# The Debian packages, end to end (test/run.sh runs this as one suite step; as root):
#   1. `make deb` builds postgresql-15-piramid and postgresql-15-piramid-vector-alias
#      (build-deb/, or $PIRAMID_DEB_OUT), and their contents and relations are checked;
#   2. the files the packages would replace are saved, both packages are installed with
#      `dpkg -i`, and the pg_regress suite and the isolation specs (`make installcheck`, which uses
#      only the installed files) run against them on a throwaway cluster;
#   3. the packages are purged and the saved files put back, so the machine has what it had
#      before (e.g. test/run.sh's `make install`), byte for byte.
# Steps 2-3 hold /tmp/piramid-install.lock when that file exists (machines shared by several
# worktrees), and `make deb` holds /tmp/piramid-build.lock; a lock an ancestor already holds is
# not taken again.
#   PIRAMID_DEB_SKIP_BUILD=1  reuse the .debs already in the output folder
set -uo pipefail
# shellcheck disable=SC2317  # functions called from traps and checks

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export PIRAMID_ROOT=$ROOT
# shellcheck source=../../scripts/lib.sh
source "$ROOT/scripts/lib.sh"
OUT=${PIRAMID_DEB_OUT:-$ROOT/build-deb}
export PIRAMID_DEB_OUT=$OUT
INSTALL_LOCK=/tmp/piramid-install.lock
BUILD_LOCK=/tmp/piramid-build.lock

fail() {
    echo "test/deb: $*" >&2
    exit 1
}

# held_by_ancestor FILE: an flock on FILE is held by this process or one of its ancestors.
held_by_ancestor() {
    local ino holders p
    ino=$(stat -c %i "$1") || return 1
    holders=$(awk -v ino="$ino" '$2 == "FLOCK" { n = split($6, a, ":"); if (a[n] == ino) print $5 }' /proc/locks)
    [ -n "$holders" ] || return 1
    p=$$
    while [ -n "$p" ] && [ "$p" -gt 1 ]; do
        for h in $holders; do [ "$h" = "$p" ] && return 0; done
        p=$(ps -o ppid= -p "$p" | tr -d ' ')
    done
    return 1
}

# locked FILE COMMAND...: runs COMMAND holding FILE's lock when FILE exists.
locked() {
    local lock=$1
    shift
    if [ -e "$lock" ] && command -v flock >/dev/null && ! held_by_ancestor "$lock"; then
        flock "$lock" "$@"
    else
        "$@"
    fi
}

export PG_CONFIG=${PG_CONFIG:-pg_config}
extversion=$(sed -n 's/^EXTVERSION *= *//p' "$ROOT/Makefile")
debversion=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
pgmajor=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
MAIN=postgresql-$pgmajor-piramid
ALIAS=postgresql-$pgmajor-piramid-vector-alias
main_deb="$OUT/${MAIN}_${debversion}_$(dpkg --print-architecture).deb"
alias_deb="$OUT/${ALIAS}_${debversion}_all.deb"
pkglibdir=$("$PG_CONFIG" --pkglibdir)
extdir="$("$PG_CONFIG" --sharedir)/extension"

# ---- phase "install": runs under the install lock ----------------------------------------
if [ "${1:-}" = --install-phase ]; then
    [ "$(id -u)" = 0 ] || fail "dpkg -i needs root"
    installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
    # pgvector's package is someone else's: the alias conflicts with it, and it is left alone
    installed "postgresql-$pgmajor-pgvector" &&
        fail "postgresql-$pgmajor-pgvector is installed: not replacing it (remove it first)"
    # piramid's own packages, left installed by an earlier run that was stopped before its
    # purge: their files are saved below like any others, the packages are purged before the
    # new ones go in, and the files come back at the end (no longer owned by dpkg)
    leftovers=()
    for p in "$ALIAS" "$MAIN-dbgsym" "$MAIN"; do installed "$p" && leftovers+=("$p"); done
    work=$(mktemp -d /tmp/piramid-deb.XXXXXX)
    # every regular file the packages ship, and which of them exist now
    for d in "$main_deb" "$alias_deb"; do
        dpkg-deb --fsys-tarfile "$d" | tar -t | sed -n 's|^\./|/|; /[^/]$/p'
    done | sort -u >"$work/files"
    # a CUDA plugin that `make install` put next to piramid.so is not the packages': it is set
    # aside too, so that the tests see only what the packages install
    echo "$pkglibdir/piramid_cuda.so" >"$work/hidden"
    while read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done <"$work/files" >"$work/existing"
    while read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done <"$work/hidden" >>"$work/existing"
    tar -cpf "$work/before.tar" -P -T "$work/existing" 2>/dev/null || fail "could not save the installed files"
    xargs -r -d '\n' sha256sum <"$work/existing" >"$work/before.sha256"
    log "saved $(wc -l <"$work/existing") installed files that the packages replace"
    xargs -r -d '\n' rm -f <"$work/hidden"

    restore() {
        stop_cluster
        dpkg --purge "$ALIAS" "$MAIN" >/dev/null 2>&1
        local left
        left=$(while read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done <"$work/files")
        [ -z "$left" ] || { echo "after dpkg --purge, still there: $left"; rc=1; }
        tar -xpf "$work/before.tar" -P || rc=1
        if [ -s "$work/before.sha256" ] && ! sha256sum --quiet -c "$work/before.sha256"; then
            echo "the saved files were not restored"
            rc=1
        fi
        rm -rf "$work"
        log "packages purged; the previously installed files are back"
    }
    rc=0
    trap 'restore; exit $rc' EXIT
    trap 'rc=1; exit' INT TERM
    if [ ${#leftovers[@]} -gt 0 ]; then
        log "purging ${leftovers[*]}, left installed by an earlier run (their files are saved)"
        dpkg --purge "${leftovers[@]}" >/dev/null || { echo "could not purge ${leftovers[*]}"; rc=1; exit; }
    fi

    dpkg -i "$main_deb" "$alias_deb" >"$PIRAMID_DEB_OUT/dpkg.log" 2>&1 ||
        { cat "$PIRAMID_DEB_OUT/dpkg.log"; rc=1; exit; }
    # the installed files are the packages' (dpkg -V prints nothing when they match)
    if [ -n "$(dpkg -V "$MAIN" "$ALIAS")" ] ||
        [ "$(dpkg -S "$pkglibdir/piramid.so" | cut -d: -f1)" != "$MAIN" ] ||
        [ "$(dpkg -S "$extdir/vector.control" | cut -d: -f1)" != "$ALIAS" ]; then
        echo "dpkg -i did not install the packages' files"
        rc=1
        exit
    fi
    log "installed: $(dpkg-query -W -f='${Package} ${Version}\n' "$MAIN" "$ALIAS" | paste -sd, -)"

    start_cluster >/dev/null || { rc=1; exit; }
    # pg_regress, then the isolation specs, from the source tree's tests, against the installed files
    if ! make -C "$ROOT" -s installcheck PG_CONFIG="$PG_CONFIG"; then
        for f in "$ROOT/regression.diffs" "$ROOT/output_iso/regression.diffs"; do
            [ -s "$f" ] && head -200 "$f"
        done
        rc=1
    fi
    exit
fi

# ---- phase "build": make deb, check what the packages contain -----------------------------
ensure_deps || exit 1
if [ -z "${PIRAMID_DEB_SKIP_BUILD:-}" ]; then
    SECONDS=0
    locked "$BUILD_LOCK" make -C "$ROOT" -s deb PG_CONFIG="$PG_CONFIG" >/dev/null || fail "make deb failed"
    log "make deb: ${SECONDS}s"
fi
for d in "$main_deb" "$alias_deb"; do [ -f "$d" ] || fail "make deb built no $d"; done

contents() { dpkg-deb --fsys-tarfile "$1" | tar -t | sed 's|^\./|/|'; }
field() { dpkg-deb -f "$1" "$2"; }
errors=0
has() { contents "$1" | grep -qxF "$2"; }
lacks() { ! contents "$1" | grep -qE "$2"; }
field_has() { field "$1" "$2" | grep -qE "$3"; }
check_() {  # check_ DESCRIPTION COMMAND...
    local desc=$1
    shift
    if "$@"; then
        printf 'ok - %s\n' "$desc"
    else
        printf 'not ok - %s\n' "$desc"
        errors=$((errors + 1))
    fi
}

check_ "$MAIN ships piramid.so" has "$main_deb" "$pkglibdir/piramid.so"
check_ "$MAIN ships piramid.control" has "$main_deb" "$extdir/piramid.control"
check_ "$MAIN ships piramid--$extversion.sql" has "$main_deb" "$extdir/piramid--$extversion.sql"
for f in "$ROOT"/sql/piramid--*.sql; do  # the shipped scripts of earlier versions and upgrades
    b=$(basename "$f")
    check_ "$MAIN ships $b" has "$main_deb" "$extdir/$b"
done
check_ "$MAIN has no CUDA plugin (PIRAMID_CUDA=OFF)" lacks "$main_deb" 'piramid_cuda'
check_ "$MAIN has no vector.control" lacks "$main_deb" '/vector[.-]'
check_ "$MAIN depends on postgresql-$pgmajor" field_has "$main_deb" Depends "(^|, )postgresql-$pgmajor(,|$)"
check_ "$ALIAS ships vector.control" has "$alias_deb" "$extdir/vector.control"
check_ "$ALIAS ships vector--$extversion.sql" has "$alias_deb" "$extdir/vector--$extversion.sql"
check_ "$ALIAS ships no library and nothing of piramid's" lacks "$alias_deb" '\.so$|/piramid[.-]'
check_ "$ALIAS conflicts with postgresql-$pgmajor-pgvector" field_has "$alias_deb" Conflicts \
    "(^|, )postgresql-$pgmajor-pgvector(,|$)"
check_ "$ALIAS depends on $MAIN $debversion" field_has "$alias_deb" Depends "$MAIN \\(>= $debversion\\)"
check_ "$ALIAS's vector.control is marked as piramid's" \
    bash -c "dpkg-deb --fsys-tarfile '$alias_deb' | tar -xO .$extdir/vector.control | grep -q 'piramid installed as vector'"
[ $errors -eq 0 ] || fail "$errors package content checks failed"

SECONDS=0
locked "$INSTALL_LOCK" bash "$0" --install-phase
rc=$?
log "dpkg -i, installcheck, purge and restore: ${SECONDS}s"
exit $rc
