"""The vector store: where chunk vectors are searched. FAISS files (default) or a Milvus collection.

One small protocol, :class:`VectorStore` (add, delete by article, filtered search, count), with two
implementations, chosen by ``Settings.vector_store``:

* ``faiss`` (default): :class:`FaissVectorStore`, the ``dense.faiss`` file of each index generation
  (:mod:`index.ann`), loaded in memory. Filters are a boolean mask over chunks.
* a ``*.db`` path (Milvus Lite, in-process, one file) or ``http://HOST:PORT`` (a Milvus server or
  cluster): :class:`index.milvus_store.MilvusVectorStore`, a collection reached through
  ``pymilvus.MilvusClient``. Filters (date range, outlets) are Milvus filter expressions evaluated by
  the engine, so a filtered search returns the best *allowed* chunks, not the best chunks filtered after.

Search answers positions in the generation's chunk list (``StoredIndex.chunks``) with their cosine, so
the rest of retrieval (BM25, fusion, diversity, answers) does not know which store ran.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from index.ann import FEW_ROWS_FACTOR, exact_search, index_kind
from index.errors import ConfigError
from index.extras import is_installed, missing_extra

FAISS = "faiss"


@dataclass(frozen=True)
class VectorFilter:
    """Which chunks a search may return. ``mask`` (one bool per chunk position) is what a local index
    applies; the conditions beside it (publication day range, exact outlet names) are what an engine
    evaluates itself. Both say the same thing; :func:`index.search.vector_filter` builds them together."""

    mask: np.ndarray
    since: dt.date | None = None
    until: dt.date | None = None
    outlets: tuple[str, ...] | None = None  # None: any outlet
    exclude: tuple[str, ...] = ()  # article ids left out


@dataclass(frozen=True)
class VectorRows:
    """Chunk vectors to add, with what filters need of their article. ``vectors[i]`` is chunk
    ``(article_ids[i], ordinals[i])``; ``positions[i]`` its place in the generation's chunk list."""

    positions: np.ndarray
    article_ids: Sequence[str]
    ordinals: Sequence[int]
    content_hashes: Sequence[str]
    dates: Sequence[dt.date | None]
    outlets: Sequence[str]
    vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.article_ids)


class VectorStore(Protocol):
    """The dense side of retrieval, as the search layer and the index writer see it."""

    def add(self, rows: VectorRows) -> None:
        """Add chunk vectors (a chunk already present is not added twice by callers)."""

    def delete_articles(self, article_ids: Sequence[str]) -> int:
        """Remove every chunk of these articles; returns how many were removed."""

    def search(self, query: np.ndarray, k: int, where: VectorFilter | None = None) -> list[tuple[int, float]]:
        """(chunk position, cosine) of the ``k`` allowed chunks most similar to the unit ``query``, best first."""

    def count(self) -> int:
        """How many chunk vectors the store holds."""


def store_kind(uri: str) -> str:
    """``faiss``, ``milvus-lite`` (a ``*.db`` file) or ``milvus`` (a server); a clear error otherwise."""
    if uri == FAISS:
        return FAISS
    if uri.startswith(("http://", "https://", "tcp://")):
        return "milvus"
    if uri.endswith(".db"):
        return "milvus-lite"
    raise ConfigError(
        f"vector store {uri!r} is not understood: use 'faiss', a Milvus Lite file ending in .db "
        "(e.g. /data/newsdesk.db) or a Milvus server as http://HOST:PORT"
    )


def normalised_store(uri: str) -> str:
    """The form a generation records: ``faiss``, an absolute ``*.db`` path, or a server URI."""
    if store_kind(uri) == FAISS:
        return FAISS
    if not is_installed("pymilvus"):
        raise missing_extra("pymilvus", f"vector store {uri!r}")
    from index.milvus_store import normalise_uri

    return normalise_uri(uri)


class FaissVectorStore:
    """A FAISS inner-product index over a generation's chunk vectors; FAISS ids are chunk positions.

    Adding appends positions; deleting rebuilds the index from the remaining vectors (FAISS's own
    removal renumbers flat indexes but not IVF ones, which would break the position mapping). Index
    generations are built whole (:mod:`index.builder`), so neither runs on the query path."""

    def __init__(self, ann: Any, vectors: np.ndarray, article_ids: Sequence[str]) -> None:
        self.ann = ann
        self.vectors = vectors
        self.article_ids = list(article_ids)
        # A flat index is searched by numpy over the same vectors (index.ann.exact_search): the same
        # neighbours, faster than FAISS's flat search for one question, and no OpenMP thread left spinning
        # on the other core after it (docs/PERFORMANCE.md).
        self.exact = index_kind(ann) == "flat"

    def add(self, rows: VectorRows) -> None:
        self.ann.add(np.ascontiguousarray(rows.vectors, dtype=np.float32))
        self.vectors = np.concatenate([self.vectors, rows.vectors.astype(self.vectors.dtype)])
        self.article_ids.extend(rows.article_ids)

    def delete_articles(self, article_ids: Sequence[str]) -> int:
        from index.ann import build_ann, index_kind

        gone = set(article_ids)
        keep = np.array([a not in gone for a in self.article_ids], dtype=bool)
        removed = int((~keep).sum())
        if removed:
            self.vectors = self.vectors[keep]
            self.article_ids = [a for a, k in zip(self.article_ids, keep, strict=True) if k]
            self.ann = build_ann(self.vectors, index_kind(self.ann))
        return removed

    def count(self) -> int:
        return int(self.ann.ntotal)

    def search(self, query: np.ndarray, k: int, where: VectorFilter | None = None) -> list[tuple[int, float]]:
        total = self.count()
        if total == 0 or k <= 0:
            return []
        mask = None if where is None else where.mask
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if self.exact or (mask is not None and mask.sum() <= FEW_ROWS_FACTOR * k):
            # Few allowed chunks are scored exactly too, rather than hoping they surface in an ANN search.
            return exact_search(self.vectors, query, k, mask)
        want = k if mask is None else min(total, k * 20)
        while True:
            scores, ids = self.ann.search(query, min(total, want))
            pairs = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
            if mask is not None:
                pairs = [(i, s) for i, s in pairs if mask[i]]
            if len(pairs) >= k or want >= total:
                return pairs[:k]
            want *= 4
