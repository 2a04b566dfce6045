"""The learned answer model: which sentence answers, and how likely the answer is to be right.

A small network (standardised :data:`index.answer_features.FEATURES` -> hidden layer -> one logit) gives
each candidate sentence the probability that it holds the answer; the best sentence is the one it rates
highest. That probability is then calibrated into the probability that the *answer* is right (Platt
scaling fitted on the validation split: answers on unanswerable questions and near misses count as
wrong), and Newsdesk abstains below :attr:`AnswerModel.threshold`, chosen on validation for a stated
precision (docs/QUALITY.md).

Trained by ``make train`` (``python -m tests.bench.train``) on the train split of the development
benchmark; the weights are a small JSON file shipped in the package (``index/models/``), evaluated
with numpy: answering needs no scikit-learn and no pickle. The file carries the feature list it was
trained on and a SHA-256 of its weights, checked on load.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.answer_features import FEATURES
from index.errors import NewsdeskError

MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL_FILE = MODELS_DIR / "answer_model.json"
FORMAT = 1


class AnswerModelError(NewsdeskError):
    """The answer model file is missing, damaged or made for other features."""


@dataclass(frozen=True)
class AnswerModel:
    """Weights of the sentence scorer and of the answer calibration."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]  # (weights, bias) per layer; ReLU between, sigmoid last
    platt: tuple[float, float]  # answer probability = sigmoid(a * logit(best sentence probability) + b)
    threshold: float  # abstain below this answer probability
    name: str
    sha256: str
    info: dict[str, Any]
    # Question-level calibration: weights over [logit p1, logit p2, best sentence's features, the
    # situation's inputs (``situation``, in that order)] and a bias.
    answer_layer: tuple[np.ndarray, float] | None = None
    # Names of the retrieval-situation inputs the answer layer also reads (a subset of SITUATION, in its
    # order); empty for models trained without them.
    situation: tuple[str, ...] = ()
    # Whether a best sentence that gives an asked name's place to another name abstains whatever its
    # probability (index.answering.swaps_a_name). Models since 2026-12-01 leave it to the probability
    # (the sentence model reads ``swapped_names``): on validation the rule withdrew 71 answers to answerable
    # questions for 114 false ones, and a higher threshold alone trades better on every benchmark
    # (docs/QUALITY.md). Files without the key keep the rule they were chosen with.
    abstains_on_swapped_name: bool = True
    # The runner-up the answer layer weighs the best sentence against: "next", the second-best sentence
    # (often the best one's neighbour, saying the same), or "other-article", the best sentence of another
    # article (a rival story: how a near miss looks). Files without the key read "next".
    rival: str = "next"

    @cached_property
    def columns(self) -> np.ndarray:
        """Where this model's features sit in a row of :data:`FEATURES` (a model may use fewer); found
        once per model, not twice per question."""
        return np.array([FEATURES.index(name) for name in self.features], dtype=np.intp)

    def sentence_probabilities(self, features: np.ndarray) -> np.ndarray:
        """P(sentence holds the answer) for each row of ``features`` (columns of :data:`FEATURES`)."""
        x = (np.asarray(features, dtype=np.float32)[:, self.columns] - self.mean) / self.scale
        for n, (weights, bias) in enumerate(self.layers):
            x = x @ weights + bias
            if n < len(self.layers) - 1:
                x = np.maximum(x, 0.0)
        return _sigmoid(x.reshape(-1))

    def rate(self, features: np.ndarray, articles: Sequence[str] | None = None) -> tuple[np.ndarray, float]:
        """Each candidate's :meth:`sentence_probabilities` and the calibrated :meth:`answer_probability`
        built on them: the model's whole verdict on a question, in one call."""
        probabilities = self.sentence_probabilities(features)
        return probabilities, self.answer_probability(probabilities, features, articles)

    def answer_probability(
        self, probabilities: np.ndarray, features: np.ndarray, articles: Sequence[str] | None = None
    ) -> float:
        """Calibrated P(the answer built on the best sentence is right), from every candidate's
        probability (``probabilities``), feature row (``features``) and article id (``articles``, which
        a model whose ``rival`` is "other-article" needs), best not necessarily first.

        With a question-level layer (``answer_layer``): a logistic model over the logits of the best
        sentence and its rival (``rival``) and the best one's standardised features (how sure it is, and
        how clearly it beats the runner-up); else Platt scaling of the best sentence's probability."""
        order = np.argsort(-probabilities)
        p1 = float(probabilities[order[0]])
        if self.answer_layer is None:
            a, b = self.platt
            return float(_sigmoid(np.array([a * logit(p1) + b]))[0])
        p2 = _rival_probability(probabilities, order, self.rival, articles)
        weights, bias = self.answer_layer
        row = (np.asarray(features[order[0]], dtype=np.float32)[self.columns] - self.mean) / self.scale
        parts = [np.array([logit(p1), logit(p2)]), row]
        if self.situation:
            inputs = situation_inputs(
                logit(p1), len(probabilities), _passages(features), float(probabilities.sum()) - p1
            )
            parts.append(np.array([inputs[SITUATION.index(name)] for name in self.situation]))
        x = np.concatenate(parts).astype(np.float32)
        return float(_sigmoid(np.array([x @ weights + bias]))[0])

    def to_json(self) -> dict[str, Any]:
        return (
            {
                "format": FORMAT,
                "name": self.name,
                "features": list(self.features),
                "mean": self.mean.tolist(),
                "scale": self.scale.tolist(),
                "layers": [{"weights": w.tolist(), "bias": b.tolist()} for w, b in self.layers],
                "platt": list(self.platt),
                "threshold": self.threshold,
                "answer_layer": None
                if self.answer_layer is None
                else {"weights": self.answer_layer[0].tolist(), "bias": self.answer_layer[1]},
                "info": self.info,
            }
            | ({"situation": list(self.situation)} if self.situation else {})
            | ({} if self.abstains_on_swapped_name else {"abstains_on_swapped_name": False})
            | ({} if self.rival == "next" else {"rival": self.rival})
        )  # older files keep their checksum

    def save(self, path: Path) -> str:
        """Write the model with the SHA-256 of its content; returns the digest."""
        body = self.to_json()
        digest = _digest(body)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body | {"sha256": digest}, indent=1) + "\n", encoding="utf-8")
        return digest

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL_FILE) -> AnswerModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AnswerModelError(f"answer model {path} is missing: reinstall Newsdesk or run 'make train'") from None
        except (OSError, ValueError) as err:
            raise AnswerModelError(f"answer model {path} cannot be read ({err}): run 'make train'") from None
        stated = data.pop("sha256", None)
        if stated != _digest(data):
            raise AnswerModelError(f"answer model {path} does not match its checksum: run 'make train'")
        # A model may use fewer features than the code computes (an older model beside a newer one in the
        # benchmarks), never one the code does not compute.
        situation = tuple(data.get("situation", ()))
        if (
            data.get("format") != FORMAT
            or not set(data["features"]) <= set(FEATURES)
            or not set(situation) <= set(SITUATION)
            or (situation and not data.get("answer_layer"))
            or data.get("rival", "next") not in RIVALS
            or (data.get("rival", "next") != "next" and not data.get("answer_layer"))  # only a layer reads it
        ):
            raise AnswerModelError(f"answer model {path} was trained for other features: run 'make train'")
        layers = tuple(
            (np.asarray(layer["weights"], dtype=np.float32), np.asarray(layer["bias"], dtype=np.float32))
            for layer in data["layers"]
        )
        return cls(
            features=tuple(data["features"]),
            mean=np.asarray(data["mean"], dtype=np.float32),
            scale=np.asarray(data["scale"], dtype=np.float32),
            layers=layers,
            platt=(float(data["platt"][0]), float(data["platt"][1])),
            threshold=float(data["threshold"]),
            answer_layer=None
            if not data.get("answer_layer")
            else (np.asarray(data["answer_layer"]["weights"], dtype=np.float32), float(data["answer_layer"]["bias"])),
            situation=situation,
            abstains_on_swapped_name=_swap_rule(data.get("abstains_on_swapped_name", True), path),
            rival=str(data.get("rival", "next")),
            name=str(data["name"]),
            sha256=stated,
            info=dict(data.get("info", {})),
        )


RIVALS = ("next", "other-article")


def _rival_probability(
    probabilities: np.ndarray, order: np.ndarray, rival: str, articles: Sequence[str] | None
) -> float:
    """The probability of the best sentence's rival (``AnswerModel.rival``); 0 without one."""
    if rival == "next":
        return float(probabilities[order[1]]) if len(order) > 1 else 0.0
    if articles is None or len(articles) != len(probabilities):
        raise ValueError("this answer model weighs the best sentence against another article's: pass each "
                         "candidate's article")  # fmt: skip
    best = articles[order[0]]
    return next((float(probabilities[i]) for i in order[1:] if articles[i] != best), 0.0)


def _swap_rule(value: object, path: Path) -> bool:
    # A JSON boolean only: bool("false") would keep the rule on without a word.
    if not isinstance(value, bool):
        raise AnswerModelError(
            f"answer model {path}: 'abstains_on_swapped_name' must be true or false: run 'make train'"
        )
    return value


# The retrieval situation of a question, for the answer layer: the same best-sentence score means more
# when it stands out among few candidates of a short passage than among the many of long digests (the
# development benchmark's short and long variants disagreed on one threshold, docs/QUALITY.md). All of
# them exist for any question the product answers; none names a corpus.
SITUATION = (
    "log_candidates",  # log of the number of candidate sentences
    "log_sentences_per_passage",  # log of candidates per retrieved passage that gave any: passage length
    "others_mass",  # log(1 + the other candidates' summed probability): how many rivals look plausible
    "logit_x_log_candidates",  # the best sentence's logit times each of the above: the score's meaning
    "logit_x_log_sentences_per_passage",  # may change with the situation, not only its offset
    "logit_x_others_mass",
)


def situation_inputs(logit1: float, candidates: int, passages: int, others: float) -> np.ndarray:
    """The :data:`SITUATION` inputs of one question, in that order."""
    base = np.array(
        [math.log(max(1, candidates)), math.log(max(1, candidates) / max(1, passages)), math.log1p(max(0.0, others))]
    )
    return np.concatenate([base, logit1 * base])


def _passages(features: np.ndarray) -> int:
    """How many retrieved passages gave candidates (distinct ``hit_rank`` of rows of :data:`FEATURES`)."""
    return len(np.unique(np.asarray(features)[:, FEATURES.index("hit_rank")]))


@lru_cache(maxsize=4)
def load_answer_model(path: Path = DEFAULT_MODEL_FILE) -> AnswerModel:
    """The model at ``path``, read once per process."""
    return AnswerModel.load(path)


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def logit(p: float) -> float:
    """The log-odds of probability ``p``, clamped away from 0 and 1."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))
