"""The vector index behind dense search, as FAISS factory strings (swap the backend here only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# Below this many vectors exact search is fast enough and costs no recall.
HNSW_FROM = 200_000
IVFPQ_FROM = 5_000_000


def choose_index_type(requested: str, count: int) -> str:
    """``auto`` picks by collection size: flat (exact) for most, HNSW for large, IVF-PQ for huge."""
    if requested != "auto":
        return requested
    if count >= IVFPQ_FROM:
        return "ivfpq"
    return "hnsw" if count >= HNSW_FROM else "flat"


def factory_string(index_type: str, count: int, dimension: int) -> str:
    if index_type == "flat":
        return "Flat"
    if index_type == "hnsw":
        return "HNSW32"
    if index_type == "ivfpq":
        lists = max(1, min(65536, int(4 * count**0.5)))
        sub = next(m for m in (48, 32, 24, 16, 12, 8, 4, 2, 1) if dimension % m == 0)
        return f"IVF{lists},PQ{sub}x8"
    raise ValueError(f"unknown index type {index_type!r}")


def build_ann(vectors: np.ndarray, index_type: str) -> Any:
    """A FAISS inner-product index over unit vectors (so scores are cosine similarities)."""
    import faiss

    count, dimension = vectors.shape
    kind = choose_index_type(index_type, count)
    if kind == "ivfpq" and count < 10_000:
        kind = "flat"  # IVF-PQ cannot be trained on so few vectors
    index: Any = faiss.index_factory(dimension, factory_string(kind, count, dimension), faiss.METRIC_INNER_PRODUCT)
    if kind == "hnsw":
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    if not index.is_trained:
        index.train(vectors)
    if kind == "ivfpq":
        faiss.extract_index_ivf(index).nprobe = 32
    if count:
        index.add(vectors)
    return index


def write_ann(index: Any, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def read_ann(path: Path) -> Any:
    import faiss

    return faiss.read_index(str(path))
