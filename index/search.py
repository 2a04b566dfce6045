"""Retrieval: dense (FAISS or Milvus, :mod:`index.vector_store`), BM25 or both fused, with filters and diversity.

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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from index.fusion import Fusion
from index.records import Article, Chunk, Hit
from index.settings import RETRIEVERS
from index.store import StoredIndex
from index.vector_store import VectorFilter

# Chosen by measurement on xquad-en and TIME (`make bench-quality`, `python -m tests.bench.quality --sweep`):
# absolute fusion beat RRF and min-max on both. Dense weights 0.5-0.7 form a plateau (xquad recall@1
# 0.958-0.961, TIME nDCG@10 0.784-0.788); 0.6 led by 4 of 1,190 xquad questions, within noise, so the
# equal weighting stays.
DEFAULT_FUSION = Fusion(method="absolute", dense_weight=0.5)
# Each side contributes this many candidates per wanted hit (at least MIN_POOL) before fusion.
POOL_FACTOR = 4
MIN_POOL = 30
# Embeddings this similar say the same thing (a near copy), not merely the same topic.
NEAR_COPY_COSINE = 0.97


@dataclass(frozen=True)
class SearchFilters:
    """Which articles may answer: published in [since, until], by an outlet matching ``outlet``, and
    not one of ``exclude`` (article ids: the benchmarks ask "near miss" questions with the article
    that answers them taken out)."""

    since: dt.date | None = None
    until: dt.date | None = None
    outlet: str | None = None
    exclude: frozenset[str] = frozenset()

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.outlet or self.exclude)

    def allows(self, article: Article) -> bool:
        if article.id in self.exclude:
            return False
        if self.since and (article.date is None or article.date < self.since):
            return False
        if self.until and (article.date is None or article.date > self.until):
            return False
        return not self.outlet or article.from_outlet(self.outlet)


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


@dataclass(frozen=True)
class LexicalSide:
    """What retrieval reads of a question without its vector (:func:`read_lexical`): which chunks are allowed,
    every chunk's raw BM25 and the relative score's normaliser, and the BM25 candidates, best first."""

    mask: np.ndarray | None  # from allowed_chunks (None: every chunk is allowed)
    raw: np.ndarray  # raw BM25 of every chunk, 0 where not allowed
    weight: float  # the normaliser of the relative score (index.lexical)
    top: list[int]  # positions of the pool's best positive scores, best first (empty for the dense retriever)


def read_lexical(
    stored: StoredIndex,
    question: str,
    k: int,
    filters: SearchFilters | None = None,
    options: SearchOptions = SearchOptions(),  # noqa: B008 - frozen dataclass, safe to share
    terms: Sequence[str] | None = None,
) -> LexicalSide:
    """The part of :func:`retrieve` that needs no question vector: a front end can run it while the question
    is embedded (index.newsdesk) and pass it to :func:`retrieve`, with the same arguments."""
    mask = allowed_chunks(stored, filters or SearchFilters())
    raw, weight = stored.lexical.scores(question, terms)
    if mask is not None:
        raw = np.where(mask, raw, 0.0)
    top = [] if options.retriever == "dense" else _top_positive(raw, _pool(k, options))
    return LexicalSide(mask, raw, weight, top)


def retrieve(
    stored: StoredIndex,
    question: str,
    query: np.ndarray | None,
    k: int,
    filters: SearchFilters | None = None,
    options: SearchOptions = SearchOptions(),  # noqa: B008 - frozen dataclass, safe to share
    terms: Sequence[str] | None = None,
    lexical: LexicalSide | None = None,
) -> list[Hit]:
    """The ``k`` best chunks for ``question`` (``query``: its unit embedding; needed unless bm25;
    ``terms``: its BM25 tokens when already known, see :mod:`index.query_analysis`; ``lexical``: what
    :func:`read_lexical` read of it with the same arguments, when already read)."""
    if k <= 0 or not stored.chunks:
        return []
    if lexical is None:
        lexical = read_lexical(stored, question, k, filters, options, terms)
    if lexical.mask is not None and not lexical.mask.any():
        return []
    if query is None and options.retriever != "bm25":
        raise ValueError("dense and hybrid retrieval need the question's embedding")
    ranked = _rank(stored, query, _pool(k, options), lexical, options, filters)
    hits = diversify(stored, ranked, k, options.per_article) if options.diverse else [h for _, h in ranked]
    return [replace(hit, rank=rank) for rank, hit in enumerate(hits[:k])]


def _pool(k: int, options: SearchOptions) -> int:
    return max(MIN_POOL, POOL_FACTOR * k) if options.diverse else k


def _rank(
    stored: StoredIndex, query: np.ndarray | None, pool: int, lexical: LexicalSide, options: SearchOptions,
    filters: SearchFilters | None = None,
) -> Iterator[tuple[int, Hit]]:  # fmt: skip
    """(chunk position, hit) of up to ``pool`` candidates, best first. Lazy: diversity usually stops
    well before the pool is used up, and the hits it never reaches are never built."""
    raw, weight, mask, lexical_top = lexical.raw, lexical.weight, lexical.mask, lexical.top
    chunks = stored.chunks

    def relative(value: float) -> float:
        return value / weight if weight else 0.0

    if options.retriever == "dense":
        assert query is not None
        # FAISS's own inner product, so that score == dense_score exactly.
        pairs = dense_pairs(stored, query, pool, mask, filters)
        bm25 = _values(raw, [i for i, _ in pairs])
        return ((i, Hit(chunks[i], s, 0, s, bm25[i])) for i, s in pairs)
    if options.retriever == "bm25":
        bm25 = _values(raw, lexical_top)
        return (
            (i, Hit(chunks[i], relative(bm25[i]), 0, _cosine(stored, query, i), bm25[i]))
            for i in lexical_top
        )  # fmt: skip
    assert query is not None
    # Candidates from both sides, each scored exactly on both sides (cheap: a dot product, a lookup).
    candidates = {i for i, _ in dense_pairs(stored, query, pool, mask, filters)} | set(lexical_top)
    rows = sorted(candidates)
    bm25 = _values(raw, rows)
    # Each row's own product, as the hits' dense_score always was (``np.vecdot`` computes each row's
    # ``vectors[i] @ query`` alone, bit for bit; a matrix product may round differently).
    dense = dict(zip(rows, np.vecdot(stored.vectors[rows], query).tolist(), strict=True))
    use_raw = options.fusion.method != "absolute"
    lexical_scores = {i: bm25[i] if use_raw else relative(bm25[i]) for i in candidates if bm25[i] > 0}
    fused = options.fusion.fuse(dense, lexical_scores)
    order = sorted(fused, key=lambda i: (-fused[i], i))
    return ((i, Hit(chunks[i], fused[i], 0, dense[i], bm25[i])) for i in order)


def _values(scores: np.ndarray, positions: list[int]) -> dict[int, float]:
    """``scores`` at ``positions`` as Python floats (one conversion, not one numpy scalar each)."""
    return dict(zip(positions, scores[positions].tolist(), strict=True)) if positions else {}


def _cosine(stored: StoredIndex, query: np.ndarray | None, i: int) -> float | None:
    return None if query is None else float(stored.vectors[i] @ query)


def _top_positive(scores: np.ndarray, k: int) -> list[int]:
    """Positions of the ``k`` highest positive scores, best first (ties by position)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > k:
        positive = positive[np.argpartition(-scores[positive], k - 1)[:k]]
    values = _values(scores, positive.tolist())
    return sorted(values, key=lambda i: (-values[i], i))


def dense_pairs(
    stored: StoredIndex,
    query: np.ndarray,
    k: int,
    mask: np.ndarray | None = None,
    filters: SearchFilters | None = None,
) -> list[tuple[int, float]]:
    """(chunk position, cosine) of the ``k`` chunks most similar to the unit ``query``, best first.

    ``mask`` (from :func:`allowed_chunks`) limits them to allowed chunks; ``filters``, the conditions
    it came from, let an engine such as Milvus apply them inside its own search."""
    if len(stored.chunks) == 0 or k <= 0:
        return []
    where = None if mask is None else vector_filter(stored, mask, filters or SearchFilters())
    return stored.vector_store().search(query, k, where)


def vector_filter(stored: StoredIndex, mask: np.ndarray, filters: SearchFilters) -> VectorFilter:
    """``filters`` as the vector store takes them: the mask, and the same conditions for an engine.
    An outlet filter matches by case-insensitive substring (``SearchFilters.allows``); the engine gets
    the exact outlet names that match, taken from the indexed articles."""
    outlets = None
    if filters.outlet:
        outlets = tuple(sorted({a.outlet for a in stored.articles.values() if a.from_outlet(filters.outlet)}))
    exclude = tuple(sorted(filters.exclude))
    return VectorFilter(mask=mask, since=filters.since, until=filters.until, outlets=outlets, exclude=exclude)


def diversify(stored: StoredIndex, ranked: Iterable[tuple[int, Hit]], k: int, per_article: int) -> list[Hit]:
    """Up to ``k`` hits from ``ranked`` ((chunk position, hit), best first) by the rules of the module doc."""
    chosen: list[Hit | None] = []  # None: merged into a better-ranked passage of its article
    by_article: dict[str, list[int]] = {}  # article id -> indexes into ``chosen``, best first
    deferred: list[Hit] = []  # over the per-article cap: used only if nothing else is left
    seen_texts: set[str] = set()
    chosen_vectors = np.zeros((k, stored.vectors.shape[1]), dtype=np.float32)

    def count() -> int:
        return sum(len(v) for v in by_article.values())

    for position, hit in ranked:
        if count() >= k:
            break
        key = _normalised(hit.chunk.text)
        mine = by_article.setdefault(hit.chunk.article_id, [])
        if key in seen_texts or _merge_into(chosen, mine, hit, stored):
            continue
        vector = stored.vectors[position]
        filled = min(len(chosen), k)
        if filled and float(np.max(chosen_vectors[:filled] @ vector)) >= NEAR_COPY_COSINE:
            continue
        if len(mine) >= per_article:
            deferred.append(hit)
            continue
        if len(chosen) < k:
            chosen_vectors[len(chosen)] = vector
        mine.append(len(chosen))
        chosen.append(hit)
        seen_texts.add(key)
    for hit in deferred:
        if count() >= k:
            break
        mine = by_article[hit.chunk.article_id]
        if not _merge_into(chosen, mine, hit, stored):
            mine.append(len(chosen))
            chosen.append(hit)
    return [h for h in chosen if h is not None]


def _merge_into(chosen: list[Hit | None], mine: list[int], hit: Hit, stored: StoredIndex) -> bool:
    """Fold ``hit`` into the chosen passages of its article (``mine``) that it overlaps; True if any.

    The union becomes one passage held by the best-ranked of them (its ordinal and scores are kept);
    the others, which the union may now also cover, are dropped so no two passages overlap."""
    chunk = hit.chunk
    overlapping = [n for n in mine if _overlap(chosen[n], chunk.start, chunk.end)]
    if not overlapping:
        return False
    start, end = chunk.start, chunk.end
    while True:  # the union can reach further passages of the article
        spans = [(chosen[n].chunk.start, chosen[n].chunk.end) for n in overlapping]  # type: ignore[union-attr]
        start, end = min([start] + [a for a, _ in spans]), max([end] + [b for _, b in spans])
        more = [n for n in mine if n not in overlapping and _overlap(chosen[n], start, end)]
        if not more:
            break
        overlapping = sorted(overlapping + more)
    keep = chosen[overlapping[0]]
    assert keep is not None
    text = stored.articles[keep.chunk.article_id].text[start:end]
    chosen[overlapping[0]] = replace(keep, chunk=Chunk(keep.chunk.article_id, keep.chunk.ordinal, start, end, text))
    for n in overlapping[1:]:
        chosen[n] = None
        mine.remove(n)
    return True


def _overlap(hit: Hit | None, start: int, end: int) -> bool:
    return hit is not None and start < hit.chunk.end and hit.chunk.start < end


def _normalised(text: str) -> str:
    return " ".join(text.casefold().split())
