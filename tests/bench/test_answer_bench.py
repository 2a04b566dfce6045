"""The answer benchmark's training sample: ``train --every N`` thins each benchmark's default stride."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pytest

from index.answer_features import FEATURES
from index.answer_model import SITUATION, AnswerModel
from tests.bench.answer_bench import (
    SAMPLE_EVERY,
    Rated,
    _benchmark_weight,
    false_answer_rates,
    main,
    matching_threshold,
    question_rows,
    sample_stride,
)


def test_every_multiplies_each_benchmarks_default_stride() -> None:
    assert sample_stride("squad-long") == SAMPLE_EVERY["squad-long"] == 5
    assert sample_stride("squad-long", 3) == 15
    assert sample_stride("news", 2) == 2 * SAMPLE_EVERY["news"]
    # A benchmark without a default stride is read whole, then thinned.
    assert sample_stride("xquad-en", 4) == 4


def test_every_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="positive whole number"):
        sample_stride("news", 0)


@pytest.mark.parametrize("given", ["0", "-2", "two"])
def test_train_every_takes_a_positive_whole_number(given: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["train", "--every", given])
    assert exited.value.code == 2
    assert f"expected a positive whole number, got '{given}'" in capsys.readouterr().err


def _rated(kind: str, probabilities: list[float], answers: bool = True) -> list[Rated]:
    return [Rated(kind, answers, p) for p in probabilities]


def test_false_answer_rates_count_each_kind_at_the_threshold() -> None:
    rated = (
        _rated("answerable", [0.9, 0.5, 0.1, 0.05])
        + _rated("unanswerable", [0.6, 0.2])
        + _rated("near miss", [0.4, 0.3, 0.01])
        + _rated("near miss", [0.99], answers=False)  # abstains at any threshold (a swapped name, no hits)
    )
    assert false_answer_rates(rated, 0.25) == {"unanswerable": 0.5, "near miss": 0.5, "false_abstain": 0.5}
    assert false_answer_rates(rated, 0.0) == {"unanswerable": 1.0, "near miss": 0.75, "false_abstain": 0.0}
    assert false_answer_rates(_rated("answerable", [0.5]), 0.3)["near miss"] is None


def test_matching_threshold_is_the_lowest_that_no_benchmark_answers_more_falsely_at() -> None:
    rated = {
        "a": _rated("answerable", [0.8, 0.3]) + _rated("near miss", [0.5, 0.2, 0.1, 0.05]),
        "b": _rated("answerable", [0.7]) + _rated("unanswerable", [0.4, 0.1]) + _rated("near miss", [0.15, 0.3]),
    }
    baseline: dict[str, dict[str, float | None]] = {
        "a": {"unanswerable": None, "near miss": 0.5, "false_abstain": 0.5},
        "b": {"unanswerable": 0.5, "near miss": 0.5, "false_abstain": 0.0},
    }
    # a allows 2 of its 4 near misses answered (>= 0.105); b one unanswerable (> 0.1) and one near miss (> 0.15).
    assert matching_threshold(baseline, rated) == 0.155
    rates = {name: false_answer_rates(cases, 0.155) for name, cases in rated.items()}
    for name in rated:
        for kind in ("near miss", "unanswerable"):
            allowed, rate = baseline[name][kind], rates[name][kind]
            assert allowed is None or (rate is not None and rate <= allowed), (name, kind)
    assert false_answer_rates(rated["b"], 0.15)["near miss"] == 1.0  # one step lower answers both of b's near misses
    # A baseline answering none of them: the model must abstain on all, or no threshold of the grid does.
    strict = {n: {"unanswerable": 0.0, "near miss": 0.0, "false_abstain": 1.0} for n in rated}
    assert matching_threshold(strict, rated) == 0.505
    assert matching_threshold({"c": strict["a"]}, {"c": _rated("near miss", [1.0])}) is None


def test_rethreshold_needs_the_model_and_where_to_write(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["rethreshold", "--out", "x.json"])
    assert "--model" in capsys.readouterr().err


def test_the_situation_inputs_of_training_are_the_ones_the_model_computes_when_answering() -> None:
    # train --situation builds the answer layer's inputs for all questions at once; answering builds them
    # one question at a time: the two must agree, or the layer is fitted on numbers the product never sees.
    rng = np.random.default_rng(3)
    sizes = [1, 4, 9]  # candidates per question: a lone sentence, a short passage, a long digest
    group = np.repeat(np.arange(len(sizes)), sizes).astype(np.int32)
    x = rng.normal(size=(len(group), len(FEATURES))).astype(np.float32)
    x[:, FEATURES.index("hit_rank")] = rng.integers(0, 3, size=len(group))  # candidates from up to 3 passages
    p = rng.uniform(0.01, 0.99, size=len(group))
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    table = {"x": x, "y": np.zeros(len(group), dtype=bool), "group": group}
    q = question_rows(p, (x - mean) / scale, table, situation=True)
    assert q["x"].shape == (len(sizes), 2 + len(FEATURES) + len(SITUATION))
    _assert_answering_agrees(rng, q, mean, scale, p, x, group, situation=SITUATION)


def _assert_answering_agrees(
    rng: np.random.Generator,
    q: dict[str, np.ndarray],
    mean: np.ndarray,
    scale: np.ndarray,
    p: np.ndarray,
    x: np.ndarray,
    group: np.ndarray,
    article: np.ndarray | None = None,
    **layer_reads: Any,
) -> None:
    """A model answering one question at a time (its answer layer random, reading what ``layer_reads`` say)
    gives each question the probability its layer gives ``q``'s row of it, built for all questions at once."""
    weights = np.asarray(rng.normal(size=q["x"].shape[1]), dtype=np.float32)
    model = AnswerModel(
        features=FEATURES, mean=mean, scale=scale, layers=((np.zeros((len(FEATURES), 1), np.float32),
        np.zeros(1, np.float32)),), platt=(1.0, 0.0), threshold=0.5, name="t", sha256="", info={},
        answer_layer=(weights, 0.1), **layer_reads,
    )  # fmt: skip
    for n in range(len(q["x"])):
        rows = group == n
        expected = 1 / (1 + np.exp(-(q["x"][n] @ weights + 0.1)))
        articles = None if article is None else list(article[rows])
        assert model.answer_probability(p[rows], x[rows], articles) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("rival", ["next", "other-article"])
def test_the_rival_of_training_is_the_one_the_model_weighs_when_answering(rival: str) -> None:
    # relayer fits the answer layer on every question's rival at once; answering finds it one question at a
    # time: the second-best sentence, or the best sentence of another article than the best one's.
    rng = np.random.default_rng(5)
    sizes = [1, 3, 6, 8]
    group = np.repeat(np.arange(len(sizes)), sizes).astype(np.int32)
    article = np.array(["a", "a", "a", "b", "a", "a", "b", "b", "c", "a", "a", "a", "a", "a", "a", "a", "a", "d"])
    x = rng.normal(size=(len(group), len(FEATURES))).astype(np.float32)
    p = rng.uniform(0.01, 0.99, size=len(group))
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    table = {"x": x, "y": np.zeros(len(group), dtype=bool), "group": group, "article": article}
    q = question_rows(p, (x - mean) / scale, table, rival=rival)
    _assert_answering_agrees(rng, q, mean, scale, p, x, group, article, rival=rival)
    if rival == "other-article":  # the first question has no other article: its rival weighs nothing
        assert q["x"][0, 1] == pytest.approx(np.log(1e-6 / (1 - 1e-6)))


def test_the_rival_is_another_articles_best_sentence_not_the_best_ones_neighbour() -> None:
    # question 0: its two best sentences are one article's (a, a), another article's (b) comes third;
    # question 1: every sentence is one article's (no rival); question 2: the second best is another article's.
    group = np.array([0, 0, 0, 1, 1, 2, 2], dtype=np.int32)
    article = np.array(["a", "a", "b", "c", "c", "d", "e"])
    p = np.array([0.9, 0.8, 0.3, 0.7, 0.6, 0.5, 0.4])
    x = np.zeros((len(group), len(FEATURES)), dtype=np.float32)
    table = {"x": x, "y": np.zeros(len(group), dtype=bool), "group": group, "article": article}

    def rivals(rival: str) -> list[float]:
        logits = question_rows(p, x, table, rival=rival)["x"][:, 1]
        return [round(float(1 / (1 + np.exp(-v))), 4) for v in logits]

    assert rivals("next") == [0.8, 0.6, 0.4]
    assert rivals("other-article") == [0.3, 0.0, 0.4]
    with pytest.raises(ValueError, match="each row's article"):
        question_rows(p, x, {**table, "article": np.full(len(group), "")}, rival="other-article")


@pytest.mark.parametrize("given", ["news=6", "squad-long=0.5"])
def test_a_benchmark_weight_is_a_benchmark_and_a_positive_number(given: str) -> None:
    name, weight = _benchmark_weight(given)
    assert f"{name}={weight:g}" == given


@pytest.mark.parametrize("given", ["news", "news=0", "news=-1", "news=six", "cnn=2"])
def test_a_benchmark_weight_that_is_not_is_refused(given: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="BENCHMARK=W"):
        _benchmark_weight(given)
