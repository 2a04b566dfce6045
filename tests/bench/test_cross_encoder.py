"""The cross-encoder probe's data pairing and verdict glue (tests/bench/cross_encoder.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.bench.cross_encoder import (
    CaseRecord,
    Pair,
    length_batches,
    load_records,
    one_threshold,
    question_inputs,
    rate_at,
    sample_pairs,
    save_records,
    training_pairs,
)


def _record(kind: str, labels: list[bool], extractive: bool = True, question: str = "Who?") -> CaseRecord:
    texts = [f"sentence {n}" for n in range(len(labels))]
    probabilities = [round(0.9 - 0.1 * n, 2) for n in range(len(labels))]
    return CaseRecord("news", "train", kind, extractive, question, 0.5, True, False, texts, labels, probabilities)


def test_an_answerable_case_gives_its_answers_and_its_best_rated_wrong_sentences() -> None:
    record = _record("answerable", [False, True, False, False, True, True, False])
    pairs = training_pairs([record], negatives=2, positives=2)
    # Positives in the answer model's order, at most two; then the two best-rated sentences that do not answer.
    assert pairs == [
        Pair("Who?", "sentence 1", True),
        Pair("Who?", "sentence 4", True),
        Pair("Who?", "sentence 0", False),
        Pair("Who?", "sentence 2", False),
    ]


def test_unanswerable_cases_and_near_misses_give_hard_negatives_only() -> None:
    pairs = training_pairs([_record("unanswerable", [False] * 5), _record("near miss", [False] * 2)], negatives=3)
    assert [(p.sentence, p.label) for p in pairs] == [
        ("sentence 0", False), ("sentence 1", False), ("sentence 2", False),
        ("sentence 0", False), ("sentence 1", False),
    ]  # fmt: skip


def test_an_answer_not_written_in_the_article_gives_no_pairs() -> None:
    # "Which of these is not ...?": no sentence can be labelled, so none is taught as a negative either.
    assert training_pairs([_record("answerable", [False, False], extractive=False)]) == []
    # An answerable case whose answer the answer model's best candidates miss still teaches its negatives.
    assert [p.label for p in training_pairs([_record("answerable", [False, False])])] == [False, False]


def test_records_survive_the_cache_and_a_stopped_write_leaves_none(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl.gz"
    records = [_record("answerable", [True, False]), _record("near miss", [])]
    assert save_records(iter(records), path) == 2
    assert load_records(path) == records

    def stopped():
        yield records[0]
        raise KeyboardInterrupt

    other = tmp_path / "other.jsonl.gz"
    with pytest.raises(KeyboardInterrupt):
        save_records(stopped(), other)
    assert not other.exists()


def test_length_batches_hold_every_pair_once_in_batches_of_similar_length() -> None:
    pairs = [Pair("q" * (n % 7 + 1), "s" * (3 * n % 50), n % 3 == 0) for n in range(230)]
    batches = length_batches(pairs, size=16, seed=1)
    flat = [p for b in batches for p in b]
    assert sorted(flat, key=repr) == sorted(pairs, key=repr)
    assert all(len(b) <= 16 for b in batches)
    # Sorted by length inside each batch's window: a batch spans far less than the whole range of lengths.
    spans = [max(len(p.question) + len(p.sentence) for p in b) - min(len(p.question) + len(p.sentence) for p in b)
             for b in batches]  # fmt: skip
    assert np.median(spans) < 10


def test_question_inputs_take_the_best_of_the_head_and_the_answer_models_pick() -> None:
    record = _record("answerable", [False, True, False])
    x = question_inputs(record, np.array([-1.0, 2.0, 5.0]), top=2)
    assert x[0] == pytest.approx(0.0)  # logit of the answer probability 0.5
    assert list(x[1:]) == [2.0, -1.0]  # the third candidate is beyond the head the cross-encoder reads
    empty = CaseRecord("news", "validation", "near miss", True, "Who?", 0.0, False, False)
    assert list(question_inputs(empty, np.zeros(0), top=5)[1:]) == [-10.0, -10.0]


def test_rate_at_matches_the_answer_models_false_abstentions() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    answerable = np.array([True] * 5 + [False] * 5)
    never = np.zeros(10, dtype=bool)
    # 1 of 5 answerable may abstain: the threshold lets the four best answer and stops above 0.5.
    t = rate_at(scores, answerable, never, 0.2)
    assert t == pytest.approx(0.6)
    # A case that abstains whatever its score (a swapped name) uses up that allowance.
    forced = never.copy()
    forced[0] = True
    assert rate_at(scores, answerable, forced, 0.2) == pytest.approx(0.5)


def test_a_second_round_reads_exactly_the_pairs_the_first_sample_left_out() -> None:
    pairs = [Pair(f"q{n}", "s", n % 4 == 0) for n in range(100)]
    first = sample_pairs(pairs, 30, seed=12)
    rest = sample_pairs(pairs, 30, seed=12, rest=True)
    assert len(first) == 30 and len(rest) == 70
    assert sorted(first + rest, key=lambda p: int(p.question[1:])) == pairs
    assert sample_pairs(pairs, 30, seed=12) == first  # the same seed, the same sample: the rest stays the rest
    # No limit, or fewer pairs than it: all of them, and nothing left for a second round.
    assert sample_pairs(pairs, 0, seed=12) == pairs and sample_pairs(pairs, 500, seed=12, rest=True) == []


def test_one_threshold_for_every_benchmark_keeps_each_benchmarks_false_answers_at_the_shipped_models() -> None:
    def case(kind: str, answered: bool, swapped: bool = False) -> CaseRecord:
        record = _record(kind, [kind == "answerable", False])
        record.answered, record.swapped = answered, swapped
        return record

    # Shipped: answers both answerable questions and one near miss of three (a swapped name abstains).
    a = [case("answerable", True), case("answerable", True), case("near miss", True), case("near miss", False),
         case("near miss", False, swapped=True)]  # fmt: skip
    # Another benchmark whose only near miss the shipped model answers: it allows any threshold.
    b = [case("answerable", True), case("near miss", True)]
    tables = {"a": (a, [np.zeros(2)] * len(a)), "b": (b, [np.zeros(2)] * len(b))}
    probabilities = [0.9, 0.3, 0.6, 0.2, 0.99, 0.1, 0.95]
    result = one_threshold(tables, probabilities)
    # The lowest grid threshold at which "a" answers one near miss in three: above 0.2, at most 0.6; the
    # swapped one abstains whatever its probability.
    assert result["threshold"] == pytest.approx(0.205)
    assert result["shipped"]["a"]["near miss"] == pytest.approx(0.3333)
    assert result["at_threshold"]["a"] == {"unanswerable": None, "near miss": 0.3333, "false_abstain": 0.0}
    assert result["at_threshold"]["b"] == {"unanswerable": None, "near miss": 1.0, "false_abstain": 1.0}
