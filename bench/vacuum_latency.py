#!/usr/bin/python3
"""Insert latency while VACUUM runs on an hnsw index (a benchmark, not a test).

Builds a table of --rows random vectors (--dims), an hnsw index on it, deletes --delete-share of
the rows, then measures single-row INSERT latency in one session: first with nothing else
running (baseline), then while a second session runs VACUUM on the table. Prints p50 / p99 / max
of both, the VACUUM wall time, and how many inserts waited longer than 100 ms. Connects with the
PG* environment variables (bench/run.sh --reuse-server style); run it on a quiet machine and
repeat: the numbers are noisy.

  /usr/bin/python3 bench/vacuum_latency.py --rows 500000 --dims 32
"""
import argparse
import io
import statistics
import threading
import time

import numpy as np
import psycopg2


def vec(v):
    return '[' + ','.join('%.6g' % x for x in v) + ']'


def load(cur, rows, dims, rng):
    cur.execute('DROP TABLE IF EXISTS vl')
    cur.execute('CREATE TABLE vl (id bigserial PRIMARY KEY, v vector(%d))' % dims)
    batch = 20000
    for start in range(0, rows, batch):
        n = min(batch, rows - start)
        x = rng.standard_normal((n, dims)).astype(np.float32)
        buf = '\n'.join(vec(r) for r in x) + '\n'

        cur.copy_expert('COPY vl (v) FROM STDIN', io.StringIO(buf))


def insert_latencies(conn, rng, dims, stop=None, count=None):
    cur = conn.cursor()
    out = []
    while (count is not None and len(out) < count) or (stop is not None and not stop.is_set()):
        v = vec(rng.standard_normal(dims))
        t0 = time.perf_counter()
        cur.execute('INSERT INTO vl (v) VALUES (%s)', (v,))
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def summary(name, ms):
    ms = sorted(ms)
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]
    print('%-22s n=%6d  p50 %7.2f ms  p99 %7.2f ms  max %8.2f ms  >100ms: %d'
          % (name, len(ms), statistics.median(ms), p(0.99), ms[-1], sum(1 for x in ms if x > 100)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rows', type=int, default=500000)
    ap.add_argument('--dims', type=int, default=32)
    ap.add_argument('--delete-share', type=float, default=0.25)
    ap.add_argument('--baseline-inserts', type=int, default=2000)
    ap.add_argument('--seed', type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)

    admin = psycopg2.connect('')
    admin.autocommit = True
    cur = admin.cursor()
    cur.execute('CREATE EXTENSION IF NOT EXISTS piramid')
    t0 = time.time()
    load(cur, args.rows, args.dims, rng)
    print('loaded %d x %d in %.1f s' % (args.rows, args.dims, time.time() - t0))
    cur.execute("SET maintenance_work_mem = '2GB'")
    t0 = time.time()
    cur.execute('CREATE INDEX vl_idx ON vl USING hnsw (v vector_l2_ops)')
    print('CREATE INDEX in %.1f s' % (time.time() - t0))
    cur.execute('DELETE FROM vl WHERE id %% %d = 0' % max(1, round(1 / args.delete_share)))
    print('deleted %d rows' % cur.rowcount)

    ins = psycopg2.connect('')
    ins.autocommit = True
    base = insert_latencies(ins, rng, args.dims, count=args.baseline_inserts)

    stop = threading.Event()
    during = []
    worker = threading.Thread(target=lambda: during.extend(
        insert_latencies(ins, rng, args.dims, stop=stop)))
    worker.start()
    time.sleep(0.5)
    t0 = time.time()
    cur.execute('VACUUM vl')
    vac_s = time.time() - t0
    stop.set()
    worker.join()

    print('VACUUM took %.1f s' % vac_s)
    summary('insert, no VACUUM', base)
    summary('insert during VACUUM', during)
    cur.execute("SELECT count(*) FROM piramid_hnsw_verify('vl_idx')")
    print('verify problems after VACUUM: %d' % cur.fetchone()[0])
    cur.execute('DROP TABLE vl')


if __name__ == '__main__':
    main()
