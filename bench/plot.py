#!/usr/bin/python3
"""Draws the benchmark figures as PNG files from bench.py's JSON results.

    bench/plot.py [--out bench/plots] [JSON ...]

Without JSON arguments it takes the newest bench/out/<dataset>-*.json of each dataset that has
an hnsw run. For each result it draws <dataset>-recall-qps.png: recall@10 against QPS (log
scale), one curve per engine over hnsw.ef_search (piramid from the run; hnswlib from the run
when it was measured (--hnswlib), else BENCHMARKS.md's figure; pgvector 0.8.6 from
BENCHMARKS.md). It also draws build-times.png: index build seconds per dataset for the three.
Figures from BENCHMARKS.md were measured on the same machine kind, not in the run: the title
says which curves came from where. Needs python3-matplotlib (Debian's package).
"""

import argparse
import glob
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import anchors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
STYLE = {
    "piramid": {"color": "#1f77b4", "marker": "o"},
    "pgvector": {"color": "#d62728", "marker": "s"},
    "hnswlib": {"color": "#7f7f7f", "marker": "^"},
}


def newest_results(folder):
    """The newest result with hnsw points, per dataset."""
    best = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        try:
            with open(path) as fh:
                res = json.load(fh)
        except (OSError, ValueError):
            continue
        pts = (res.get("piramid") or {}).get("points") or []
        if not pts or pts[0].get("ef_search") is None:
            continue
        name = res["dataset"]["name"]
        if name not in best or res["started"] > best[name][1]["started"]:
            best[name] = (path, res)
    return [best[k] for k in sorted(best)]


def curves(res):
    """(engine, [(ef, recall, qps)], where it came from) for one result."""
    name = res["dataset"]["name"]
    out = [("piramid", [(p["ef_search"], p["recall"], p["qps"]) for p in res["piramid"]["points"]],
            "this run")]
    hl = res.get("hnswlib")
    if hl and hl.get("points"):
        out.append(("hnswlib", [(p["ef_search"], p["recall"], p["qps"]) for p in hl["points"]],
                    "this run"))
    elif name in anchors.HNSWLIB:
        out.append(("hnswlib", [(ef, r, q) for ef, (r, q) in
                                sorted(anchors.HNSWLIB[name]["ef"].items())], "BENCHMARKS.md"))
    if name in anchors.PGVECTOR:
        out.append(("pgvector", [(ef, r, q) for ef, (r, q) in
                                 sorted(anchors.PGVECTOR[name]["ef"].items())],
                    "BENCHMARKS.md"))
    return out


def plot_recall_qps(res, path):
    ds = res["dataset"]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    sources = []
    for engine, pts, src in curves(res):
        label = engine if engine != "pgvector" else anchors.PGVECTOR_VERSION
        pts = sorted(pts, key=lambda p: p[0])
        ax.plot([p[1] for p in pts], [p[2] for p in pts], label=label, linewidth=1.5,
                markersize=5, **STYLE[engine])
        if engine == "piramid":
            for ef, r, q in pts:
                ax.annotate(str(ef), (r, q), textcoords="offset points", xytext=(4, 4),
                            fontsize=7, color=STYLE[engine]["color"])
        sources.append(f"{engine}: {src}")
    ax.set_yscale("log")
    ax.set_xlabel(f"recall@{res.get('k', 10)}")
    ax.set_ylabel("queries per second (one client, log scale)")
    params = res.get("params", {})
    ax.set_title(f"{ds['name']}: {ds['n']:,} x {ds['dim']}, {ds['metric']}; hnsw m={params.get('m')}, "
                 f"ef_construction={params.get('ef_construction')}", fontsize=10)
    for t in (0.95, 0.99):
        ax.axvline(t, color="#999999", linewidth=0.8, linestyle="--", zorder=1)
    ax.grid(True, which="major", color="#eeeeee")
    ax.legend(loc="lower left", fontsize=8)
    machine = res.get("machine", {})
    fig.text(0.01, 0.01, f"piramid {machine.get('git', '?')}, {res['started'][:10]}; "
             + "; ".join(sources) + "; labels: hnsw.ef_search", fontsize=6, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def plot_build_times(results, path):
    names, series = [], {"piramid": [], "pgvector": [], "hnswlib": []}
    for _, res in results:
        name = res["dataset"]["name"]
        build = (res.get("piramid") or {}).get("build_s")
        if build is None:
            continue
        names.append(name)
        series["piramid"].append(build)
        series["pgvector"].append(anchors.PGVECTOR.get(name, {}).get("build_s"))
        hl = (res.get("hnswlib") or {}).get("build_s") or anchors.HNSWLIB.get(name, {}).get("build_s")
        series["hnswlib"].append(hl)
    if not names:
        return False
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    width = 0.27
    for i, engine in enumerate(("piramid", "pgvector", "hnswlib")):
        xs = [k + (i - 1) * width for k in range(len(names))]
        vals = [v if v is not None else 0 for v in series[engine]]
        bars = ax.bar(xs, vals, width, label=engine if engine != "pgvector" else anchors.PGVECTOR_VERSION,
                      color=STYLE[engine]["color"])
        for b, v in zip(bars, series[engine]):
            ax.annotate("n/a" if v is None else f"{v:.1f}", (b.get_x() + b.get_width() / 2,
                        b.get_height()), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, fontsize=8)
    ax.set_ylabel("index build, seconds")
    ax.set_title("hnsw build time (m=16, ef_construction=64)", fontsize=10)
    ax.legend(fontsize=8)
    fig.text(0.01, 0.01, "piramid and hnswlib (when measured) from the runs plotted; pgvector "
             "and other hnswlib figures from BENCHMARKS.md", fontsize=6, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path)
    plt.close(fig)
    return True


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="*", help="bench.py results (default: newest per dataset)")
    ap.add_argument("--out", default=os.path.join(HERE, "plots"))
    ap.add_argument("--results", default=os.path.join(HERE, "out"),
                    help="where to look for results when none is named")
    args = ap.parse_args(argv)
    if args.json:
        results = []
        for p in args.json:
            with open(p) as fh:
                results.append((p, json.load(fh)))
    else:
        results = newest_results(args.results)
    if not results:
        print(f"plot: no hnsw results in {args.results}", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    for src, res in results:
        pts = (res.get("piramid") or {}).get("points") or []
        if not pts or pts[0].get("ef_search") is None:
            print(f"plot: {src}: no hnsw points, skipped", file=sys.stderr)
            continue
        path = os.path.join(args.out, f"{res['dataset']['name']}-recall-qps.png")
        plot_recall_qps(res, path)
        print(f"plot: {os.path.relpath(path)} (from {os.path.relpath(src)})")
    path = os.path.join(args.out, "build-times.png")
    if plot_build_times(results, path):
        print(f"plot: {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
