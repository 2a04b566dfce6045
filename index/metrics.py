"""Scoring answers against expectations: answer matching, rank metrics, percentiles, metric changes,
and the metrics of a whole question set (:func:`question_set_metrics`).

Library logic shared by every runner that grades answers (``newsdesk eval``, the quality benchmarks);
front ends only format what these return.

Answer matching is strict on purpose: an expected string matches only as whole words ("Ghani" is not
found in "Afghanistan"), case-insensitively, with punctuation between words ignored, and numbers
compared by value ("13,500" = "13500"; "850" is not found in "8500" nor in "1850").
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

# A number: digits with thousands separators ("13,500", "1,000,000") or a decimal part ("2.5").
# Thousands groups are exactly three digits, so "1,2" stays two numbers as written in a list.
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_TOKEN = re.compile(rf"(?P<num>{_NUMBER})|(?P<word>[^\W\d_]+)")


def _tokens(text: str) -> list[str]:
    """Words casefolded and accents kept; numbers as their canonical value ("13,500" -> "13500")."""
    text = unicodedata.normalize("NFKC", text).casefold()
    out = []
    for match in _TOKEN.finditer(text):
        number = match.group("num")
        out.append(_number_value(number) if number is not None else match.group("word"))
    return out


def _number_value(number: str) -> str:
    try:
        value = Decimal(number.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        return number
    return format(value.normalize(), "f")


def answer_matches(text: str, expected: str) -> bool:
    """Whether ``expected`` appears in ``text`` as whole words, numbers compared by value.

    >>> answer_matches("a force of 13500 troops", "13,500")
    True
    >>> answer_matches("the war in Afghanistan", "Ghani")
    False
    """
    needle = _tokens(expected)
    if not needle:
        return False
    hay = _tokens(text)
    width = len(needle)
    return any(hay[i : i + width] == needle for i in range(len(hay) - width + 1))


def share(part: float, whole: int) -> float | None:
    """``part / whole`` rounded to 4 places; ``None`` when nothing was measured."""
    return round(part / whole, 4) if whole else None


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of ``values`` (any order); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return round(ordered[rank - 1], 2)


def hit_at(ranks: Sequence[int | None], depth: int) -> bool:
    """Every expected source cited within the first ``depth`` citations (ranks are 1-based, None = not cited)."""
    return bool(ranks) and all(r is not None and r <= depth for r in ranks)


def reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """1 / the best rank of any expected source; 0 when none was cited."""
    found = [r for r in ranks if r is not None]
    return 1.0 / min(found) if found else 0.0


@dataclass(frozen=True)
class MetricChange:
    """One metric before (a baseline) and now; either side ``None`` when it was not measured."""

    name: str
    before: float | None
    now: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.now is None:
            return None
        return round(self.now - self.before, 4)


def metric_changes(before: Mapping[str, float | None], now: Mapping[str, float | None]) -> list[MetricChange]:
    """Every metric of ``now`` (in its order), then any only ``before`` had, with both values."""
    names = list(now) + [name for name in before if name not in now]
    return [MetricChange(name, before.get(name), now.get(name)) for name in names]


# A question set's hit@k is reported at these depths.
HIT_DEPTHS = (1, 3, 5)


class GradedQuestion(Protocol):
    """One question of a set, asked and judged (what :func:`question_set_metrics` reads)."""

    @property
    def expected_abstain(self) -> bool: ...

    @property
    def abstained(self) -> bool: ...

    @property
    def source_ranks(self) -> Sequence[int | None]:
        """Rank (1-based) among the answer's citations of each listed source; None when not cited."""
        ...

    @property
    def answer_found(self) -> bool | None:
        """Whether an expected answer string is in the answer; None when none is listed."""
        ...

    @property
    def latency_ms(self) -> float: ...

    @property
    def passed(self) -> bool: ...


def question_set_metrics(results: Sequence[GradedQuestion]) -> dict[str, float | None]:
    """hit@1/3/5 and MRR over sourced answerable questions, answer accuracy, abstention recall and
    precision (1.0 when nothing abstained: no abstention was wrong), latency p50/p95, and the counts of
    questions and passes; ``None`` when no question measures one."""
    sourced = [r for r in results if not r.expected_abstain and r.source_ranks]
    with_answers = [r for r in results if not r.expected_abstain and r.answer_found is not None]
    should_abstain = [r for r in results if r.expected_abstain]
    did_abstain = [r for r in results if r.abstained]
    latencies = [r.latency_ms for r in results]
    metrics: dict[str, float | None] = {}
    for depth in HIT_DEPTHS:
        metrics[f"hit@{depth}"] = share(sum(hit_at(r.source_ranks, depth) for r in sourced), len(sourced))
    metrics["mrr"] = share(sum(reciprocal_rank(r.source_ranks) for r in sourced), len(sourced))
    answered = sum(bool(r.answer_found) and not r.abstained for r in with_answers)
    metrics["answer_accuracy"] = share(answered, len(with_answers))
    metrics["abstain_recall"] = share(sum(r.abstained for r in should_abstain), len(should_abstain))
    metrics["abstain_precision"] = (
        share(sum(r.expected_abstain for r in did_abstain), len(did_abstain)) if did_abstain else 1.0
    )
    metrics["latency_p50_ms"] = percentile(latencies, 50)
    metrics["latency_p95_ms"] = percentile(latencies, 95)
    metrics["questions"] = float(len(results))
    metrics["passed"] = float(sum(r.passed for r in results))
    return metrics
