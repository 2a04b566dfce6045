"""Train the answer model (``make train``); measure answers on the development benchmark (``make bench-quality``).

    python -m tests.bench.answer_bench train      # train/validation splits -> index/models/answer_model.json
    python -m tests.bench.answer_bench evaluate   # test splits: the rules of 093e210 beside the model
    python -m tests.bench.answer_bench rethreshold --model M --out M2   # M's threshold at the shipped model's
                                                                        # false answers, on validation

Both go through the product's own path: each benchmark corpus is indexed like a user's corpus, questions
are embedded by the product's query encoder, retrieved with the product's settings (hybrid, k=5) and
answered by :func:`index.answering.compose_answer`. See :mod:`tests.bench.devsets` for the data and
docs/QUALITY.md for the results.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.answer_features import FEATURES, candidate_features
from index.answer_model import DEFAULT_MODEL_FILE, RIVALS, SITUATION, AnswerModel, situation_inputs
from index.answering import compose_answer, weigh_evidence
from index.embedding import make_embedder, make_query_embedder
from index.newsdesk import Newsdesk, question_now
from index.query_analysis import analyse_question
from index.search import SearchFilters, SearchOptions, retrieve
from index.settings import (
    CHUNK_VECTORS,
    DEFAULT_MODEL,
    DOCUMENT_BACKENDS,
    SENTENCE_VECTORS,
    Settings,
    load_settings,
)
from index.word_vectors import WordVectors
from tests.bench.bench_index import IndexVariant, open_exact
from tests.bench.datasets import REPO_ROOT
from tests.bench.devsets import LOADERS, DevQuestion, DevSet, contains_answer

CACHE = REPO_ROOT / ".newsdesk" / "bench"
REPORT = REPO_ROOT / "reports" / "answers.json"
# A trained model is a candidate until it is measured (evaluate --model) and copied to index/models/.
CANDIDATE = REPO_ROOT / "reports" / "answer_model.candidate.json"
FIGURE = REPO_ROOT / "docs" / "figures" / "answer-reliability.png"
K = 5
# Training reads every n-th case of a benchmark: SQuAD's 21,587 train/validation cases would take about an
# hour on 2 shared cores; a third of them (both splits, answerable, unanswerable and near misses alike) is
# still more than RealTime QA's (of which every second case is read). squad-long's cases have about twice
# the candidate sentences (five passages of long documents): a fifth of its 19,015 cases is read.
SAMPLE_EVERY = {"squad": 3, "news": 2, "squad-long": 5, "news-long": 2}
# The benchmarks, short passages and long documents (tests/bench/devsets.py). The model is trained on the
# long variants, which look like the archives Newsdesk answers from; all four are reported.
BENCHMARKS = ("squad", "news", "squad-long", "news-long")
TRAIN_ON = ("squad-long", "news-long")
# The benchmark indexes are embedded by the fastest document encoder installed ("auto": OpenVINO over the
# model's ONNX export, cosine >= 0.999 to the fp32 vectors, docs/PERFORMANCE.md) unless --document-backend
# says otherwise: about 4 times faster than PyTorch on this shared machine, where the SQuAD corpus (1.6 M
# characters) took 26 minutes with PyTorch in an earlier run. Every method reads the same indexes.
DOCUMENT_BACKEND = "auto"
# Words embedded for the paraphrase credit are kept for the whole run (the product keeps 20,000).
BENCH_WORDS = 500_000


@dataclass(frozen=True)
class Case:
    """One question as asked: as written, or as a near miss (its own article left out)."""

    question: DevQuestion
    near_miss: bool = False

    @property
    def answerable(self) -> bool:
        return self.question.answerable and not self.near_miss

    @property
    def kind(self) -> str:
        if self.near_miss:
            return "near miss"
        return "answerable" if self.question.answerable else "unanswerable"

    def filters(self) -> SearchFilters:
        asked = _date(self.question.asked_on)
        return SearchFilters(until=asked, exclude=self.question.gold if self.near_miss else frozenset())


def _date(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text) if text else None


def cases_of(questions: list[DevQuestion]) -> list[Case]:
    out = [Case(q) for q in questions]
    out += [Case(q, near_miss=True) for q in questions if q.answerable and q.near_miss]
    return out


def add_index_arguments(parser: argparse.ArgumentParser, several: bool, backend: str = DOCUMENT_BACKEND) -> None:
    """How the benchmark indexes are embedded (the product's settings of the same names)."""
    parser.add_argument("--document-backend", default=backend, choices=DOCUMENT_BACKENDS,
                        help=f"what embeds the benchmark articles (default {backend})")  # fmt: skip
    parser.add_argument(
        "--sentence-vectors", nargs="+" if several else None, choices=SENTENCE_VECTORS,
        help="how sentence vectors are made (default: the settings' default"
             + ("; several: each method on each kind, same encoder, same questions)" if several else ")"),
    )  # fmt: skip
    parser.add_argument(
        "--chunk-vectors", nargs="+" if several else None, choices=CHUNK_VECTORS,
        help="how chunk vectors are made (default: the settings' default; several: as --sentence-vectors, each "
             "with each sentence kind that allows it)" if several else "how chunk vectors are made",
    )  # fmt: skip


def index_variants(args: argparse.Namespace) -> list[IndexVariant]:
    """The benchmark indexes ``args`` ask for, all embedded by one document encoder."""
    documents = make_embedder(DEFAULT_MODEL, args.document_backend)

    def listed(asked: str | list[str] | None, default: str) -> list[str]:
        asked = asked or default
        return [asked] if isinstance(asked, str) else list(dict.fromkeys(asked))

    sentences = listed(args.sentence_vectors, Settings().sentence_vectors)
    chunks = listed(getattr(args, "chunk_vectors", None), Settings().chunk_vectors)
    # "from-sentences" chunk vectors pool the encoded sentences: no index pairs them with pooled ones.
    pairs = [(s, c) for s in sentences for c in chunks if c == "encoded" or s == "encoded"]
    return [IndexVariant(args.document_backend, documents, s, c) for s, c in pairs]


def desk_for(devset: DevSet, index: IndexVariant) -> Newsdesk:
    """The benchmark's desk over its own index, made as ``index`` says (one cached folder per encoder and
    kind of sentence vectors, so variants never share an index)."""
    folder = CACHE / f"dev-{devset.name}-{index.tag}"
    corpus = devset.write_corpus(folder / "corpus")
    settings = load_settings(
        {"corpus_dir": corpus, "index_dir": folder / "index", "show_progress": False, "answerer": "rules",
         "document_backend": index.document_backend, "sentence_vectors": index.sentence_vectors,
         "chunk_vectors": index.chunk_vectors}, env={}
    )  # fmt: skip
    started = time.perf_counter()
    stored, report = open_exact(settings, index.documents, devset.name)
    if report.wrote:
        print(f"[{devset.name}] indexed in {time.perf_counter() - started:.0f} s: {report.summary()}", file=sys.stderr)
    queries = make_query_embedder(settings.model, settings.query_backend, documents=index.documents)
    desk = Newsdesk(settings, queries, stored, report)
    desk.words = WordVectors(queries.encode, capacity=BENCH_WORDS)
    return desk


def question_vectors(desk: Newsdesk, cases: list[Case]) -> dict[str, np.ndarray]:
    texts = list(dict.fromkeys(c.question.question for c in cases))
    vectors = desk.embedder.encode(texts)
    return dict(zip(texts, vectors, strict=True))


def retrieve_case(desk: Newsdesk, case: Case, vector: np.ndarray):
    stored = desk.stored
    filters, asked = case.filters(), _date(case.question.asked_on)
    analysis = analyse_question(
        case.question.question, stored.lexical_index(), asked, question_now(stored, asked, filters)
    )
    hits = retrieve(stored, case.question.question, vector, K, filters, SearchOptions(), analysis.terms)
    return analysis, hits


# ---------------------------------------------------------------- features for training


def extract(devset: DevSet, desk: Newsdesk, splits: tuple[str, ...], every: int = 1) -> dict[str, np.ndarray]:
    """Feature rows of every candidate sentence of every ``every``-th case of ``splits``, with labels and groups."""
    cases = cases_of([q for q in devset.questions if q.split in splits])[::every]
    vectors = question_vectors(desk, cases)
    rows: list[np.ndarray] = []
    labels: list[int] = []
    groups: list[int] = []
    articles: list[str] = []  # each row's article (the answer layer's rival may be another article's best)
    case_answerable: list[bool] = []
    case_split: list[str] = []
    started = time.perf_counter()
    for n, case in enumerate(cases):
        if case.answerable and not case.question.extractive:
            continue  # answered in other words ("Which of these is not ...?"): no sentence can be labelled
        analysis, hits = retrieve_case(desk, case, vectors[case.question.question])
        if not hits:
            continue
        evidence = weigh_evidence(analysis, hits, desk.stored, vectors[case.question.question], desk.words)
        if not evidence.ranked:
            continue
        features = candidate_features(analysis, evidence, desk.stored)
        for s, row in zip(evidence.ranked, features, strict=True):
            c = s.candidate
            text = c.text
            if c.leans:
                text = f"{c.previous_text} {text}"
            good = (
                case.answerable and c.article_id in case.question.gold and contains_answer(text, case.question.answers)
            )
            rows.append(row)
            labels.append(good)
            groups.append(len(case_answerable))
            articles.append(c.article_id)
        case_answerable.append(case.answerable)
        case_split.append(case.question.split)
        if n and n % 250 == 0:
            print(f"[{devset.name}] {n}/{len(cases)} cases, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return {
        "x": np.asarray(rows, dtype=np.float32),
        "y": np.asarray(labels, dtype=bool),
        "group": np.asarray(groups, dtype=np.int32),
        "answerable": np.asarray(case_answerable, dtype=bool),
        "split": np.asarray(case_split),
        "article": np.asarray(articles, dtype=str),
    }


def sample_stride(benchmark: str, every: int = 1) -> int:
    """Training reads every ``sample_stride``-th case of ``benchmark``: its default stride (SAMPLE_EVERY) times
    ``every``, so a thinner sample (train --every) keeps the benchmarks' proportions."""
    if every < 1:
        raise ValueError(f"every must be a positive whole number, not {every}")
    return SAMPLE_EVERY.get(benchmark, 1) * every


def cached_features(devset: DevSet, desk: Newsdesk, fresh: bool, thin: int = 1) -> dict[str, np.ndarray]:
    every = sample_stride(devset.name, thin)
    # The index generation is part of the key: a loader or chunking change re-embeds, and so re-extracts.
    generation = desk.stored.path.name
    key = hashlib.sha1(
        json.dumps([FEATURES, len(devset.questions), K, every, generation, "article"]).encode()
    ).hexdigest()[:10]
    path = CACHE / f"features-{devset.name}-{key}.npz"
    if path.is_file() and not fresh:
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    table = extract(devset, desk, ("train", "validation"), every)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, allow_pickle=False, **table)
    return table


# ---------------------------------------------------------------- training


def group_best(scores: np.ndarray, groups: np.ndarray, count: int) -> np.ndarray:
    """Per group, the index of its highest-scoring row (-1 for groups without rows)."""
    best = np.full(count, -1, dtype=np.int64)
    top = np.full(count, -np.inf)
    for i, (g, s) in enumerate(zip(groups, scores, strict=True)):
        if s > top[g]:
            top[g], best[g] = s, i
    return best


def selection_metrics(p: np.ndarray, table: dict[str, np.ndarray], mask_groups: np.ndarray) -> dict[str, float]:
    """On the groups of ``mask_groups``: how often the top sentence holds the answer (answerable ones),
    and how well the top probability separates answerable from not (ROC AUC)."""
    count = len(table["answerable"])
    best = group_best(p, table["group"], count)
    chosen = np.where(best >= 0, table["y"][np.maximum(best, 0)], False)
    top = np.where(best >= 0, p[np.maximum(best, 0)], 0.0)
    answerable = table["answerable"] & mask_groups
    negatives = ~table["answerable"] & mask_groups
    return {
        "top_sentence_right": float(chosen[answerable].mean()),
        "auc": roc_auc(top[answerable].tolist(), top[negatives].tolist()),
    }


def roc_auc(positives: list[float], negatives: list[float]) -> float:
    if not positives or not negatives:
        return float("nan")
    scores = np.asarray(positives + negatives)
    ranks = scores.argsort().argsort() + 1.0
    pos = ranks[: len(positives)].sum()
    return float((pos - len(positives) * (len(positives) + 1) / 2) / (len(positives) * len(negatives)))


def train(args: argparse.Namespace) -> int:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    (index,) = index_variants(args)
    merged = training_table(args.on, index, args.fresh, args.every)
    x, y, rows_split = merged["x"], merged["y"], merged["row_split"]
    train_rows = rows_split == "train"
    mean = x[train_rows].mean(axis=0)
    scale = x[train_rows].std(axis=0) + 1e-6
    xs = (x - mean) / scale
    weights = merged["row_weight"]
    val_groups = merged["split"] == "validation"
    candidates: list[tuple[str, Any]] = []
    for c in (0.1, 1.0):
        candidates.append((f"logistic C={c}", LogisticRegression(C=c, max_iter=2000)))
    for hidden in (16, 32):
        for alpha in (1e-3, 1e-2):
            candidates.append(
                (f"mlp {hidden} alpha={alpha}",
                 MLPClassifier(hidden_layer_sizes=(hidden,), alpha=alpha, max_iter=300, early_stopping=True,
                               random_state=7))
            )  # fmt: skip
    results = []
    for name, estimator in candidates:
        started = time.perf_counter()
        if isinstance(estimator, MLPClassifier):
            estimator.fit(xs[train_rows], y[train_rows])  # MLPClassifier takes no sample weights
        else:
            estimator.fit(xs[train_rows], y[train_rows], sample_weight=weights[train_rows])
        p = estimator.predict_proba(xs)[:, 1]
        metrics = selection_metrics(p, merged, val_groups)
        metrics["seconds"] = time.perf_counter() - started
        results.append((metrics["top_sentence_right"] + metrics["auc"], name, estimator, p, metrics))
        print(f"{name:28s} validation: top sentence right {metrics['top_sentence_right']:.3f}, "
              f"AUC {metrics['auc']:.3f} ({metrics['seconds']:.0f} s)", file=sys.stderr)  # fmt: skip
    _, name, estimator, p, metrics = max(results, key=lambda r: r[0])
    layers = _layers(estimator)
    platt, answer_layer, threshold, calibration = calibrate(p, xs, merged, args.max_false_abstain, args.situation)
    print(f"calibration: {calibration['calibration']} (validation AUC {calibration['validation_auc']})",
          file=sys.stderr)  # fmt: skip
    model = AnswerModel(
        features=FEATURES, mean=mean, scale=scale, layers=layers, platt=platt, threshold=threshold, name=name,
        sha256="", answer_layer=answer_layer, situation=SITUATION if args.situation and answer_layer else (),
        abstains_on_swapped_name=False,
        info={
            "trained_on": f"train split of tests/bench/devsets.py {list(args.on)} (SQuAD 2.0 + 1.1 dev by article, "
                          "RealTime QA by week)",
            "sampled": {name: f"one case in {sample_stride(name, args.every)}" for name in args.on},
            "index": {"encoder": index.documents.describe(), "sentence_vectors": index.sentence_vectors,
                      "chunk_vectors": index.chunk_vectors},
            "validation": {k: round(v, 4) for k, v in metrics.items()},
            "threshold_rule": f"highest threshold at which <= {args.max_false_abstain} of the answerable validation"
                              " questions of each benchmark abstain",
            **calibration,
            "candidates": {r[1]: {k: round(v, 4) for k, v in r[4].items()} for r in results},
        },
    )  # fmt: skip
    digest = model.save(args.out)
    print(f"chose {name}; threshold {threshold:.3f}; wrote {args.out} (sha256 {digest[:12]}…)", file=sys.stderr)
    return 0


def training_table(names: list[str], index: IndexVariant, fresh: bool, every: int = 1) -> dict[str, np.ndarray]:
    """The cached feature tables of the benchmarks ``names`` (train and validation cases), merged."""
    tables = []
    for name in names:
        devset = LOADERS[name]()
        tables.append((devset.name, cached_features(devset, desk_for(devset, index), fresh, every)))
    return _merge(tables)


def _merge(tables: list[tuple[str, dict[str, np.ndarray]]]) -> dict[str, np.ndarray]:
    """One table of both benchmarks, groups renumbered; rows weighted so each benchmark counts equally."""
    xs, ys, groups, answerable, splits, row_split, row_weight, bench = [], [], [], [], [], [], [], []
    articles: list[np.ndarray] = []
    offset = 0
    for name, t in tables:
        bench.append(np.full(len(t["answerable"]), name))
        xs.append(t["x"])
        ys.append(t["y"])
        groups.append(t["group"] + offset)
        answerable.append(t["answerable"])
        splits.append(t["split"])
        row_split.append(t["split"][t["group"]])
        row_weight.append(np.full(len(t["y"]), 1.0 / max(1, len(t["y"]))))
        # Article ids kept apart per benchmark (tables of older runs have none: the "next" rival needs none).
        articles.append(np.char.add(f"{name}:", t["article"]) if "article" in t else np.full(len(t["y"]), ""))
        offset += len(t["answerable"])
    weight = np.concatenate(row_weight)
    return {
        "x": np.concatenate(xs), "y": np.concatenate(ys), "group": np.concatenate(groups),
        "answerable": np.concatenate(answerable), "split": np.concatenate(splits),
        "row_split": np.concatenate(row_split), "row_weight": weight / weight.mean(), "bench": np.concatenate(bench),
        "article": np.concatenate(articles),
    }  # fmt: skip


def _layers(estimator: Any) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    if hasattr(estimator, "coefs_"):
        return tuple((np.asarray(w, np.float32), np.asarray(b, np.float32))
                     for w, b in zip(estimator.coefs_, estimator.intercepts_, strict=True))  # fmt: skip
    return ((np.asarray(estimator.coef_.T, np.float32), np.asarray(estimator.intercept_, np.float32)),)


def question_rows(
    p: np.ndarray, xs: np.ndarray, table: dict[str, np.ndarray], situation: bool = False, rival: str = "next"
) -> dict[str, np.ndarray]:
    """Per question with candidates: the answer layer's inputs (logits of the best sentence and of its
    rival, ``AnswerModel.rival``: the second best, or the best of another article; the best one's
    standardised features and, with ``situation``, the :data:`SITUATION` inputs computed as
    AnswerModel.answer_probability does), whether the best sentence holds the answer, and its group."""
    order = np.lexsort((-p, table["group"]))
    groups = table["group"][order]
    firsts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    best = order[firsts]
    if rival == "next":
        has_second = np.r_[firsts[1:] - firsts[:-1] > 1, len(order) - firsts[-1] > 1]
        second_p = np.where(has_second, p[order[np.minimum(firsts + 1, len(order) - 1)]], 0.0)
    else:  # the first sentence, best first, of an article other than the best sentence's
        if "article" not in table or not all(table["article"]):
            raise ValueError("the other-article rival needs each row's article: re-extract the features (--fresh)")
        question_of = np.repeat(np.arange(len(firsts)), np.diff(np.r_[firsts, len(order)]))
        other = np.flatnonzero(table["article"][order] != table["article"][best][question_of])
        with_rival, first_other = np.unique(question_of[other], return_index=True)
        second_p = np.zeros(len(firsts))
        second_p[with_rival] = p[order[other[first_other]]]

    def logit(v: np.ndarray) -> np.ndarray:
        v = np.clip(v, 1e-6, 1 - 1e-6)
        return np.log(v / (1 - v))

    inputs = np.column_stack([logit(p[best]), logit(second_p), xs[best]]).astype(np.float32)
    if situation:
        g = groups[firsts]
        count = int(table["group"].max()) + 1
        candidates = np.bincount(table["group"], minlength=count)
        rank = table["x"][:, FEATURES.index("hit_rank")]
        pairs = np.unique(np.column_stack([table["group"], rank]), axis=0)
        passages = np.bincount(pairs[:, 0].astype(np.int64), minlength=count)
        mass = np.bincount(table["group"], weights=p, minlength=count)
        extra = np.array([
            situation_inputs(float(l1), int(candidates[k]), int(passages[k]), float(mass[k] - p1))
            for k, l1, p1 in zip(g, inputs[:, 0], p[best], strict=True)
        ], dtype=np.float32)  # fmt: skip
        inputs = np.column_stack([inputs, extra])
    return {"x": inputs, "right": table["y"][best], "group": groups[firsts], "p1": p[best]}


def calibrate(
    p: np.ndarray,
    xs: np.ndarray,
    table: dict[str, np.ndarray],
    max_false_abstain: float,
    situation: bool = False,
    rival: str = "next",
    weights: Mapping[str, float] | None = None,
) -> tuple[tuple[float, float], tuple[np.ndarray, float] | None, float, dict[str, Any]]:
    """Two calibrations of P(answer right), both compared on the validation questions: Platt scaling of
    the best sentence's probability (fitted on validation), and a question-level logistic layer
    (fitted on train) that also sees the runner-up and the best sentence's features. The better by ROC
    AUC (answerable vs not) is kept; its threshold is the highest at which at most ``max_false_abstain``
    of the answerable validation questions of every benchmark abstain (the fewest false answers for that
    recall). With ``situation`` the layer also reads the :data:`SITUATION` inputs; ``rival``: which runner-up
    it reads (AnswerModel.rival); ``weights``: per benchmark, how much its train questions count in the layer's
    fit (default 1 each)."""
    from sklearn.linear_model import LogisticRegression

    q = question_rows(p, xs, table, situation, rival)
    is_val = table["split"][q["group"]] == "validation"
    is_train = table["split"][q["group"]] == "train"
    answerable = table["answerable"][q["group"]]
    logit1 = q["x"][:, 0]
    platt = LogisticRegression(C=1e6).fit(logit1[is_val].reshape(-1, 1), q["right"][is_val])
    a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    by_platt = 1 / (1 + np.exp(-(a * logit1 + b)))
    # Each train question counts once, times its benchmark's weight (``weights``; default 1).
    sample = np.array([(weights or {}).get(bench, 1.0) for bench in table["bench"][q["group"]]])
    layer_model = LogisticRegression(C=1.0, max_iter=3000).fit(
        q["x"][is_train], q["right"][is_train], sample_weight=sample[is_train]
    )
    by_layer = layer_model.predict_proba(q["x"])[:, 1]
    auc = {
        name: roc_auc(v[is_val & answerable].tolist(), v[is_val & ~answerable].tolist())
        for name, v in (("platt", by_platt), ("answer layer", by_layer))
    }
    use_layer = auc["answer layer"] > auc["platt"]
    calibrated = by_layer if use_layer else by_platt
    layer = (layer_model.coef_[0].astype(np.float32), float(layer_model.intercept_[0])) if use_layer else None
    rows = []
    chosen = None
    benches = table["bench"][q["group"]]
    for threshold in np.round(np.arange(0.02, 0.96, 0.01), 2):
        row: dict[str, Any] = {"threshold": float(threshold)}
        for name in sorted(set(benches[is_val])):
            inside = is_val & (benches == name)
            right, answered_ok = q["right"][inside], answerable[inside]
            answered = calibrated[inside] >= threshold
            row[name] = {
                "answered_right": round(float(right[answered].mean()) if answered.any() else 1.0, 4),
                "false_abstain": round(float((~answered & answered_ok).sum() / max(1, answered_ok.sum())), 4),
                "false_answer": round(float((answered & ~answered_ok).sum() / max(1, (~answered_ok).sum())), 4),
            }  # fmt: skip
        rows.append(row)
        # Every benchmark must keep its false abstentions within the bound: the strictest one decides.
        if all(v["false_abstain"] <= max_false_abstain for k, v in row.items() if k != "threshold"):
            chosen = float(threshold)
    report = {"validation_auc": {k: round(v, 4) for k, v in auc.items()},
              "calibration": "answer layer" if use_layer else "platt", "threshold_table": rows}  # fmt: skip
    return (a, b), layer, chosen if chosen is not None else 0.02, report


# ---------------------------------------------------------------- evaluation on test


def evaluate(args: argparse.Namespace) -> int:
    """The rules of 093e210, the previous model (``--baseline``, if given) and the model on a split of
    each benchmark, in one run: each question is retrieved once per index and answered by every method.
    With several ``--sentence-vectors``, each method is measured on each kind (one index each, the same
    document encoder and questions), and ``paired`` counts the questions that changed between them."""
    from index.answer_model import AnswerModel, load_answer_model

    indexes = index_variants(args)
    model = load_answer_model(args.model)
    methods: dict[str, AnswerModel | None] = {} if args.skip_rules else {"rules (093e210)": None}
    if args.baseline:
        methods["previous model"] = AnswerModel.load(args.baseline)
    methods[args.label] = model

    def label_of(method: str, index: IndexVariant) -> str:
        return method if len(indexes) == 1 else f"{method} [{index.kind}]"

    report: dict[str, Any] = {
        "model": {"name": model.name, "sha256": model.sha256, "threshold": model.threshold},
        "methods": {k: m and {"sha256": m.sha256, "threshold": m.threshold} for k, m in methods.items()},
        "indexes": {i.kind: {"document_backend": i.document_backend, "encoder": i.documents.describe()}
                    for i in indexes},
        "split": args.split, "limit": args.limit, "paired": {},
    }  # fmt: skip
    reliability: dict[str, dict[str, list[tuple[float, bool]]]] = {
        label_of(k, i): {} for k, m in methods.items() if m for i in indexes
    }
    for name in args.benchmarks:
        devset = LOADERS[name]()
        cases = cases_of(devset.split(args.split))
        if args.limit:
            cases = cases[:: max(1, len(cases) // args.limit)]
        outcomes: dict[str, list[tuple[Case, Any]]] = {}
        vectors: dict[str, np.ndarray] = {}
        words: WordVectors | None = None
        for index in indexes:
            desk = desk_for(devset, index)
            desk.words = words = words or desk.words  # the same question encoder: its words are shared
            vectors = vectors or question_vectors(desk, cases)
            started = time.perf_counter()
            for label in methods:
                outcomes[label_of(label, index)] = []
            for case in cases:
                vector = vectors[case.question.question]
                analysis, hits = retrieve_case(desk, case, vector)
                for label, answer_model in methods.items():
                    answer = compose_answer(analysis, hits, desk.stored, vector, desk.words, answer_model)
                    outcomes[label_of(label, index)].append((case, answer))
            print(f"[{name}] {index.tag}: {len(cases)} cases in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        report[name] = {label: summarise(items) for label, items in outcomes.items()}
        report["paired"][name] = {
            label_of(m, i): paired_changes(outcomes[label_of(m, indexes[0])], outcomes[label_of(m, i)])
            for m in methods for i in indexes[1:]
        }  # fmt: skip
        if args.baseline:  # every other method and index against the previous model on the first index
            reference = label_of("previous model", indexes[0])
            for label in outcomes:
                if label != reference and not label.startswith("previous model"):
                    pair = paired_changes(outcomes[reference], outcomes[label])
                    report["paired"][name][f"{label} against {reference}"] = pair
        for label in reliability:
            reliability[label][name] = [
                (a.confidence or 0.0, c.answerable and contains_answer(a.text, c.question.answers))
                for c, a in outcomes[label] if a.confidence is not None and (not c.answerable or c.question.extractive)
            ]  # fmt: skip
            report[name][label]["calibration_error"] = calibration_error(reliability[label][name])
        for label in outcomes:
            print(f"[{name}] {label}: {json.dumps(report[name][label])}", file=sys.stderr)
        for label, changes in report["paired"][name].items():
            against = "" if " against " in label else f" against [{indexes[0].kind}]"
            print(f"[{name}] {label}{against}: {json.dumps(changes)}", file=sys.stderr)
    report["reliability"] = {label: {k: [[round(p, 4), ok] for p, ok in v] for k, v in by.items()}
                             for label, by in reliability.items()}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if args.out == REPORT:
        plot_reliability(reliability, FIGURE)
    print(markdown(report))
    return 0


def combine(args: argparse.Namespace) -> int:
    """Several ``evaluate --out`` reports (benchmarks run in parallel) as one: REPORT and FIGURE."""
    report: dict[str, Any] = {}
    for path in args.reports:
        part = json.loads(path.read_text(encoding="utf-8"))
        reliability = report.get("reliability", {})
        for label, by in part.pop("reliability", {}).items():
            reliability.setdefault(label, {}).update(by)
        for key, value in part.items():  # a benchmark's methods may come from several runs
            if key in BENCHMARKS and key in report:
                report[key] |= value
            elif key == "methods":
                report[key] = report.get(key, {}) | value
            else:
                report[key] = value
        report["reliability"] = reliability
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    points = {label: {k: [(p, bool(ok)) for p, ok in v] for k, v in by.items()}
              for label, by in report["reliability"].items()}  # fmt: skip
    plot_reliability(points, FIGURE)
    print(markdown(report))
    return 0


def calibration_error(points: list[tuple[float, bool]], bins: int = 10) -> float | None:
    """Expected calibration error: the mean gap between probability and share right, over 10 equal-width
    bins weighted by their questions (0: a probability of 0.3 is right 30 % of the time)."""
    if not points:
        return None
    p = np.asarray([x for x, _ in points])
    right = np.asarray([y for _, y in points], dtype=float)
    which = np.clip((p * bins).astype(int), 0, bins - 1)
    gaps = [
        abs(p[inside].mean() - right[inside].mean()) * inside.sum()
        for inside in (which == b for b in range(bins))
        if inside.any()
    ]
    return round(float(sum(gaps) / len(p)), 4)


# Each share summarise reports: the cases it counts, and what it counts among them. paired_changes uses the same.
CASE_MEASURES: dict[str, tuple[Callable[[Case], bool], Callable[[Case, Any], bool]]] = {
    "cited_hit1": (lambda c: c.answerable, lambda c, a: bool(a.citations) and a.citations[0].doc_id in c.question.gold),
    "answer_contains_gold": (
        lambda c: c.answerable and c.question.extractive,
        lambda c, a: not a.abstained and contains_answer(a.text, c.question.answers),
    ),
    "false_abstain": (lambda c: c.answerable, lambda c, a: a.abstained),
    "false_answer_unanswerable": (lambda c: c.kind == "unanswerable", lambda c, a: not a.abstained),
    "false_answer_near_miss": (lambda c: c.near_miss, lambda c, a: not a.abstained),
    # What the shares above mix, read apart. False abstentions where the answer is written in its article
    # ("Which of these is not ...?" has no sentence to quote: abstaining there shows the closest passage).
    "false_abstain_written": (lambda c: c.answerable and c.question.extractive, lambda c, a: a.abstained),
    # Share of the same questions (answer written) abstained on with the gold answer in the closest passage the
    # reply shows, labelled as not an answer: what the reader still sees.
    "abstained_showing_gold": (
        lambda c: c.answerable and c.question.extractive,
        lambda c, a: a.abstained and a.nearest is not None and contains_answer(a.nearest.quote, c.question.answers),
    ),
    # Near misses answered with a quote that holds the gold answer: another article answered them (another
    # story of the same news up to the day asked, a sibling paragraph). Counted in false_answer_near_miss,
    # yet right (or right by chance: "Biden" in a sentence about something else).
    "near_miss_answered_with_gold": (
        lambda c: c.near_miss,
        lambda c, a: not a.abstained and contains_answer(a.text, c.question.answers),
    ),
}


def summarise(outcomes: list[tuple[Case, Any]]) -> dict[str, Any]:
    def share(measure: str) -> float | None:
        counted, test = CASE_MEASURES[measure]
        items = [(c, a) for c, a in outcomes if counted(c)]
        return round(sum(1 for c, a in items if test(c, a)) / len(items), 4) if items else None

    positives = [a.confidence or 0.0 for c, a in outcomes if c.answerable]
    negatives = [a.confidence or 0.0 for c, a in outcomes if not c.answerable]
    return {
        "questions": {"answerable": len(positives),
                      "extractive": sum(1 for c, _ in outcomes if c.answerable and c.question.extractive),
                      "unanswerable": sum(1 for c, _ in outcomes if c.kind == "unanswerable"),
                      "near_misses": sum(1 for c, _ in outcomes if c.near_miss)},
        **{measure: share(measure) for measure in CASE_MEASURES},
        "auc": round(roc_auc(positives, negatives), 4) if positives and negatives else None,
    }  # fmt: skip


def paired_changes(first: list[tuple[Case, Any]], second: list[tuple[Case, Any]]) -> dict[str, list[int]]:
    """Per share of :func:`summarise`: [cases counted by it only in ``first``, only in ``second``]. Both
    answered the same cases in the same order; a difference of a few cases either way is noise, not a trend."""
    out = {}
    for measure, (counted, test) in CASE_MEASURES.items():
        pairs = [(test(c, a), test(c2, a2)) for (c, a), (c2, a2) in zip(first, second, strict=True) if counted(c)]
        out[measure] = [sum(1 for x, y in pairs if x and not y), sum(1 for x, y in pairs if y and not x)]
    return out


def plot_reliability(data: dict[str, dict[str, list[tuple[float, bool]]]], path: Path, bins: int = 10) -> None:
    """One panel per model: share of answers right against the probability, one line per benchmark."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(data), figsize=(5 * len(data), 5), squeeze=False)
    for ax, (method, by_benchmark) in zip(axes[0], data.items(), strict=True):
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
        for name, points in by_benchmark.items():
            if not points:
                continue
            p = np.asarray([x for x, _ in points])
            right = np.asarray([y for _, y in points], dtype=float)
            which = np.clip((p * bins).astype(int), 0, bins - 1)
            xs, ys = [], []
            for b in range(bins):
                inside = which == b
                if inside.sum() >= 10:
                    xs.append(p[inside].mean())
                    ys.append(right[inside].mean())
            ax.plot(xs, ys, marker="o", label=f"{name} ({len(points)} questions)")
        ax.set_xlabel(f"answer probability ({method})")
        ax.set_ylabel("share of answers holding the gold answer")
        ax.set_title(f"{method}: reliability on the test split")
        ax.legend(loc="upper left", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def markdown(report: dict[str, Any]) -> str:
    keys = ["cited_hit1", "answer_contains_gold", "false_abstain", "false_answer_unanswerable",
            "false_answer_near_miss", "auc", "calibration_error", "false_abstain_written", "abstained_showing_gold",
            "near_miss_answered_with_gold"]  # fmt: skip
    lines = []
    for name in BENCHMARKS:
        if name not in report:
            continue
        lines.append(f"\n{name} (test split)\n")
        lines.append("| method | " + " | ".join(keys) + " |")
        lines.append("|---" * (len(keys) + 1) + "|")
        for method, m in report[name].items():
            lines.append(f"| {method} | " + " | ".join("" if m.get(k) is None else f"{m[k]:.3f}" for k in keys) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------- re-thresholding against a baseline

# The false answers compared: on questions the articles cannot answer, and on near misses (own article left out).
FALSE_ANSWER_KINDS = ("unanswerable", "near miss")
# Thresholds tried, lowest first: finer than train's 0.01 grid, since the lowest that passes is the one kept.
RETHRESHOLD_GRID = tuple(float(t) for t in np.round(np.arange(0.005, 0.9951, 0.005), 3))


@dataclass(frozen=True)
class Rated:
    """One validation case as the model rates it: its kind, whether the model would answer it at all
    (threshold 0: no hits, no candidate or a swapped name abstain at any threshold), and its probability."""

    kind: str
    answers: bool
    probability: float


def false_answer_rates(rated: list[Rated], threshold: float) -> dict[str, float | None]:
    """Per kind of FALSE_ANSWER_KINDS (None where the benchmark has none), and for answerable questions
    (``false_abstain``), the shares a model answering at ``threshold`` gets wrong that way."""
    out: dict[str, float | None] = {}
    for kind in (*FALSE_ANSWER_KINDS, "answerable"):
        items = [r for r in rated if r.kind == kind]
        answered = sum(1 for r in items if r.answers and r.probability >= threshold)
        key = "false_abstain" if kind == "answerable" else kind
        share = (len(items) - answered if kind == "answerable" else answered) / len(items) if items else None
        out[key] = None if share is None else round(share, 4)
    return out


def matching_threshold(
    baseline: Mapping[str, Mapping[str, float | None]],
    rated: dict[str, list[Rated]],
    grid: tuple[float, ...] = RETHRESHOLD_GRID,
) -> float | None:
    """The lowest threshold of ``grid`` at which, on every benchmark of ``rated``, the model's false answers
    of each kind are no higher than ``baseline``'s (the same benchmark's rates, from
    :func:`false_answer_rates` of the baseline at its own threshold): the most answers the model can give
    without answering more of what it should not than the baseline does. None when no threshold does."""
    for threshold in grid:
        if all(
            (mine := false_answer_rates(cases, threshold)[kind]) is None or mine <= (baseline[name][kind] or 0.0)
            for name, cases in rated.items()
            for kind in FALSE_ANSWER_KINDS
        ):
            return threshold
    return None


def relayer(args: argparse.Namespace) -> int:
    """The model with its question-level answer layer refitted (on the train split of ``--on``) to weigh
    the best sentence against another rival (``--rival``); its sentence model unchanged. The threshold is
    kept as it was: choose it with ``rethreshold``."""
    import dataclasses

    from index.answer_model import AnswerModel

    model = AnswerModel.load(args.model)
    (index,) = index_variants(args)
    merged = training_table(args.on, index, args.fresh)
    xs = (merged["x"][:, model.columns] - model.mean) / model.scale
    p = model.sentence_probabilities(merged["x"])
    weights = dict(args.weight)
    _, layer, _, calibration = calibrate(p, xs, merged, 0.10, bool(model.situation), args.rival, weights)
    if layer is None:
        print(
            "the refitted layer ranks validation questions no better than Platt scaling: not written", file=sys.stderr
        )
        return 1
    info = (
        dict(model.info)
        | calibration
        | {
            "answer_layer": f"refitted on the train split of {list(args.on)} (question weights {weights or 'all 1'}) "
            f"against the rival {args.rival!r}",
        }
    )
    new = dataclasses.replace(model, answer_layer=layer, rival=args.rival, info=info)
    digest = new.save(args.out)
    print(f"answer layer refitted (rival {args.rival}, validation AUC {calibration['validation_auc']}); wrote "
          f"{args.out} (sha256 {digest[:12]}…)", file=sys.stderr)  # fmt: skip
    return 0


def rethreshold(args: argparse.Namespace) -> int:
    """The model with a new threshold, chosen on the validation split to match the baseline model's false
    answers (at the baseline's own threshold, on its own index kind) on every benchmark: each validation
    question is retrieved once per index, the baseline answers it at its threshold, the model rates it."""
    import dataclasses

    from index.answer_model import AnswerModel

    model, baseline = AnswerModel.load(args.model), AnswerModel.load(args.baseline)
    (index,) = index_variants(args)
    base_index = dataclasses.replace(index, chunk_vectors=args.baseline_chunk_vectors)
    base_rates: dict[str, dict[str, float | None]] = {}
    rated: dict[str, list[Rated]] = {}
    for name in args.benchmarks:
        devset = LOADERS[name]()
        cases = cases_of(devset.split("validation"))
        if args.limit:
            cases = cases[:: max(1, len(cases) // args.limit)]
        base: list[Rated] = []
        rated[name] = []
        vectors: dict[str, np.ndarray] = {}
        words: WordVectors | None = None
        started = time.perf_counter()
        for variant, who in ((base_index, "baseline"), (index, "model")):
            desk = desk_for(devset, variant)
            desk.words = words = words or desk.words
            vectors = vectors or question_vectors(desk, cases)
            for case in cases:
                vector = vectors[case.question.question]
                analysis, hits = retrieve_case(desk, case, vector)
                if who == "baseline":
                    a = compose_answer(analysis, hits, desk.stored, vector, desk.words, baseline)
                    base.append(Rated(case.kind, not a.abstained, 1.0))
                else:
                    a = compose_answer(analysis, hits, desk.stored, vector, desk.words, model, abstain_threshold=0.0)
                    rated[name].append(Rated(case.kind, not a.abstained, a.confidence or 0.0))
        base_rates[name] = false_answer_rates(base, 0.0)
        seconds = time.perf_counter() - started
        print(f"[{name}] {len(cases)} validation cases in {seconds:.0f} s; baseline [{base_index.kind}] at "
              f"{baseline.threshold}: {json.dumps(base_rates[name])}", file=sys.stderr)  # fmt: skip
    threshold = matching_threshold(base_rates, rated)
    if threshold is None:
        print("no threshold keeps every benchmark's false answers at the baseline's", file=sys.stderr)
        return 1
    rates = {name: false_answer_rates(cases, threshold) for name, cases in rated.items()}
    for name in rated:
        print(f"[{name}] model [{index.kind}] at {threshold}: {json.dumps(rates[name])}", file=sys.stderr)
    info = dict(model.info)
    info["threshold_rule"] = (
        f"lowest threshold at which, on the validation split of each of {list(args.benchmarks)} (about "
        f"{args.limit or 'all'} cases each), false answers on unanswerable questions and on near misses are no "
        f"higher than {baseline.name} (sha256 {baseline.sha256[:12]}) at its threshold {baseline.threshold} on "
        f"{base_index.kind} chunk indexes; was {model.threshold}"
    )
    info["threshold_validation"] = {"baseline": base_rates, "model": rates, "index": index.kind}
    new = dataclasses.replace(model, threshold=threshold, info=info)
    digest = new.save(args.out)
    print(f"threshold {model.threshold} -> {threshold}; wrote {args.out} (sha256 {digest[:12]}…)", file=sys.stderr)
    return 0


def _benchmark_weight(text: str) -> tuple[str, float]:
    name, _, weight = text.partition("=")
    try:
        value = float(weight)
    except ValueError:
        value = -1.0
    if name not in BENCHMARKS or value <= 0:
        raise argparse.ArgumentTypeError(
            f"expected BENCHMARK=W with a benchmark of {BENCHMARKS} and W > 0, not {text!r}"
        )
    return name, value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train the answer model on the train split, choose on validation")
    t.add_argument("--out", type=Path, default=CANDIDATE,
                   help=f"where to write the model (default {CANDIDATE}: shipping it is a separate step)")  # fmt: skip
    t.add_argument("--fresh", action="store_true", help="recompute the cached features")
    t.add_argument("--on", nargs="+", default=list(TRAIN_ON), choices=BENCHMARKS, help="benchmarks to train on")
    t.add_argument("--max-false-abstain", type=float, default=0.10,
                   help="share of answerable validation questions that may abstain at the threshold")  # fmt: skip
    t.add_argument("--every", type=_positive, default=1,
                   help="read one in N of the cases the default stride reads (a smaller, faster sample)")  # fmt: skip
    t.add_argument("--situation", action="store_true",
                   help="the question-level layer also reads the retrieval situation (candidate count, passage "
                        "length, rivals' probability; index.answer_model.SITUATION)")  # fmt: skip
    add_index_arguments(t, several=False)
    e = sub.add_parser("evaluate", help="both methods on a split (default: test)")
    e.add_argument("--model", type=Path, default=DEFAULT_MODEL_FILE)
    e.add_argument("--baseline", type=Path, help="an earlier model file, answered beside the model")
    e.add_argument("--label", default="model", help="the model's name in the report")
    e.add_argument("--skip-rules", action="store_true", help="leave out the rules of 093e210 (run separately)")
    e.add_argument("--benchmarks", nargs="+", default=list(BENCHMARKS), choices=BENCHMARKS)
    e.add_argument("--split", default="test", choices=("train", "validation", "test"))
    e.add_argument("--limit", type=int, default=0, help="about this many cases per benchmark (0: all)")
    e.add_argument("--out", type=Path, default=REPORT, help=f"JSON report (default {REPORT}; also the figure)")
    add_index_arguments(e, several=True)
    r = sub.add_parser("rethreshold", help="a model's threshold re-chosen on validation to match a baseline's "
                       "false answers on every benchmark")  # fmt: skip
    r.add_argument("--model", type=Path, required=True, help="the model to re-threshold")
    r.add_argument("--baseline", type=Path, default=DEFAULT_MODEL_FILE,
                   help="the model whose false answers to match, at its threshold (default: shipped)")  # fmt: skip
    r.add_argument("--baseline-chunk-vectors", default="encoded", choices=CHUNK_VECTORS,
                   help="the chunk vectors of the baseline's indexes (default encoded)")  # fmt: skip
    r.add_argument("--benchmarks", nargs="+", default=list(BENCHMARKS), choices=BENCHMARKS)
    r.add_argument("--limit", type=int, default=0, help="about this many validation cases per benchmark (0: all)")
    r.add_argument("--out", type=Path, required=True, help="where to write the re-thresholded model")
    add_index_arguments(r, several=False)
    y = sub.add_parser("relayer", help="a model's answer layer refitted against another rival, sentence model kept")
    y.add_argument("--model", type=Path, default=DEFAULT_MODEL_FILE, help="the model whose layer to refit")
    y.add_argument("--rival", default="other-article", choices=RIVALS,
                   help="the runner-up the layer weighs the best sentence against (AnswerModel.rival)")  # fmt: skip
    y.add_argument("--on", nargs="+", default=list(BENCHMARKS), choices=BENCHMARKS, help="benchmarks to fit on")
    y.add_argument("--fresh", action="store_true", help="recompute the cached features")
    y.add_argument("--weight", type=_benchmark_weight, action="append", default=[], metavar="BENCHMARK=W",
                   help="how much a benchmark's train questions count in the fit (default 1; repeatable)")  # fmt: skip
    y.add_argument("--out", type=Path, required=True, help="where to write the model")
    add_index_arguments(y, several=False)
    c = sub.add_parser("combine", help="merge evaluate --out reports into the report and the figure")
    c.add_argument("reports", nargs="+", type=Path)
    args = parser.parse_args(argv)
    commands = {
        "train": train,
        "evaluate": evaluate,
        "relayer": relayer,
        "rethreshold": rethreshold,
        "combine": combine,
    }
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
