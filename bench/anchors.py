"""Reference figures from ../shared/BENCHMARKS.md, embedded so that a clean clone without the
shared folder can still print them (--pgvector-anchor). Same protocol, same machine kind.

PGVECTOR: pgvector 0.8.6 HNSW (m=16, ef_construction=64), measured 2026-11.
HNSWLIB: hnswlib 0.6.2 in-process, one thread, one query per call (the "ceiling").
Per ef_search: (recall@10, QPS).
"""

PGVECTOR_VERSION = "pgvector 0.8.6"

PGVECTOR = {
    "synth-128": {
        "n": 100000, "dim": 128, "metric": "l2",
        "build_s": 20.6, "build_note": "1 parallel worker; 31.9 s serial",
        "index_mb": 79.4, "seqscan_ms": 39.6,
        "ef": {10: (0.849, 1746), 20: (0.913, 1216), 40: (0.960, 864), 80: (0.984, 533),
               160: (0.994, 336), 320: (0.998, 156)},
    },
    "beir-bge-base-768": {
        "n": 9746, "dim": 768, "metric": "cosine",
        "build_s": 5.0, "index_mb": 38.1, "seqscan_ms": 32.0,
        "ef": {10: (0.902, 1254), 20: (0.954, 1030), 40: (0.981, 673), 80: (0.993, 405),
               160: (0.998, 280), 320: (1.000, 215)},
    },
    "fashion-mnist-784": {
        "n": 15000, "dim": 784, "metric": "l2",
        "build_s": 4.7, "index_mb": 58.6, "seqscan_ms": 43.7,
        "ef": {10: (0.982, 1663), 20: (0.994, 1471), 40: (0.998, 1229), 80: (0.999, 815),
               160: (1.000, 572), 320: (1.000, 404)},
    },
    "glove-twitter-25-12k": {
        "n": 10925, "dim": 25, "metric": "cosine",
        "build_s": 2.1, "index_mb": 4.3, "seqscan_ms": 3.0,
        "ef": {10: (0.947, 3510), 20: (0.982, 3083), 40: (0.995, 2317), 80: (0.999, 1588),
               160: (1.000, 1481), 320: (1.000, 800)},
    },
    "sift-ngt-5k": {
        "n": 4000, "dim": 128, "metric": "l2",
        "build_s": 0.55, "index_mb": 3.2, "seqscan_ms": 1.0,
        "ef": {10: (0.918, 5242), 20: (0.965, 4100), 40: (0.987, 3353), 80: (0.997, 2503),
               160: (0.999, 1421), 320: (1.000, 997)},
    },
}

HNSWLIB = {
    "synth-128": {"build_s": 16.8,
                  "ef": {10: (0.787, 19635), 40: (0.933, 7376), 80: (0.968, 3963),
                         160: (0.988, 2307)}},
    "beir-bge-base-768": {"ef": {10: (0.844, 10155), 40: (0.969, 4793), 80: (0.989, 2612),
                                 160: (0.995, 1490)}},
    "fashion-mnist-784": {"ef": {10: (0.944, 14023), 40: (0.994, 6252), 80: (0.998, 4001),
                                 160: (1.000, 2807)}},
}
