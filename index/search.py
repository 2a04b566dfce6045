"""Dense retrieval over the FAISS index, with date and outlet filters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from index.records import Article, Hit
from index.store import StoredIndex


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


def allowed_chunks(stored: StoredIndex, filters: SearchFilters) -> np.ndarray | None:
    """A boolean mask over chunks, or None when every chunk is allowed."""
    if not filters.active:
        return None
    ok = {aid for aid, article in stored.articles.items() if filters.allows(article)}
    return np.fromiter((c.article_id in ok for c in stored.chunks), dtype=bool, count=len(stored.chunks))


def dense_search(stored: StoredIndex, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[Hit]:
    """The ``k`` chunks most similar to the unit ``query`` vector (cosine), best first."""
    total = len(stored.chunks)
    if total == 0 or k <= 0:
        return []
    query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if mask is not None and mask.sum() <= 4 * k:
        # Few allowed chunks: score them exactly rather than hoping they surface in an ANN search.
        ids = np.flatnonzero(mask)
        scores = stored.vectors[ids] @ query[0]
        order = np.argsort(-scores)[:k]
        pairs = [(int(ids[i]), float(scores[i])) for i in order]
    else:
        want = k if mask is None else min(total, k * 20)
        pairs = []
        while True:
            scores, ids = stored.ann.search(query, min(total, want))
            pairs = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
            if mask is not None:
                pairs = [(i, s) for i, s in pairs if mask[i]]
            if len(pairs) >= k or want >= total:
                break
            want *= 4
        pairs = pairs[:k]
    return [Hit(stored.chunks[i], s, rank, dense_score=s) for rank, (i, s) in enumerate(pairs)]
