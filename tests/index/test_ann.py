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
    exact_search,
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


@pytest.mark.parametrize("k", [1, 5, 30])
def test_exact_search_finds_what_a_flat_faiss_index_finds(k: int, vectors: np.ndarray, queries: np.ndarray) -> None:
    """The numpy search that answers for flat indexes: FAISS's neighbours, in its order, at its scores."""
    index = build_ann(vectors, "flat")
    scores, ids = index.search(queries, k)
    for query, want, want_scores in zip(queries, ids, scores, strict=True):
        found = exact_search(vectors, query, k)
        assert [i for i, _ in found] == want.tolist()
        np.testing.assert_allclose([s for _, s in found], want_scores, rtol=0, atol=1e-6)
        # Each score is the hit's dense_score as the search layer computes it, to the bit.
        assert [s for _, s in found] == [float(vectors[i] @ query) for i, _ in found]


@pytest.mark.parametrize("k", [1, 2, 3, 4, 6])
def test_exact_search_breaks_ties_by_row(k: int, vectors: np.ndarray) -> None:
    """Identical vectors (the same wire story twice) tie; the first rows go first and win at the k-th place.
    FAISS's scores are the same values; its choice among ties changes with k (measured: rows 10, 3 at k=2,
    20, 10, 3 at k=5), so only the scores are compared with it."""
    copies = vectors[:200].copy()
    copies[[50, 120, 199]] = copies[7]
    found = exact_search(copies, copies[7], k)
    assert [i for i, _ in found][:4] == [7, 50, 120, 199][:k]
    assert len({s for _, s in found[:4]}) == 1
    scores, _ = build_ann(copies, "flat").search(copies[7].reshape(1, -1), k)
    np.testing.assert_allclose([s for _, s in found], scores[0], rtol=0, atol=1e-6)


def test_exact_search_with_a_mask_returns_the_best_allowed_rows(vectors: np.ndarray, queries: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    for query in queries[:10]:
        for allowed in (0.001, 0.3, 0.9):  # a few rows (scored alone), most rows (picked from the full product)
            mask = rng.random(len(vectors)) < allowed
            found = exact_search(vectors, query, 10, mask)
            rows = np.flatnonzero(mask)
            want = rows[np.argsort(-(vectors[rows] @ query), kind="stable")[:10]]
            assert [i for i, _ in found] == want.tolist()
            assert all(mask[i] for i, _ in found)
