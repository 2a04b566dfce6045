"""Retrieval: dense (FAISS), BM25 or both fused, with date/outlet filters and diverse results.

:func:`retrieve` is the one entry point. What a :class:`Hit` carries:

* ``dense_score``: cosine similarity of question and chunk (``title + chunk`` as embedded), always
  filled when a question vector is given, whatever the retriever;
* ``bm25_score``: raw BM25 of the chunk (0.0 when it shares no term with the question), always filled;
* ``score``: what the ranking is ordered by. ``dense``: the cosine. ``bm25``: the relative BM25 (see
  :mod:`index.lexical`; about 1 when every question term occurs once). ``hybrid``: the fused score of
  :data:`DEFAULT_FUSION`, ``w * cosine + (1 - w) * relative BM25``, on the same scale for every
  question, so a threshold on it means the same thing for any question.

Diversity (``diverse=True``, the default): a passage is never returned twice; a chunk that overlaps an
already chosen chunk of the same article is merged into it (one longer passage, one slot); a chunk whose
text or embedding is a near copy of a chosen one (the same wire story in two outlets) is dropped; and
one article takes at most ``per_article`` slots while other candidates remain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np

from index.fusion import Fusion
from index.records import Article, Chunk, Hit
from index.store import StoredIndex

RETRIEVERS = ("dense", "bm25", "hybrid")
# Chosen by measurement on xquad-en and TIME (docs/QUALITY.md, `make bench-quality`).
DEFAULT_FUSION = Fusion(method="absolute", dense_weight=0.5)
# Each side contributes this many candidates per wanted hit (at least MIN_POOL) before fusion.
POOL_FACTOR = 4
MIN_POOL = 30
# Embeddings this similar say the same thing (a near copy), not merely the same topic.
NEAR_COPY_COSINE = 0.97


@dataclass(frozen=True)
class SearchFilters:
    """Which articles may answer: published in [since, until], by an outlet matching ``outlet``."""

    since: dt.date | None = None
    until: dt.date | None = None
    outlet: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.outlet)

    def allows(self, article: Article) -> bool:
        if self.since and (article.date is None or article.date < self.since):
            return False
        if self.until and (article.date is None or article.date > self.until):
            return False
        return not self.outlet or self.outlet.casefold() in article.outlet.casefold()


@dataclass(frozen=True)
class SearchOptions:
    """How to retrieve: which retriever, how to fuse, and the diversity rules."""

    retriever: str = "hybrid"
    fusion: Fusion = DEFAULT_FUSION
    diverse: bool = True
    per_article: int = 2

    def __post_init__(self) -> None:
        if self.retriever not in RETRIEVERS:
            raise ValueError(f"unknown retriever {self.retriever!r}; choose one of {', '.join(RETRIEVERS)}")


def allowed_chunks(stored: StoredIndex, filters: SearchFilters) -> np.ndarray | None:
    """A boolean mask over chunks, or None when every chunk is allowed."""
    if not filters.active:
        return None
    ok = {aid for aid, article in stored.articles.items() if filters.allows(article)}
    return np.fromiter((c.article_id in ok for c in stored.chunks), dtype=bool, count=len(stored.chunks))


def retrieve(
    stored: StoredIndex,
    question: str,
    query: np.ndarray | None,
    k: int,
    filters: SearchFilters | None = None,
    options: SearchOptions = SearchOptions(),  # noqa: B008 - frozen dataclass, safe to share
) -> list[Hit]:
    """The ``k`` best chunks for ``question`` (``query``: its unit embedding; needed unless bm25)."""
    if k <= 0 or not stored.chunks:
        return []
    mask = allowed_chunks(stored, filters or SearchFilters())
    if mask is not None and not mask.any():
        return []
    if query is None and options.retriever != "bm25":
        raise ValueError("dense and hybrid retrieval need the question's embedding")
    pool = max(MIN_POOL, POOL_FACTOR * k) if options.diverse else k
    ranked = _rank(stored, question, query, pool, mask, options)
    if options.diverse:
        ranked = diversify(stored, ranked, k, options.per_article)
    return [replace(hit, rank=rank) for rank, hit in enumerate(ranked[:k])]


def _rank(
    stored: StoredIndex, question: str, query: np.ndarray | None, pool: int, mask: np.ndarray | None,
    options: SearchOptions,
) -> list[Hit]:  # fmt: skip
    lexical = stored.lexical_index()
    raw, weight = lexical.scores(question)
    if mask is not None:
        raw = np.where(mask, raw, 0.0)

    def relative(i: int) -> float:
        return float(raw[i]) / weight if weight else 0.0

    def cosine(i: int) -> float | None:
        return None if query is None else float(stored.vectors[i] @ query)

    def hit(i: int, score: float) -> Hit:
        return Hit(stored.chunks[i], score, 0, dense_score=cosine(i), bm25_score=float(raw[i]))

    if options.retriever == "dense":
        assert query is not None
        return [hit(i, s) for i, s in dense_pairs(stored, query, pool, mask)]
    lexical_top = _top_positive(raw, pool)
    if options.retriever == "bm25":
        return [hit(i, relative(i)) for i in lexical_top]
    assert query is not None
    # Candidates from both sides, each scored exactly on both sides (cheap: a dot product, a lookup).
    candidates = {i for i, _ in dense_pairs(stored, query, pool, mask)} | set(lexical_top)
    dense = {i: float(stored.vectors[i] @ query) for i in candidates}
    use_raw = options.fusion.method != "absolute"
    lexical_scores = {i: float(raw[i]) if use_raw else relative(i) for i in candidates if raw[i] > 0}
    fused = options.fusion.fuse(dense, lexical_scores)
    order = sorted(fused, key=lambda i: (-fused[i], i))
    return [hit(i, fused[i]) for i in order]


def _top_positive(scores: np.ndarray, k: int) -> list[int]:
    """Positions of the ``k`` highest positive scores, best first (ties by position)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > k:
        positive = positive[np.argpartition(-scores[positive], k - 1)[:k]]
    return sorted(positive.tolist(), key=lambda i: (-float(scores[i]), i))


def dense_pairs(
    stored: StoredIndex, query: np.ndarray, k: int, mask: np.ndarray | None = None
) -> list[tuple[int, float]]:
    """(chunk position, cosine) of the ``k`` chunks most similar to the unit ``query``, best first."""
    total = len(stored.chunks)
    if total == 0 or k <= 0:
        return []
    query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if mask is not None and mask.sum() <= 4 * k:
        # Few allowed chunks: score them exactly rather than hoping they surface in an ANN search.
        ids = np.flatnonzero(mask)
        scores = stored.vectors[ids] @ query[0]
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(ids[i]), float(scores[i])) for i in order]
    want = k if mask is None else min(total, k * 20)
    while True:
        scores, ids = stored.ann.search(query, min(total, want))
        pairs = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        if mask is not None:
            pairs = [(i, s) for i, s in pairs if mask[i]]
        if len(pairs) >= k or want >= total:
            return pairs[:k]
        want *= 4


def dense_search(stored: StoredIndex, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[Hit]:
    """The ``k`` chunks most similar to the unit ``query`` vector (cosine), best first, no diversity."""
    pairs = dense_pairs(stored, query, k, mask)
    return [Hit(stored.chunks[i], s, rank, dense_score=s) for rank, (i, s) in enumerate(pairs)]


def diversify(stored: StoredIndex, ranked: list[Hit], k: int, per_article: int) -> list[Hit]:
    """Up to ``k`` hits from ``ranked`` (best first) following the diversity rules of the module doc."""
    chosen: list[Hit] = []
    deferred: list[Hit] = []  # over the per-article cap: used only if nothing else is left
    seen_texts: set[str] = set()
    chosen_vectors: list[np.ndarray] = []
    position = {(c.article_id, c.ordinal): i for i, c in enumerate(stored.chunks)}

    def vector(hit: Hit) -> np.ndarray | None:
        i = position.get((hit.chunk.article_id, hit.chunk.ordinal))
        return None if i is None else stored.vectors[i]

    for hit in ranked:
        if len(chosen) >= k:
            break
        key = _normalised(hit.chunk.text)
        if key in seen_texts:
            continue
        merged = _merge_into(chosen, hit, stored)
        if merged:
            continue
        v = vector(hit)
        if v is not None and chosen_vectors and max(float(v @ u) for u in chosen_vectors) >= NEAR_COPY_COSINE:
            continue
        if sum(1 for c in chosen if c.chunk.article_id == hit.chunk.article_id) >= per_article:
            deferred.append(hit)
            continue
        chosen.append(hit)
        seen_texts.add(key)
        if v is not None:
            chosen_vectors.append(v)
    for hit in deferred:
        if len(chosen) >= k:
            break
        if not _merge_into(chosen, hit, stored):
            chosen.append(hit)
    return chosen


def _merge_into(chosen: list[Hit], hit: Hit, stored: StoredIndex) -> bool:
    """Fold ``hit`` into a chosen hit of the same article whose passage it overlaps; True if it did."""
    chunk = hit.chunk
    for n, other in enumerate(chosen):
        kept = other.chunk
        if kept.article_id != chunk.article_id or chunk.start >= kept.end or kept.start >= chunk.end:
            continue
        if chunk.start < kept.start or chunk.end > kept.end:
            start, end = min(kept.start, chunk.start), max(kept.end, chunk.end)
            text = stored.articles[kept.article_id].text[start:end]
            # The better-ranked chunk keeps its ordinal and scores; the passage covers both.
            chosen[n] = replace(other, chunk=Chunk(kept.article_id, kept.ordinal, start, end, text))
        return True
    return False


def _normalised(text: str) -> str:
    return " ".join(text.casefold().split())
