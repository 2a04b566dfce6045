"""Fusing the dense and the BM25 ranking of the same chunks into one ranking.

Three methods, compared by ``python -m tests.bench.quality --sweep``:

* ``rrf``: reciprocal rank fusion, ``sum w / (k + rank)``; uses ranks only, robust, but its score says
  nothing about how good the best passage is.
* ``minmax``: each side's scores rescaled to [0, 1] within the candidates of this question, then
  ``w * dense + (1 - w) * bm25``; the top candidate always gets about 1, so it cannot tell a strong
  match from the best of a bad lot either.
* ``absolute``: ``w * cosine + (1 - w) * relative BM25`` (see :mod:`index.lexical`); both sides are
  already on a scale that means the same for every question, so the fused score is comparable across
  questions and usable as evidence strength for abstention.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FUSION_METHODS = ("rrf", "minmax", "absolute")


@dataclass(frozen=True)
class Fusion:
    """A fusion method and its knobs. ``dense_weight`` is the dense side's share (0..1)."""

    method: str = "absolute"
    dense_weight: float = 0.5
    rrf_k: float = 60.0

    def __post_init__(self) -> None:
        if self.method not in FUSION_METHODS:
            raise ValueError(f"unknown fusion method {self.method!r}; choose one of {', '.join(FUSION_METHODS)}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError("dense_weight must be between 0 and 1")

    def fuse(self, dense: Mapping[int, float], lexical: Mapping[int, float]) -> dict[int, float]:
        """Fused scores of the union of candidates. ``dense``: cosine by chunk position; ``lexical``:
        relative BM25 for ``absolute``, raw BM25 otherwise (a candidate missing on one side has 0 there)."""
        if self.method == "rrf":
            return reciprocal_rank_fusion(
                [rank_order(dense), rank_order(lexical)], [self.dense_weight, 1.0 - self.dense_weight], self.rrf_k
            )
        if self.method == "minmax":
            return weighted_sum(min_max(dense), min_max(lexical), self.dense_weight)
        return weighted_sum(dense, lexical, self.dense_weight)


def rank_order(scores: Mapping[int, float]) -> list[int]:
    """Keys best first; ties by key so the order is deterministic."""
    return sorted(scores, key=lambda i: (-scores[i], i))


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], weights: Sequence[float], k: float = 60.0
) -> dict[int, float]:
    """``sum_r w_r / (k + rank_r(i))`` with ranks from 1 (Cormack et al. 2009; k = 60 is theirs)."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def min_max(scores: Mapping[int, float]) -> dict[int, float]:
    """Scores rescaled to [0, 1]; all equal -> all 1 (they are equally the best we have)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high <= low:
        return {i: 1.0 for i in scores}
    return {i: (s - low) / (high - low) for i, s in scores.items()}


def weighted_sum(dense: Mapping[int, float], lexical: Mapping[int, float], dense_weight: float) -> dict[int, float]:
    return {
        i: dense_weight * dense.get(i, 0.0) + (1.0 - dense_weight) * lexical.get(i, 0.0)
        for i in dense.keys() | lexical.keys()
    }
