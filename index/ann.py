"""The vector index behind dense search, as FAISS factory strings (swap the backend here only).

Three types (``Settings.index_type``, ``newsdesk index --index-type``), all inner product over unit
vectors, so the scores the search layer sees are cosine similarities:

* ``flat``: exact search, every vector compared. No recall loss; time grows with the collection.
* ``hnsw``: a navigable graph (HNSW, 32 links per node). Fast to build, under a millisecond per
  query, but its recall falls on news collections full of near-copies (the same wire story in many
  outlets): on Reuters-derived vectors (`make bench`, scale part) recall@10 was 0.975 at 30,000,
  0.87 at 100,000, 0.69 at 300,000 and 0.53 at 1,000,000 (efSearch 128; 0.88 at efSearch 512 with
  efConstruction 128). Chosen only on request.
* ``ivfpq``: vectors bucketed by k-means (IVF), candidates found with 8-bit product-quantised codes,
  then re-ranked exactly with the full vectors (``RFlat``), so the scores are true cosines and
  recall stays close to exact: 0.955 at 100,000, 0.991 at 300,000 and 0.980 at 1,000,000 vectors,
  0.35-0.9 ms a query. Slow to train (35-50 s at these sizes); 48 bytes per vector on top.

``auto`` (the default) picks by the number of chunks: ``flat`` below :data:`IVFPQ_FROM`, ``ivfpq``
from there. Exact search costs ~0.06 ms per 1,000 chunks per query on one core (57 ms at 1,000,000),
so below 100,000 chunks it stays under ~6 ms with no recall loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.settings import INDEX_TYPES

# Exact search is ~6 ms per query at 100,000 chunks: past that IVF-PQ is two orders of magnitude
# faster at recall@10 >= 0.95 (measured, module doc); HNSW was faster still but lost recall on
# near-copies, so ``auto`` never picks it.
IVFPQ_FROM = 100_000
# IVF-PQ needs enough vectors to train its k-means and codebooks; below this it is not worth it.
IVFPQ_MIN_VECTORS = 10_000
# A filter that allows at most this many chunks per wanted result is searched exactly, whatever the index
# type (an ANN search would have to dig deep to surface them).
FEW_ROWS_FACTOR = 4


@dataclass(frozen=True)
class AnnParams:
    """Build and search parameters (one place, so the benchmark and the product use the same)."""

    hnsw_links: int = 32
    hnsw_ef_construction: int = 40
    # 64 gave recall@10 0.92 at 100k clustered vectors, 128 gave 0.97 for 0.4 ms (docs/PERFORMANCE.md).
    hnsw_ef_search: int = 128
    # Lists probed and candidates re-ranked exactly per wanted result in IVF-PQ (8-bit PQ codes of 8
    # dimensions rank coarsely). At 1,000,000 Reuters-derived vectors (`make bench`, scale part; one
    # thread): nprobe 16 / x20 gave recall@10 0.927 in 0.43 ms, 32 / x50 0.980 in 0.87 ms, 64 / x50
    # 0.990 in 1.52 ms.
    ivf_probe: int = 32
    refine_factor: int = 50
    # Vectors used to train IVF-PQ (k-means cost grows with it; more adds little).
    train_sample: int = 100_000


DEFAULT_PARAMS = AnnParams()


def choose_index_type(requested: str, count: int) -> str:
    """``auto`` picks by collection size (see the module doc); IVF-PQ needs enough vectors to train."""
    if requested not in ("auto", *INDEX_TYPES):
        raise ValueError(f"unknown index type {requested!r}")
    kind = requested
    if requested == "auto":
        kind = "ivfpq" if count >= IVFPQ_FROM else "flat"
    if kind == "ivfpq" and count < IVFPQ_MIN_VECTORS:
        return "flat"  # k-means and PQ codebooks cannot be trained on so few vectors
    return kind


def ivf_lists(count: int) -> int:
    # ~sqrt(n) lists: 1,000 at a million vectors, so 16 probes scan ~1.6 % of the codes.
    return max(16, min(65_536, int(round(count**0.5))))


def factory_string(index_type: str, count: int, dimension: int) -> str:
    if index_type == "flat":
        return "Flat"
    if index_type == "hnsw":
        return f"HNSW{DEFAULT_PARAMS.hnsw_links}"
    if index_type == "ivfpq":
        # 8 dimensions per sub-quantiser (48 bytes a vector for 384-d), the largest that divides.
        sub = next(m for m in (dimension // 8, 48, 32, 24, 16, 12, 8, 4, 2, 1) if m and dimension % m == 0)
        return f"IVF{ivf_lists(count)},PQ{sub}x8,RFlat"
    raise ValueError(f"unknown index type {index_type!r}")


def build_ann(vectors: np.ndarray, index_type: str, params: AnnParams = DEFAULT_PARAMS) -> Any:
    """A FAISS inner-product index over unit ``vectors`` (rows), of ``index_type`` (``auto`` allowed)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    count, dimension = vectors.shape
    kind = choose_index_type(index_type, count)
    index: Any = faiss.index_factory(dimension, factory_string(kind, count, dimension), faiss.METRIC_INNER_PRODUCT)
    if kind == "hnsw":
        index.hnsw.efConstruction = params.hnsw_ef_construction
    if not index.is_trained:
        # A random sample trains as well as everything and keeps the k-means time bounded.
        sample = vectors
        if count > params.train_sample:
            rows = np.random.default_rng(0).choice(count, params.train_sample, replace=False)
            sample = vectors[np.sort(rows)]
        index.train(sample)
    if count:
        index.add(vectors)
    tune_search(index, params)
    return index


def tune_search(index: Any, params: AnnParams = DEFAULT_PARAMS) -> None:
    """Set the search-time parameters (they are not all stored in the index file)."""
    import faiss

    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = params.hnsw_ef_search
    refine = faiss.try_extract_index_ivf(index)
    if refine is not None:
        refine.nprobe = params.ivf_probe
    if isinstance(index, faiss.IndexRefine):
        index.k_factor = float(params.refine_factor)


def index_kind(index: Any) -> str:
    """Which of :data:`INDEX_TYPES` a loaded FAISS index is."""
    import faiss

    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    if faiss.try_extract_index_ivf(index) is not None:
        return "ivfpq"
    return "flat"


def exact_search(
    vectors: np.ndarray, query: np.ndarray, k: int, mask: np.ndarray | None = None
) -> list[tuple[int, float]]:
    """(row, inner product) of the ``k`` rows of ``vectors`` most similar to ``query``, best first, ties
    by row; ``mask`` (one bool per row): only the rows it allows.

    What a ``flat`` index answers, without FAISS. Each row's inner product is the one the search layer
    computes for a hit's ``dense_score`` (``vectors[i] @ query``; ``np.vecdot`` makes the same call per
    row, bit for bit), so the pool is chosen by the very scores its hits carry. On one thread: a matrix
    product on OpenBLAS's threads was faster on an idle machine (0.23 ms on the Reuters index, 6,899 x 384)
    but took 4-8 ms when another process kept the other core busy; this took 0.45-0.48 ms there and
    FAISS's flat search 0.52-0.60 ms (2026-12-01, docs/PERFORMANCE.md). FAISS's scores are within float32
    rounding of these (1.2e-7), and it breaks ties between identical vectors differently for different
    ``k``; this always by row."""
    query = query.reshape(-1)  # its dtype as given: the product is then the hits' own
    rows = None if mask is None else np.flatnonzero(mask)
    if rows is None:
        scores = np.vecdot(vectors, query)
    elif len(rows) <= FEW_ROWS_FACTOR * k:
        scores = np.vecdot(vectors[rows], query)  # each row's product is the same, computed alone or not
    else:
        scores = np.vecdot(vectors, query)[rows]  # no copy of most of the matrix
    top = top_rows(scores, k)
    positions = top if rows is None else rows[top]
    return list(zip(positions.tolist(), scores[top].tolist(), strict=True))


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest ``scores``, best first, ties by position."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < len(scores):
        # Everything above the k-th best score, then the positions that tie with it, first ones first.
        kth = scores[np.argpartition(-scores, k - 1)[k - 1]]
        above = np.flatnonzero(scores > kth)
        top = np.concatenate([above, np.flatnonzero(scores == kth)[: k - len(above)]])
    else:
        top = np.arange(len(scores))
    return top[np.lexsort((top, -scores[top]))]


def write_ann(index: Any, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def read_ann(path: Path) -> Any:
    import faiss

    index = faiss.read_index(str(path))
    tune_search(index)
    return index
