#!/usr/bin/python3
"""Sharding benchmark: k-NN through a postgres_fdw coordinator over 1, 2 and 3 shards, against
one node holding all rows (README "Sharding").

    bench/shards.py DATASET_DIR [--shards 1,2,3] [--queries 200] [--passes 3] [--ef-search 40]

Run as root (servers run as PIRAMID_OS_USER, default postgres) after piramid is installed
(bench/run.sh or make install). Every cluster is a throwaway one under /tmp on this machine:
shards and coordinator share its cores, so the figures show the overhead of the fdw path and the
merge, not a speed-up (a real deployment puts each shard on its own machine). For each layout:
recall@10 against gt.ivecs, QPS (median of the passes, one client), p50/p99 latency; the
sharded layouts with piramid.fdw_limit_fetch off (each shard produces postgres_fdw's fetch_size,
100 rows, per query) and on (about k rows: what the LIMIT reaching the shards saves).
Writes bench/out/shards-<dataset>-<timestamp>.json and prints a Markdown table.
"""

import argparse
import datetime
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vecdata  # noqa: E402

OS_USER = os.environ.get("PIRAMID_OS_USER", "postgres")
BINDIR = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                        check=True).stdout.strip()
SETTINGS = ["shared_buffers = 1GB", "work_mem = 64MB", "maintenance_work_mem = 1GB",
            "max_parallel_workers_per_gather = 0", "jit = off", "autovacuum = off",
            "random_page_cost = 1.1", "max_connections = 50"]


def log(msg):
    print(f"shards: {msg}", file=sys.stderr, flush=True)


def as_user(cmd):
    if os.getuid() == 0:
        cmd = ["runuser", "-u", OS_USER, "--"] + cmd
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, root, name, extra=()):
        self.dir = os.path.join(root, name)
        self.port = free_port()
        as_user([f"{BINDIR}/initdb", "-D", self.dir, "-U", "postgres", "-A", "trust", "--no-sync"])
        with open(os.path.join(self.dir, "postgresql.conf"), "a") as fh:
            fh.write("\n".join(SETTINGS + list(extra) + [f"port = {self.port}",
                     f"unix_socket_directories = '{root}'", "listen_addresses = '127.0.0.1'"]) + "\n")
        as_user([f"{BINDIR}/pg_ctl", "-D", self.dir, "-l", self.dir + ".log", "-w", "start"])

    def connect(self):
        c = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        c.autocommit = True
        return c

    def stop(self):
        subprocess.run((["runuser", "-u", OS_USER, "--"] if os.getuid() == 0 else [])
                       + [f"{BINDIR}/pg_ctl", "-D", self.dir, "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def load(conn, table, ds):
    with conn.cursor() as cur:
        cur.copy_expert(f"COPY {table} (id, embedding) FROM STDIN",
                        _Reader(vecdata.copy_text(ds.base)))


class _Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def read(self, n=65536):
        chunk = self.data[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk

    readline = read


def measure(conn, ds, table, args, settings=()):
    with conn.cursor() as cur:
        for s in settings:
            cur.execute(s)
        cur.execute(f"PREPARE q(vector) AS SELECT id FROM {table} ORDER BY embedding {ds.op} $1 "
                    f"LIMIT {args.k}")
        lits = [vecdata.vector_literal(ds.query[i]) for i in range(ds.nq)]
        results = []
        for lit in lits:  # warm-up, and the answers scored
            cur.execute("EXECUTE q(%s)", (lit,))
            results.append([r[0] for r in cur.fetchall()])
        pass_qps, lat = [], []
        for _ in range(args.passes):
            t0 = time.perf_counter()
            for lit in lits:
                t = time.perf_counter()
                cur.execute("EXECUTE q(%s)", (lit,))
                cur.fetchall()
                lat.append(time.perf_counter() - t)
            pass_qps.append(len(lits) / (time.perf_counter() - t0))
        cur.execute("DEALLOCATE q")
    lat.sort()
    strict, _ = vecdata.recall_at_k(ds, results, args.k)
    return {"recall": round(strict, 4), "qps": round(statistics.median(pass_qps), 1),
            "qps_passes": [round(q, 1) for q in pass_qps],
            "p50_ms": round(1000 * lat[len(lat) // 2], 2),
            "p99_ms": round(1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2)}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset")
    ap.add_argument("--shards", default="1,2,3")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--ef-search", type=int, default=40)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    args = ap.parse_args(argv)
    ds = vecdata.Dataset(args.dataset, max_queries=args.queries)
    layouts = [int(x) for x in args.shards.split(",")]
    root = tempfile.mkdtemp(prefix="piramid-shards.")
    os.chmod(root, 0o755)
    if os.getuid() == 0:
        shutil.chown(root, OS_USER)
    clusters = []
    started = datetime.datetime.now()
    res = {"tool": "piramid bench/shards.py", "started": started.isoformat(timespec="seconds"),
           "dataset": {"name": ds.name, "n": ds.n, "dim": ds.dim, "queries": ds.nq,
                       "metric": ds.metric},
           "k": args.k, "ef_search": args.ef_search, "cpus": os.cpu_count(), "layouts": []}
    ef = f"SET hnsw.ef_search = {args.ef_search}"
    table_sql = f"(id int PRIMARY KEY, embedding vector({ds.dim}))"
    index_sql = f"USING hnsw (embedding {ds.opclass})"
    try:
        log(f"{ds.name}: {ds.n} x {ds.dim}; single node")
        single = Cluster(root, "single")
        clusters.append(single)
        c = single.connect()
        with c.cursor() as cur:
            cur.execute("CREATE EXTENSION piramid")
            cur.execute(f"CREATE TABLE items {table_sql}")
            load(c, "items", ds)
            t0 = time.perf_counter()
            cur.execute(f"CREATE INDEX ON items {index_sql}")
            build = time.perf_counter() - t0
            cur.execute("VACUUM ANALYZE items")
        row = {"shards": 0, "layout": "one node", "build_s": round(build, 1)}
        row.update(measure(c, ds, "items", args, [ef]))
        res["layouts"].append(row)
        c.close()
        single.stop()
        clusters.remove(single)
        for n in layouts:
            log(f"coordinator + {n} shard(s)")
            shards = [Cluster(root, f"s{n}_{i}") for i in range(n)]
            clusters.extend(shards)
            coord = Cluster(root, f"coord{n}")
            clusters.append(coord)
            cc = coord.connect()
            with cc.cursor() as cur:
                cur.execute("CREATE EXTENSION piramid")
                cur.execute("CREATE EXTENSION postgres_fdw")
                cur.execute(f"CREATE TABLE items (id int NOT NULL, embedding vector({ds.dim})) "
                            "PARTITION BY HASH (id)")
                for i, s in enumerate(shards):
                    sc = s.connect()
                    with sc.cursor() as scur:
                        scur.execute("CREATE EXTENSION piramid")
                        scur.execute(f"CREATE TABLE items {table_sql}")
                    sc.close()
                    cur.execute(f"""CREATE SERVER s{i} FOREIGN DATA WRAPPER postgres_fdw OPTIONS
                        (host '127.0.0.1', port '{s.port}', dbname 'postgres',
                         extensions 'piramid', batch_size '1000',
                         options '-c hnsw.iterative_scan=strict_order -c hnsw.ef_search={args.ef_search}')""")
                    cur.execute(f"CREATE USER MAPPING FOR CURRENT_USER SERVER s{i} "
                                "OPTIONS (user 'postgres')")
                    cur.execute(f"CREATE FOREIGN TABLE items_{i} PARTITION OF items FOR VALUES "
                                f"WITH (MODULUS {n}, REMAINDER {i}) SERVER s{i} "
                                "OPTIONS (table_name 'items')")
            load(cc, "items", ds)
            build = 0.0
            for s in shards:
                sc = s.connect()
                with sc.cursor() as scur:
                    t0 = time.perf_counter()
                    scur.execute(f"CREATE INDEX ON items {index_sql}")
                    build += time.perf_counter() - t0
                    scur.execute("VACUUM ANALYZE items")
                sc.close()
            for fetch in ("off", "on"):
                row = {"shards": n, "layout": f"coordinator + {n} shard(s)",
                       "fdw_limit_fetch": fetch, "build_s": round(build, 1)}
                row.update(measure(cc, ds, "items", args, [f"SET piramid.fdw_limit_fetch = {fetch}"]))
                res["layouts"].append(row)
                log(f"{row}")
            cc.close()
            for cl in shards + [coord]:
                cl.stop()
                clusters.remove(cl)
    finally:
        for cl in clusters:
            cl.stop()
        shutil.rmtree(root, ignore_errors=True)
    res["wall_s"] = round((datetime.datetime.now() - started).total_seconds(), 1)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"shards-{ds.name}-{started.strftime('%Y%m%d-%H%M%S')}.json")
    with open(path, "w") as fh:
        json.dump(res, fh, indent=1)
    print(f"### Sharding: {ds.name} ({ds.n:,} x {ds.dim}, {ds.metric}), k = {args.k}, "
          f"ef_search = {args.ef_search}, {ds.nq} queries, {os.cpu_count()} cores for all servers\n")
    print("| layout | piramid.fdw_limit_fetch | recall@10 | QPS | p50 ms | p99 ms | index build s |")
    print("|---|---|---|---|---|---|---|")
    for r in res["layouts"]:
        print(f"| {r['layout']} | {r.get('fdw_limit_fetch', '')} | {r['recall']:.3f} | {r['qps']:.0f} | "
              f"{r['p50_ms']} | {r['p99_ms']} | {r['build_s']} |")
    print(f"\nJSON: {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
