"""Dataset helpers shared by bench.py and scripts/demo.sh (numpy only).

A dataset is a folder in TEXMEX format: base.fvecs, query.fvecs, gt.ivecs (zero-based base row
ids, nearest first) and a README.md that names the metric ("| metric | **l2** ..." or
"metric: l2"). Rows are loaded with id = base row number, so gt ids compare directly with the ids
that SQL returns.

Run as a script it writes COPY text for scripts/demo.sh:
    python3 vecdata.py copy FILE.fvecs [LIMIT]      rows "id<TAB>[x,y,...]" to stdout
    python3 vecdata.py literal FILE.fvecs ROW       one vector literal "[x,y,...]"
    python3 vecdata.py gt FILE.ivecs ROW K          the first K ids of one gt row
    python3 vecdata.py random N DIM SEED            N random rows in COPY text (no dataset)
"""
import os
import re
import sys

import numpy as np

# metric -> (SQL operator, operator class, hnswlib space or None)
METRICS = {
    "l2": ("<->", "vector_l2_ops", "l2"),
    "cosine": ("<=>", "vector_cosine_ops", "cosine"),
    "ip": ("<#>", "vector_ip_ops", "ip"),
    "l1": ("<+>", "vector_l1_ops", None),
}

_ALIASES = {"euclidean": "l2", "angular": "cosine", "inner_product": "ip", "dot": "ip",
            "manhattan": "l1", "taxicab": "l1"}


def read_ivecs(path):
    a = np.fromfile(path, dtype="<i4")
    if a.size == 0:
        raise ValueError(f"{path}: empty file")
    d = int(a[0])
    if d <= 0 or a.size % (d + 1) != 0:
        raise ValueError(f"{path}: not a TEXMEX file (first dim {d}, {a.size} words)")
    a = a.reshape(-1, d + 1)
    if not (a[:, 0] == d).all():
        raise ValueError(f"{path}: inconsistent dimensions")
    return np.ascontiguousarray(a[:, 1:])


def read_fvecs(path):
    return read_ivecs(path).view(np.float32)


def parse_metric(readme_text):
    """Finds the metric a dataset README names; None when it names none."""
    for pattern in (r"metric\s*\|\s*\*\*([A-Za-z0-9_]+)\*\*",  # table row: | metric | **l2** |
                    r"metric\s*[:=]\s*\**([A-Za-z0-9_]+)"):     # line: metric: l2
        m = re.search(pattern, readme_text, re.IGNORECASE)
        if m:
            name = m.group(1).lower()
            name = _ALIASES.get(name, name)
            if name in METRICS:
                return name
    return None


class Dataset:
    def __init__(self, folder, metric=None, max_queries=None):
        self.folder = os.path.abspath(folder)
        self.name = os.path.basename(self.folder.rstrip("/"))
        for f in ("base.fvecs", "query.fvecs", "gt.ivecs"):
            if not os.path.isfile(os.path.join(self.folder, f)):
                raise SystemExit(f"{self.folder}: missing {f} (expected a TEXMEX dataset folder)")
        if metric is None:
            readme = os.path.join(self.folder, "README.md")
            if os.path.isfile(readme):
                with open(readme, encoding="utf-8") as fh:
                    metric = parse_metric(fh.read())
            if metric is None:
                raise SystemExit(f"{self.folder}: README.md names no metric; pass --metric")
        if metric not in METRICS:
            raise SystemExit(f"unknown metric {metric!r} (one of {', '.join(METRICS)})")
        self.metric = metric
        self.op, self.opclass, self.hnswlib_space = METRICS[metric]
        self.base = read_fvecs(os.path.join(self.folder, "base.fvecs"))
        self.query = read_fvecs(os.path.join(self.folder, "query.fvecs"))
        self.gt = read_ivecs(os.path.join(self.folder, "gt.ivecs"))
        if self.gt.shape[0] != self.query.shape[0]:
            raise SystemExit(f"{self.folder}: {self.gt.shape[0]} gt rows for "
                             f"{self.query.shape[0]} queries")
        if self.base.shape[1] != self.query.shape[1]:
            raise SystemExit(f"{self.folder}: base and query dimensions differ")
        if max_queries:
            self.query = self.query[:max_queries]
            self.gt = self.gt[:max_queries]
        self.n, self.dim = self.base.shape
        self.nq = self.query.shape[0]

    def distances(self, qi, ids):
        """Exact distances (float64) from query qi to base rows ids, in the dataset metric."""
        q = self.query[qi].astype(np.float64)
        b = self.base[np.asarray(ids, dtype=np.int64)].astype(np.float64)
        if self.metric == "l2":
            return ((b - q) ** 2).sum(1)
        if self.metric == "ip":
            return -(b @ q)
        if self.metric == "l1":
            return np.abs(b - q).sum(1)
        nq = np.linalg.norm(q)
        nb = np.linalg.norm(b, axis=1)
        return 1.0 - (b @ q) / np.maximum(nq * nb, 1e-300)


def recall_at_k(ds, results, k):
    """results: list of id lists (one per query). Returns (strict, tie_aware) mean recall@k.

    strict: |returned ∩ gt[:k]| / k. tie_aware also counts a returned id whose exact distance is
    no larger than the k-th ground-truth distance (several rows can sit at that distance).
    """
    strict = 0
    tie = 0
    for qi, ids in enumerate(results):
        ids = [i for i in ids[:k] if 0 <= i < ds.n]
        truth = set(ds.gt[qi, :k].tolist())
        strict += len(truth.intersection(ids))
        if ids:
            kth = ds.distances(qi, [ds.gt[qi, k - 1]])[0]
            d = ds.distances(qi, ids)
            tie += int((d <= kth + 1e-9 * max(1.0, abs(kth))).sum())
    denom = k * len(results)
    return strict / denom, min(tie, denom) / denom


def vector_literal(row):
    # %.9g round-trips every float32 and prints integer-valued data (SIFT, MNIST) as integers.
    return "[" + ",".join("%.9g" % x for x in row.tolist()) + "]"


def copy_text(base, start_id=0):
    """COPY text-format rows "id\\t[...]\\n" as one bytes object."""
    d = base.shape[1]
    fmt = "%d\t[" + ",".join(["%.9g"] * d) + "]\n"
    return "".join(fmt % ((start_id + i,) + tuple(r))
                   for i, r in enumerate(base.tolist())).encode()


def _main(argv):
    if len(argv) >= 2 and argv[0] == "copy":
        base = read_fvecs(argv[1])
        if len(argv) > 2:
            base = base[:int(argv[2])]
        sys.stdout.buffer.write(copy_text(base))
    elif len(argv) == 3 and argv[0] == "literal":
        print(vector_literal(read_fvecs(argv[1])[int(argv[2])]))
    elif len(argv) == 4 and argv[0] == "gt":
        print(" ".join(str(i) for i in read_ivecs(argv[1])[int(argv[2]), :int(argv[3])]))
    elif len(argv) == 4 and argv[0] == "random":
        n, d, seed = int(argv[1]), int(argv[2]), int(argv[3])
        rng = np.random.default_rng(seed)
        # Rounded to 3 decimals: short literals, and the values are what the demo prints.
        sys.stdout.buffer.write(copy_text(np.round(rng.random((n, d)), 3)))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
