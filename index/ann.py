"""The vector index behind dense search, as FAISS factory strings (swap the backend here only).

Three types (``Settings.index_type``, ``newsdesk index --index-type``), all inner product over unit
vectors, so the scores the search layer sees are cosine similarities:

* ``flat``: exact search, every vector compared. No recall loss; time grows with the collection.
* ``hnsw``: a navigable graph (HNSW, 32 links per node). Under a millisecond per query with
  recall@10 0.97-0.975 (efSearch 128) at 30,000-100,000 vectors; ~0.25 kB per vector on top of the
  vectors.
* ``ivfpq``: vectors bucketed by k-means (IVF), candidates found with 8-bit product-quantised codes,
  then re-ranked exactly with the full vectors (``RFlat``), so the scores are true cosines and
  recall stays close to exact. Slow to train (k-means and PQ codebooks); 48 bytes per vector on top.

``auto`` (the default) picks by the number of chunks: ``flat`` below :data:`HNSW_FROM`, ``hnsw``
up to :data:`IVFPQ_FROM`, then ``ivfpq``. Measured (docs/PERFORMANCE.md): exact search costs ~0.1-0.5
ms per 1,000 chunks per query (3.8 ms at 30,000 on a quiet machine, 48 ms at 100,000 on a loaded
one); at 30,000 vectors HNSW built in 2.8 s and answered in 0.42 ms with recall@10 0.975, while
IVF-PQ took 82 s to train and reached 0.91.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

INDEX_TYPES = ("flat", "hnsw", "ivfpq")
# Exact search is ~5-25 ms per query at 50,000 chunks on 2 cores: past that an approximate index is
# faster by orders of magnitude for a recall loss of a few percent.
HNSW_FROM = 50_000
# HNSW keeps every vector and ~0.25 kB of graph each in memory; past a few million IVF-PQ trains once
# and stays cheaper to rebuild.
IVFPQ_FROM = 5_000_000
# IVF-PQ needs enough vectors to train its k-means and codebooks; below this it is not worth it.
IVFPQ_MIN_VECTORS = 10_000


@dataclass(frozen=True)
class AnnParams:
    """Build and search parameters (one place, so the benchmark and the product use the same)."""

    hnsw_links: int = 32
    hnsw_ef_construction: int = 40
    # 64 gave recall@10 0.92 at 100k clustered vectors, 128 gave 0.97 for 0.4 ms (docs/PERFORMANCE.md).
    hnsw_ef_search: int = 128
    ivf_probe: int = 16
    # Candidates re-ranked exactly per wanted result in IVF-PQ (8-bit PQ codes of 8 dimensions rank
    # coarsely: 4 per result gave recall@10 0.65 on tests/index/test_ann.py, 20 gave 1.0).
    refine_factor: int = 20
    # Vectors used to train IVF-PQ (k-means cost grows with it; more adds little).
    train_sample: int = 100_000


DEFAULT_PARAMS = AnnParams()


def choose_index_type(requested: str, count: int) -> str:
    """``auto`` picks by collection size (see the module doc); IVF-PQ needs enough vectors to train."""
    if requested not in ("auto", *INDEX_TYPES):
        raise ValueError(f"unknown index type {requested!r}")
    kind = requested
    if requested == "auto":
        kind = "ivfpq" if count >= IVFPQ_FROM else "hnsw" if count >= HNSW_FROM else "flat"
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


def write_ann(index: Any, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def read_ann(path: Path) -> Any:
    import faiss

    index = faiss.read_index(str(path))
    tune_search(index)
    return index
