"""Answer matching and rank metrics (index.metrics)."""

from __future__ import annotations

import pytest

from index.metrics import answer_matches, hit_at, metric_changes, percentile, reciprocal_rank


@pytest.mark.parametrize(
    "text,expected",
    [
        ("A force of 13500 troops", "13,500"),
        ("A force of 13,500 troops.", "13500"),
        ("It began on January 1, 2015.", "January 1, 2015"),
        ("It began on January 1 2015", "january 1, 2015"),
        ("Stoltenberg's remarks", "Stoltenberg"),
        ("President Ashraf Ghani said", "Ashraf Ghani"),
        ("about 2.5 million", "2.50 million"),
        ("Zürich talks", "ZÜRICH"),
    ],
)
def test_whole_words_and_numbers_by_value_match(text: str, expected: str) -> None:
    assert answer_matches(text, expected)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("deployed to Afghanistan", "Ghani"),
        ("a force of 8500", "850"),
        ("in 1850", "850"),
        ("13,500.", "13,5"),
        ("Ghani Ashraf", "Ashraf Ghani"),
        ("anything", "  "),
    ],
)
def test_parts_of_words_and_other_numbers_do_not(text: str, expected: str) -> None:
    assert not answer_matches(text, expected)


def test_rank_metrics_and_percentiles() -> None:
    assert hit_at([2, 3], 3) and not hit_at([2, 3], 2) and not hit_at([1, None], 5) and not hit_at([], 5)
    assert reciprocal_rank([None, 4, 2]) == 0.5 and reciprocal_rank([None]) == 0.0
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0 and percentile([], 95) is None
    changes = metric_changes({"hit@3": 0.9, "old": 1.0}, {"hit@3": 0.95, "new": 0.5})
    assert [(c.name, c.before, c.now, c.delta) for c in changes] == [
        ("hit@3", 0.9, 0.95, 0.05), ("new", None, 0.5, None), ("old", 1.0, None, None),
    ]  # fmt: skip
