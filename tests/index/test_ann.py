"""Each vector index type finds the exact neighbours on a small clustered set, and keeps its settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.ann import (
    DEFAULT_PARAMS,
    IVFPQ_FROM,
    IVFPQ_MIN_VECTORS,
    build_ann,
    choose_index_type,
    index_kind,
    read_ann,
    write_ann,
)


def clustered(count: int, dimension: int = 32, centres: int = 100, seed: int = 0) -> np.ndarray:
    """Unit vectors around a few centres (news embeddings cluster by topic; uniform noise would not)."""
    rng = np.random.default_rng(seed)
    middle = rng.standard_normal((centres, dimension)).astype(np.float32)
    rows = middle[rng.integers(0, centres, count)] + 0.3 * rng.standard_normal((count, dimension)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return clustered(IVFPQ_MIN_VECTORS + 2_000)


@pytest.fixture(scope="module")
def queries(vectors: np.ndarray) -> np.ndarray:
    """Near stored vectors, as a question is near the passages that answer it."""
    rng = np.random.default_rng(1)
    rows = vectors[rng.choice(len(vectors), 50, replace=False)] + 0.05 * rng.standard_normal((50, 32))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def exact(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k]


# IVF-PQ trains on 12,000 vectors: ~11 CPU-seconds per test (measured), so it runs in make test only.
IVFPQ = pytest.param("ivfpq", marks=pytest.mark.slow)


@pytest.mark.parametrize("kind", ["flat", "hnsw", IVFPQ])
def test_each_type_returns_the_exact_neighbours(kind: str, vectors: np.ndarray, queries: np.ndarray) -> None:
    index = build_ann(vectors, kind)
    assert index_kind(index) == kind
    scores, ids = index.search(queries, 10)
    truth = exact(vectors, queries, 10)
    recall = np.mean([len(set(found) & set(want)) / 10 for found, want in zip(ids, truth, strict=True)])
    assert recall >= (1.0 if kind == "flat" else 0.9)
    # The first hit is the true nearest neighbour, and every score is the true cosine (IVF-PQ
    # re-ranks with the full vectors), because the search layer fuses these scores with BM25.
    assert (ids[:, 0] == truth[:, 0]).mean() >= 0.95
    true_scores = np.einsum("qd,qkd->qk", queries, vectors[ids])
    np.testing.assert_allclose(scores, true_scores, atol=1e-4)
    # A stored vector finds itself first (searched, as the search layer does, for several results).
    _, self_ids = index.search(vectors[:20], 10)
    assert list(self_ids[:, 0]) == list(range(20))


@pytest.mark.parametrize("kind", ["hnsw", IVFPQ])
def test_search_parameters_survive_a_round_trip(kind: str, vectors: np.ndarray, tmp_path: Path) -> None:
    import faiss

    path = tmp_path / "dense.faiss"
    write_ann(build_ann(vectors, kind), path)
    loaded = read_ann(path)
    assert index_kind(loaded) == kind
    if kind == "hnsw":
        assert loaded.hnsw.efSearch == DEFAULT_PARAMS.hnsw_ef_search
    else:
        assert faiss.extract_index_ivf(loaded).nprobe == DEFAULT_PARAMS.ivf_probe
        assert loaded.k_factor == DEFAULT_PARAMS.refine_factor


def test_auto_chooses_by_collection_size() -> None:
    assert choose_index_type("auto", 12) == "flat"
    assert choose_index_type("auto", IVFPQ_FROM - 1) == "flat"
    assert choose_index_type("auto", IVFPQ_FROM) == "ivfpq"
    assert choose_index_type("hnsw", 12) == "hnsw"
    # IVF-PQ cannot be trained on a handful of vectors: exact search is used (and recorded) instead.
    assert choose_index_type("ivfpq", IVFPQ_MIN_VECTORS - 1) == "flat"
    with pytest.raises(ValueError):
        choose_index_type("lsh", 10)


def test_small_collections_and_empty_ones_build() -> None:
    assert index_kind(build_ann(clustered(30), "ivfpq")) == "flat"
    empty = build_ann(np.zeros((0, 32), dtype=np.float32), "flat")
    assert empty.ntotal == 0
