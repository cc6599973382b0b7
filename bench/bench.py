#!/usr/bin/python3
"""Piramid benchmark: the protocol of BENCHMARKS.md on one TEXMEX dataset folder.

Connects to a running server through the usual PG* environment variables (bench/run.sh starts a
throwaway one with the protocol's settings), creates a scratch database, loads the base vectors
with COPY, builds the hnsw index, then for every hnsw.ef_search value runs one warm-up pass and N
timed passes of all queries through one connection over loopback TCP with a prepared statement.
Writes bench/out/<dataset>-<timestamp>.json and prints a Markdown report.

    bench/bench.py DATASET_DIR [--ef-search 10,20,40] [--hnswlib] [--pgvector-anchor] ...
"""
import argparse
import datetime
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import anchors  # noqa: E402
import vecdata  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)

# The server settings the protocol fixes (BENCHMARKS.md), as SHOW prints them.
PROTOCOL_SETTINGS = {
    "shared_buffers": "4GB",
    "effective_cache_size": "16GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "2GB",
    "max_parallel_maintenance_workers": "1",
    "max_parallel_workers_per_gather": "0",
    "random_page_cost": "1.1",
    "jit": "off",
    "autovacuum": "off",
    "fsync": "on",
    "full_page_writes": "on",
}

RECALL_TARGETS = (0.95, 0.99)


def log(msg):
    print(f"==> {msg}", file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", help="TEXMEX folder: base.fvecs, query.fvecs, gt.ivecs, README.md")
    p.add_argument("--metric", choices=sorted(vecdata.METRICS),
                   help="override the metric named in the dataset README")
    p.add_argument("--kind", choices=("vector", "halfvec", "bit"), default="vector",
                   help="what is indexed: the vector column (default), a halfvec column holding "
                        "the same rows, or binary_quantize(embedding)::bit(dim) with "
                        "bit_hamming_ops (queries re-rank --rerank x k candidates by the exact "
                        "distance, as pgvector's docs suggest)")
    p.add_argument("--rerank", type=int, default=4,
                   help="--kind bit: candidates per result re-ranked exactly (default 4; 1 = no "
                        "re-ranking, hamming order)")
    p.add_argument("--m", type=int, default=16, help="index option m (default 16)")
    p.add_argument("--ef-construction", type=int, default=64,
                   help="index option ef_construction (default 64)")
    p.add_argument("--ef-search", default="10,20,40,80,160,320",
                   help="comma-separated hnsw.ef_search values (default 10,20,40,80,160,320)")
    p.add_argument("--passes", type=int, default=3,
                   help="timed passes per ef_search after one warm-up pass (default 3)")
    p.add_argument("--k", type=int, default=10, help="LIMIT and recall@k (default 10)")
    p.add_argument("--queries", type=int, default=0,
                   help="use only the first N queries (default: all)")
    p.add_argument("--seqscan-queries", type=int, default=100,
                   help="queries timed for the exact seqscan figure (default 100, 0 = skip)")
    p.add_argument("--no-index", action="store_true",
                   help="build no index: the query passes are exact scans")
    p.add_argument("--no-pg", action="store_true",
                   help="skip PostgreSQL entirely (with --hnswlib: the in-process ceiling only)")
    p.add_argument("--hnswlib", action="store_true",
                   help="also run hnswlib in-process (1 thread, same m/ef_construction/ef list)")
    p.add_argument("--pgvector-anchor", action="store_true",
                   help="print BENCHMARKS.md's pgvector figures for this dataset with ratios")
    p.add_argument("--host", default=None,
                   help="host for the query connection (default: PGHOST when it is a host name, "
                        "else 127.0.0.1: the protocol measures over loopback TCP)")
    p.add_argument("--database", default="piramid_bench",
                   help="scratch database, dropped and re-created (default piramid_bench)")
    p.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    p.add_argument("--out", default=os.path.join(BENCH_DIR, "out"),
                   help="folder for the JSON result (default bench/out)")
    p.add_argument("--label", default="", help="free text stored in the JSON (e.g. a variant)")
    a = p.parse_args(argv)
    try:
        a.ef_list = [int(x) for x in a.ef_search.split(",") if x.strip()]
    except ValueError:
        p.error("--ef-search wants integers separated by commas")
    if not a.ef_list or min(a.ef_list) < 1:
        p.error("--ef-search needs at least one positive value")
    if a.passes < 1 or a.k < 1:
        p.error("--passes and --k must be positive")
    if a.no_pg and not a.hnswlib:
        p.error("--no-pg without --hnswlib measures nothing")
    return a


# ----------------------------------------------------------------------------------------------
# Measurement helpers


def qps_at_recall(points, target):
    """QPS at a recall target from (recall, qps) points in ef order, linear in between.

    Returns (qps, how): how = "interpolated", "lower-bound" (the smallest ef already exceeds the
    target, so the QPS there is a lower bound of the QPS at the target), or "unreached" (qps None).
    """
    pts = [(r, q) for r, q in points if r is not None and q]
    if not pts:
        return None, "unreached"
    if pts[0][0] >= target:
        return pts[0][1], "lower-bound"
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 < target <= r1:
            return q0 + (q1 - q0) * (target - r0) / (r1 - r0), "interpolated"
    return None, "unreached"


def percentile(values, pct):
    return float(np.percentile(np.asarray(values), pct)) if values else None


def summarize_passes(pass_qps, latencies_s):
    return {
        "qps_passes": [round(q, 1) for q in pass_qps],
        "qps": round(statistics.median(pass_qps), 1),
        "p50_ms": round(percentile(latencies_s, 50) * 1e3, 4),
        "p99_ms": round(percentile(latencies_s, 99) * 1e3, 4),
    }


def machine_info():
    info = {"host": platform.node(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "loadavg_start": list(os.getloadavg())}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", REPO_DIR, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO_DIR, "status", "--porcelain", "--", "src",
                                "sql", "Makefile"], capture_output=True, text=True).stdout.strip()
        info["git"] = commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


# ----------------------------------------------------------------------------------------------
# PostgreSQL side


def query_host(args):
    if args.host:
        return args.host
    env = os.environ.get("PGHOST", "")
    if env and not env.startswith("/"):
        return env
    return "127.0.0.1"


class PgBench:
    def __init__(self, args, ds):
        import psycopg2  # imported here so that --no-pg runs without it

        self.psycopg2 = psycopg2
        self.args = args
        self.ds = ds
        self.result = {}

    def connect(self, dbname, tcp=False):
        kw = {"dbname": dbname}
        if tcp:
            kw["host"] = query_host(self.args)
        conn = self.psycopg2.connect(**kw)
        conn.autocommit = True
        return conn

    def scalar(self, cur, sql, params=None):
        cur.execute(sql, params)
        row = cur.fetchone()
        return row[0] if row else None

    def setup_database(self):
        a = self.args
        admin = self.connect(os.environ.get("PGDATABASE", "postgres"))
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{a.database}"')
            cur.execute(f'CREATE DATABASE "{a.database}"')
            self.result["server_version"] = self.scalar(cur, "SHOW server_version")
            settings = {}
            for name in PROTOCOL_SETTINGS:
                settings[name] = self.scalar(cur, f"SHOW {name}")
            self.result["settings"] = settings
        admin.close()
        off = {k: v for k, v in settings.items() if v != PROTOCOL_SETTINGS[k]}
        if off:
            log("WARNING: server settings differ from the protocol: " +
                ", ".join(f"{k}={v} (protocol {PROTOCOL_SETTINGS[k]})" for k, v in off.items()))
        self.result["settings_match_protocol"] = not off

    def drop_database(self):
        admin = self.connect(os.environ.get("PGDATABASE", "postgres"))
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{self.args.database}" WITH (FORCE)')
        admin.close()

    def load(self, conn):
        ds, r = self.ds, self.result
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION piramid")
            r["extension_version"] = self.scalar(
                cur, "SELECT extversion FROM pg_extension WHERE extname = 'piramid'")
            if self.scalar(cur, "SELECT to_regproc('piramid_simd_isa') IS NOT NULL"):
                r["simd_isa"] = self.scalar(cur, "SELECT piramid_simd_isa()")
            coltype = "halfvec" if self.args.kind == "halfvec" else "vector"
            cur.execute(f"CREATE TABLE t (id int PRIMARY KEY, embedding {coltype}({ds.dim}))")
            log(f"formatting {ds.n} rows for COPY")
            data = io.BytesIO(vecdata.copy_text(ds.base))
            log(f"COPY {ds.n} x {ds.dim} ({len(data.getvalue()) / 2**20:.1f} MiB of text)")
            t0 = time.perf_counter()
            cur.copy_expert("COPY t (id, embedding) FROM STDIN", data)
            r["load_s"] = round(time.perf_counter() - t0, 3)
            t0 = time.perf_counter()
            cur.execute("VACUUM ANALYZE t")
            r["vacuum_analyze_s"] = round(time.perf_counter() - t0, 3)
            r["table_mb"] = round(self.scalar(cur, "SELECT pg_total_relation_size('t')") / 2**20,
                                  2)
            log(f"loaded in {r['load_s']} s, VACUUM ANALYZE {r['vacuum_analyze_s']} s")

    def build_index(self, conn):
        a, ds, r = self.args, self.ds, self.result
        if a.kind == "bit":
            target = f"(binary_quantize(embedding)::bit({ds.dim})) bit_hamming_ops"
        elif a.kind == "halfvec":
            target = f"embedding {ds.opclass.replace('vector_', 'halfvec_')}"
        else:
            target = f"embedding {ds.opclass}"
        sql = (f"CREATE INDEX t_embedding_idx ON t USING hnsw ({target}) "
               f"WITH (m = {a.m}, ef_construction = {a.ef_construction})")
        r["index_sql"] = sql
        log(sql)
        with conn.cursor() as cur:
            t0 = time.perf_counter()
            cur.execute(sql)
            r["build_s"] = round(time.perf_counter() - t0, 3)
            r["index_mb"] = round(
                self.scalar(cur, "SELECT pg_relation_size('t_embedding_idx')") / 2**20, 2)
            if self.scalar(cur, "SELECT to_regproc('piramid_hnsw_stats') IS NOT NULL"):
                cur.execute("SELECT * FROM piramid_hnsw_stats('t_embedding_idx')")
                cols = [c.name for c in cur.description]
                r["index_stats"] = dict(zip(cols, cur.fetchone()))
        log(f"index built in {r['build_s']} s, {r['index_mb']} MB")

    def statements(self, name):
        return [f"EXECUTE {name}('{vecdata.vector_literal(v)}')".encode() for v in self.ds.query]

    def prepare(self, cur, name):
        a, ds = self.args, self.ds
        if a.kind == "bit":
            bq = f"binary_quantize(embedding)::bit({ds.dim})"
            inner = (f"SELECT id, embedding FROM t ORDER BY {bq} <~> "
                     f"binary_quantize($1)::bit({ds.dim}) LIMIT {a.k * max(1, a.rerank)}")
            cur.execute(f"PREPARE {name}(vector) AS SELECT id FROM ({inner}) c "
                        f"ORDER BY embedding {ds.op} $1 LIMIT {a.k}")
            return
        cur.execute(f"PREPARE {name}({'halfvec' if a.kind == 'halfvec' else 'vector'}) AS "
                    f"SELECT id FROM t ORDER BY embedding {ds.op} $1 LIMIT {a.k}")

    @staticmethod
    def one_pass(cur, stmts):
        results, lat = [], []
        clock = time.perf_counter
        start = clock()
        for s in stmts:
            t0 = clock()
            cur.execute(s)
            rows = cur.fetchall()
            lat.append(clock() - t0)
            results.append([row[0] for row in rows])
        return clock() - start, lat, results

    def plan(self, cur, stmt):
        cur.execute(b"EXPLAIN (COSTS OFF) " + stmt)
        return [row[0] for row in cur.fetchall()]

    def run_queries(self, conn):
        a, ds, r = self.args, self.ds, self.result
        with conn.cursor() as cur:
            # The exact scan first: it checks the data and the distance against gt.ivecs. It has
            # its own prepared statement: a cached generic plan does not see later SETs.
            if a.seqscan_queries > 0:
                n = min(a.seqscan_queries, ds.nq)
                cur.execute("SET enable_indexscan = off")
                self.prepare(cur, "qs")
                sub = self.statements("qs")[:n]
                self.one_pass(cur, sub[:max(1, n // 10)])  # warm-up
                elapsed, lat, res = self.one_pass(cur, sub)
                r["seqscan_plan"] = self.plan(cur, sub[0])
                cur.execute("DEALLOCATE qs")
                cur.execute("RESET enable_indexscan")
                strict, tie = vecdata.recall_at_k(_Subset(ds, n), res, a.k)
                r["seqscan"] = {"queries": n, "ms_per_query": round(elapsed / n * 1e3, 3),
                                "recall": round(strict, 4), "recall_tie_aware": round(tie, 4)}
                log(f"exact seqscan: {r['seqscan']['ms_per_query']} ms/query over {n} queries, "
                    f"recall@{a.k} {strict:.4f} (tie-aware {tie:.4f})")
                if tie < 0.999:
                    log("WARNING: the exact scan does not match gt.ivecs: check the metric")
            self.prepare(cur, "q")
            stmts = self.statements("q")
            efs = [None] if a.no_index else a.ef_list
            rows = []
            for ef in efs:
                if ef is not None:
                    cur.execute(f"SET hnsw.ef_search = {int(ef)}")
                self.one_pass(cur, stmts)  # warm-up (also settles the generic plan)
                plan = self.plan(cur, stmts[0])
                uses_index = any("t_embedding_idx" in line for line in plan)
                if ef is not None and not uses_index:
                    log(f"WARNING: ef_search={ef}: the plan does not use the index: "
                        + " / ".join(plan))
                pass_qps, lat_all, results = [], [], None
                for _ in range(a.passes):
                    elapsed, lat, res = self.one_pass(cur, stmts)
                    pass_qps.append(ds.nq / elapsed)
                    lat_all.extend(lat)
                    if results is None:
                        results = res
                strict, tie = vecdata.recall_at_k(ds, results, a.k)
                row = {"ef_search": ef, "recall": round(strict, 4),
                       "recall_tie_aware": round(tie, 4), "uses_index": uses_index}
                row.update(summarize_passes(pass_qps, lat_all))
                rows.append(row)
                log(f"ef_search={'exact' if ef is None else ef}: recall@{a.k} {strict:.4f}, {row['qps']} QPS "
                    f"(passes {row['qps_passes']}), p50 {row['p50_ms']} ms, "
                    f"p99 {row['p99_ms']} ms")
            r["plan"] = plan
            r["points"] = rows
            cur.execute("DEALLOCATE q")

    def run(self):
        self.setup_database()
        conn = qconn = None
        try:
            conn = self.connect(self.args.database)
            self.load(conn)
            if not self.args.no_index:
                self.build_index(conn)
            conn.close()
            # The query connection: loopback TCP, as the protocol says.
            qconn = self.connect(self.args.database, tcp=True)
            self.result["query_connection"] = f"tcp {query_host(self.args)}"
            self.run_queries(qconn)
        finally:
            for c in (conn, qconn):
                if c is not None and not c.closed:
                    c.close()
            if not self.args.keep:
                try:
                    self.drop_database()
                except self.psycopg2.Error as e:  # never hide the error that got us here
                    log(f"could not drop database {self.args.database}: {e}")
        return self.result


class _Subset:
    """The first n queries of a dataset (for recall over the seqscan subset)."""

    def __init__(self, ds, n):
        self._ds, self.n, self.gt = ds, ds.n, ds.gt[:n]

    def distances(self, qi, ids):
        return self._ds.distances(qi, ids)


# ----------------------------------------------------------------------------------------------
# hnswlib (the in-process ceiling)


def run_hnswlib(args, ds):
    import hnswlib

    if ds.hnswlib_space is None:
        log(f"hnswlib has no {ds.metric} space: skipped")
        return None
    idx = hnswlib.Index(space=ds.hnswlib_space, dim=ds.dim)
    idx.init_index(max_elements=ds.n, M=args.m, ef_construction=args.ef_construction,
                   random_seed=100)
    idx.set_num_threads(1)
    log(f"hnswlib: building (1 thread, M={args.m}, ef_construction={args.ef_construction})")
    t0 = time.perf_counter()
    idx.add_items(ds.base, np.arange(ds.n), num_threads=1)
    out = {"version": getattr(hnswlib, "__version__", None),
           "build_s": round(time.perf_counter() - t0, 3)}
    log(f"hnswlib: built in {out['build_s']} s")
    queries = [ds.query[i:i + 1] for i in range(ds.nq)]
    rows = []
    for ef in args.ef_list:
        idx.set_ef(max(ef, args.k))  # hnswlib needs ef >= k; Postgres returns fewer rows instead

        def one_pass():
            lat, res = [], []
            clock = time.perf_counter
            start = clock()
            for q in queries:
                t0 = clock()
                labels, _ = idx.knn_query(q, k=args.k, num_threads=1)
                lat.append(clock() - t0)
                res.append(labels[0].tolist())
            return clock() - start, lat, res

        one_pass()  # warm-up
        pass_qps, lat_all, results = [], [], None
        for _ in range(args.passes):
            elapsed, lat, res = one_pass()
            pass_qps.append(ds.nq / elapsed)
            lat_all.extend(lat)
            results = results or res
        strict, tie = vecdata.recall_at_k(ds, results, args.k)
        row = {"ef_search": ef, "recall": round(strict, 4), "recall_tie_aware": round(tie, 4)}
        row.update(summarize_passes(pass_qps, lat_all))
        rows.append(row)
        log(f"hnswlib ef={ef}: recall@{args.k} {strict:.4f}, {row['qps']} QPS")
    out["points"] = rows
    return out


# ----------------------------------------------------------------------------------------------
# Report


def at_targets(points):
    out = {}
    for t in RECALL_TARGETS:
        qps, how = qps_at_recall([(p["recall"], p["qps"]) for p in points], t)
        out[str(t)] = {"qps": None if qps is None else round(qps, 1), "how": how}
    return out


def ratio(a, b):
    return round(a / b, 3) if a and b else None


def fmt_qps(entry):
    if not entry or entry["qps"] is None:
        return "not reached"
    return ("≥ " if entry["how"] == "lower-bound" else "") + f"{entry['qps']:.0f}"


def fmt(v, spec):
    return "–" if v is None else format(v, spec)


def markdown(res):
    ds = res["dataset"]
    kind = res.get("kind", "vector")
    what = {"vector": "", "halfvec": ", halfvec column",
            "bit": ", binary_quantize bit index re-ranked"}.get(kind, "")
    lines = [f"## {ds['name']}: {ds['n']} x {ds['dim']}, {ds['metric']}{what}, {ds['queries']} "
             f"queries, k = {res['k']}", ""]
    pg = res.get("piramid")
    anchor = res.get("pgvector_anchor")
    hl = res.get("hnswlib")
    if pg:
        sq = pg.get("seqscan") or {}
        lines += ["| | load s | build s | index MB | exact seqscan ms/query |",
                  "|---|---:|---:|---:|---:|",
                  f"| piramid | {pg['load_s']} | {fmt(pg.get('build_s'), '')} | "
                  f"{fmt(pg.get('index_mb'), '')} | {fmt(sq.get('ms_per_query'), '')} |"]
        if anchor:
            lines.append(f"| {anchors.PGVECTOR_VERSION} | | {anchor['build_s']} | "
                         f"{anchor['index_mb']} | {anchor['seqscan_ms']} |")
            lines.append(f"| ratio piramid / pgvector | | "
                         f"{fmt(ratio(pg.get('build_s'), anchor['build_s']), '')} | "
                         f"{fmt(ratio(pg.get('index_mb'), anchor['index_mb']), '')} | "
                         f"{fmt(ratio(sq.get('ms_per_query'), anchor['seqscan_ms']), '')} |")
        if hl:
            lines.append(f"| hnswlib (in-process, 1 thread) | | {hl['build_s']} | | |")
        lines.append("")
    elif hl:
        lines += [f"hnswlib (in-process, 1 thread) build: {hl['build_s']} s", ""]
    header = ["ef_search"]
    if pg:
        header += ["piramid recall@10", "QPS (median)", "p50 ms", "p99 ms"]
    if hl:
        header += ["hnswlib recall / QPS"]
    if anchor:
        header += ["pgvector recall / QPS"]
    lines += ["| " + " | ".join(header) + " |",
              "|" + "|".join("---:" for _ in header) + "|"]
    efs = [p["ef_search"] for p in (pg["points"] if pg else hl["points"])]
    for i, ef in enumerate(efs):
        cells = [("exact" if ef is None else str(ef))]
        if pg:
            p = pg["points"][i]
            cells += [f"{p['recall']:.3f}", f"{p['qps']:.0f}", f"{p['p50_ms']:.3f}",
                      f"{p['p99_ms']:.3f}"]
        if hl:
            h = next((x for x in hl["points"] if x["ef_search"] == ef), None)
            cells.append(f"{h['recall']:.3f} / {h['qps']:.0f}" if h else "")
        if anchor:
            a = anchor["ef"].get(ef)
            cells.append(f"{a[0]:.3f} / {a[1]}" if a else "")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    cmp_rows = res.get("at_recall")
    if cmp_rows:
        lines += ["| QPS at recall@10 | " + " | ".join(cmp_rows["columns"]) + " |",
                  "|---|" + "|".join("---:" for _ in cmp_rows["columns"]) + "|"]
        for t in RECALL_TARGETS:
            lines.append(f"| {t} | " + " | ".join(cmp_rows[str(t)]) + " |")
        lines.append("")
    if pg and not pg.get("settings_match_protocol", True):
        lines.append("Note: the server settings differ from the protocol (see the JSON).")
    return "\n".join(lines)


def comparison(res):
    """QPS at the recall targets for every system, and the ratios the targets are stated in."""
    pg, hl, anchor = res.get("piramid"), res.get("hnswlib"), res.get("pgvector_anchor")
    cols, table = [], {str(t): [] for t in RECALL_TARGETS}
    series = []
    if pg and pg.get("points") and pg["points"][0]["ef_search"] is not None:
        series.append(("piramid", pg["at_recall"]))
    if hl:
        series.append(("hnswlib", hl["at_recall"]))
    if anchor:
        series.append(("pgvector", anchor["at_recall"]))
    if not series:
        return None
    for name, at in series:
        cols.append(name)
        for t in RECALL_TARGETS:
            table[str(t)].append(fmt_qps(at[str(t)]))
    ratios = {}
    if pg and "piramid" in cols:
        for other in ("hnswlib", "pgvector"):
            if other not in cols:
                continue
            at_o = (hl if other == "hnswlib" else anchor)["at_recall"]
            cols.append(f"piramid / {other}")
            for t in RECALL_TARGETS:
                mine, theirs = pg["at_recall"][str(t)], at_o[str(t)]
                rt = ratio(mine["qps"], theirs["qps"])
                ratios.setdefault(other, {})[str(t)] = rt
                approx = "lower-bound" in (mine["how"], theirs["how"])
                table[str(t)].append("–" if rt is None else ("~" if approx else "") + f"{rt:.2f}x")
    table["columns"] = cols
    res["ratios"] = ratios
    return table


def main(argv):
    args = parse_args(argv)
    ds = vecdata.Dataset(args.dataset, metric=args.metric, max_queries=args.queries or None)
    log(f"dataset {ds.name}: {ds.n} x {ds.dim}, {ds.nq} queries, metric {ds.metric}")
    started = datetime.datetime.now()
    res = {
        "tool": "piramid bench/bench.py",
        "started": started.isoformat(timespec="seconds"),
        "label": args.label,
        "dataset": {"name": ds.name, "path": ds.folder, "n": ds.n, "dim": ds.dim,
                    "queries": ds.nq, "metric": ds.metric},
        "k": args.k,
        "kind": args.kind,
        "params": {"m": args.m, "ef_construction": args.ef_construction,
                   "ef_search": args.ef_list, "passes": args.passes, "no_index": args.no_index},
        "machine": machine_info(),
    }
    if not args.no_pg:
        pg = PgBench(args, ds).run()
        if not args.no_index:
            pg["at_recall"] = at_targets(pg["points"])
        res["piramid"] = pg
    if args.hnswlib:
        hl = run_hnswlib(args, ds)
        if hl:
            hl["at_recall"] = at_targets(hl["points"])
            res["hnswlib"] = hl
    if args.pgvector_anchor:
        a = anchors.PGVECTOR.get(ds.name)
        if a is None:
            log(f"no pgvector figures for {ds.name} in BENCHMARKS.md")
        else:
            a = dict(a)
            a["version"] = anchors.PGVECTOR_VERSION
            a["at_recall"] = at_targets([{"recall": r, "qps": q} for _, (r, q) in
                                         sorted(a["ef"].items())])
            res["pgvector_anchor"] = a
    res["at_recall"] = comparison(res)
    res["machine"]["loadavg_end"] = list(os.getloadavg())
    res["wall_s"] = round((datetime.datetime.now() - started).total_seconds(), 1)

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{ds.name}-{started.strftime('%Y%m%d-%H%M%S')}.json")
    with open(path, "w") as fh:
        json.dump(res, fh, indent=1, default=str)
    print(markdown(res))
    print(f"\nJSON: {os.path.relpath(path)}  (load average {res['machine']['loadavg_start'][0]:.2f}"
          f" -> {res['machine']['loadavg_end'][0]:.2f}: figures on a busy machine are noisy)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # a short message for server errors; a traceback for our own bugs
        if type(e).__module__.startswith("psycopg2"):
            sys.exit(f"bench: {type(e).__name__}: {str(e).strip()}")
        raise
