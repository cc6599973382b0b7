#!/usr/bin/env python3
# Prints the hunks (diff -w -U2, as pg_regress compares ignoring whitespace) of `diff -w expected result` per test, dropping those whose text names a type
# of a feature piramid does not have yet (ivfflat, sparsevec indexes) unless --all is given.
# Usage: scripts/pgvector-suite-hunks.py [--all] [TEST...]   (PGV=DIR as for pgvector-suite.sh)
import subprocess, sys, re, os
allh = '--all' in sys.argv
names = [a for a in sys.argv[1:] if not a.startswith('--')]
pgv = os.environ.get('PGV', '/tmp/pgv')
if not names:
    names = sorted(f[:-4] for f in os.listdir(pgv + '/sql'))
for n in names:
    r = subprocess.run(['diff', '-w', '-U2', f'{pgv}/expected/{n}.out', f'{pgv}/out/results/{n}.out'],
                       capture_output=True, text=True).stdout
    hunks = re.split(r'(?m)^(?=@@)', r)[1:]
    kept = [h for h in hunks if allh or not re.search(r'sparsevec_l2_ops|sparsevec_ip_ops|sparsevec_cosine_ops|sparsevec_l1_ops', h)]
    try:
        print(f'=== {n}: {len(hunks)} hunks, {len(kept)} shown')
        for h in kept:
            print(h, end='')
    except BrokenPipeError:
        sys.exit(0)
