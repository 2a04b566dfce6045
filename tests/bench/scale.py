"""Scale: each index type over a million vectors with real structure, against exact search.

The vectors are the real Reuters chunk embeddings, each repeated with small gaussian noise and
renormalised (so clusters, density and topics are those of real news, at a million points). The
queries are real question embeddings. For each type (built by ``index.ann.build_ann``, the product's
own code and parameters): build time, index file size, resident memory of the loaded index (measured
in a fresh process that loads it), single-query search p50, and recall@10 against exact search.

Run as ``python -m tests.bench.scale --probe INDEX QUERIES TRUTH`` it is that fresh process.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from index.ann import build_ann, read_ann, write_ann
from tests.bench.machine import run_child

# Per-dimension noise: a noise vector of norm ~0.2, so a copy keeps cosine ~0.98 with its source.
NOISE_SIGMA = 0.01
TYPES = ("flat", "ivfpq", "hnsw")
K = 10


def synthesise(base: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """``count`` unit vectors: rows of ``base`` (cycled) plus gaussian noise, renormalised."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, base.shape[1]), dtype=np.float32)
    step = 100_000
    for begin in range(0, count, step):
        end = min(count, begin + step)
        rows = base[np.arange(begin, end) % len(base)]
        block = rows + rng.standard_normal(rows.shape, dtype=np.float32) * NOISE_SIGMA
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[begin:end] = block
    return out


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    import faiss

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    return np.asarray(flat.search(queries, k)[1])


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**2


def probe(index_file: Path, queries_file: Path, truth_file: Path) -> dict[str, float]:
    """In a fresh process: memory of the loaded index, single-query p50, recall@10."""
    import faiss  # imported before the baseline so its own size is not counted

    queries = np.load(queries_file)
    truth = np.load(truth_file)
    before = _rss_mb()
    index = read_ann(index_file)
    memory = _rss_mb() - before
    for row in queries[:10]:
        index.search(row[None, :], K)
    times, found = [], []
    for row in queries:
        started = time.perf_counter()
        _, ids = index.search(row[None, :], K)
        times.append((time.perf_counter() - started) * 1000)
        found.append(ids[0])
    recall = float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))
    del faiss
    return {
        "memory_mb": round(memory, 1),
        "search_p50_ms": round(float(np.median(times)), 3),
        "search_p95_ms": round(float(np.percentile(times, 95)), 3),
        "recall_at_10": round(recall, 4),
    }


def measure_scale(
    base: np.ndarray, queries: np.ndarray, count: int, scratch: Path, types: tuple[str, ...] = TYPES
) -> dict[str, Any]:
    scratch.mkdir(parents=True, exist_ok=True)
    vectors = synthesise(base, count)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    started = time.perf_counter()
    truth = exact_top_k(vectors, queries)
    truth_s = time.perf_counter() - started
    np.save(scratch / "queries.npy", queries)
    np.save(scratch / "truth.npy", truth)
    out: dict[str, Any] = {
        "vectors": count,
        "base_vectors": len(base),
        "queries": len(queries),
        "noise_sigma": NOISE_SIGMA,
        "exact_truth_s": round(truth_s, 1),
    }
    for kind in types:
        print(f"  scale: building {kind} over {count:,} vectors", file=sys.stderr, flush=True)
        started = time.perf_counter()
        index = build_ann(vectors, kind)
        build_s = time.perf_counter() - started
        file = scratch / f"{kind}.faiss"
        write_ann(index, file)
        del index
        result = run_child(
            [
                sys.executable,
                "-m",
                "tests.bench.scale",
                "--probe",
                str(file),
                str(scratch / "queries.npy"),
                str(scratch / "truth.npy"),
            ]
        )
        measured = json.loads(result.stdout) if result.returncode == 0 else {"error": result.stderr[-300:]}
        out[kind] = {"build_s": round(build_s, 1), "file_mb": round(file.stat().st_size / 1024**2, 1)} | measured
        file.unlink()
    return out


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--probe":
        print(json.dumps(probe(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))))
    else:
        sys.exit("usage: python -m tests.bench.scale --probe INDEX QUERIES TRUTH (run by tests.bench.run_bench)")
