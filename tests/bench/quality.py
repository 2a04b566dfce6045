"""Retrieval and answer quality on xquad-en and TIME: ``make bench-quality`` (not part of ``make test``).

    python -m tests.bench.quality                  # everything (about 5-8 minutes on 2 cores)
    python -m tests.bench.quality --only answers   # only the xquad answer-containment share
    python -m tests.bench.quality --sweep          # also every fusion method and weight tried
    python -m tests.bench.quality --only variants --variants sentence-transformers/encoded,openvino/pooled
                                                   # xquad recall and answers per document encoder /
                                                   # sentence vectors, each on its own index, one run

Retrieval: each collection is written as a JSONL corpus and indexed through ``open_index`` (cached in
``.newsdesk/bench/``, so a second run embeds nothing), every query is encoded once, and the dense, BM25
and hybrid rankings are scored side by side. Rankings are of articles: an article's rank is that of
its best chunk. xquad: recall@1/5/10 and MRR@10 (each paragraph is an article; its questions' gold
article is it). TIME: nDCG@10 (binary judgments) and MAP over the top 100 articles.

Answers: every xquad question goes through ``Newsdesk.ask`` (hybrid, the product path) and counts as
answered when a gold answer string appears in the answer text (case-insensitive).

Writes ``reports/quality.json`` and prints markdown tables.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.answering import weigh_evidence
from index.builder import BuildReport, open_index
from index.chunking import embedding_text
from index.embedding import DocumentEmbedder, Embedder, make_embedder, make_query_embedder
from index.fusion import Fusion
from index.lexical import LexicalConfig, LexicalIndex
from index.newsdesk import Newsdesk
from index.query_analysis import analyse_question
from index.records import Hit
from index.search import DEFAULT_FUSION, SearchOptions, retrieve
from index.settings import BUNDLED_CORPUS, DEFAULT_MODEL, load_settings
from index.store import StoredIndex
from tests.bench.bench_index import open_exact
from tests.bench.datasets import REPO_ROOT, Collection, DatasetMissing, data_root, load_time, load_xquad

CACHE = REPO_ROOT / ".newsdesk" / "bench"
REPORT = REPO_ROOT / "reports" / "quality.json"
TIME_DEPTH = 100
# Who answers in the answer part: "learned" (the product default) or "rules" (093e210), from --answerer.
ANSWERER = ["learned"]
SEED_QUESTIONS = REPO_ROOT / "tests" / "questions" / "seed.yaml"


@dataclass
class Run:
    """One retriever configuration's metrics on one collection."""

    collection: str
    name: str
    metrics: dict[str, float]
    ms_per_query: float


@dataclass
class Report:
    runs: list[Run] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)
    separation: dict[str, Any] = field(default_factory=dict)
    abstention: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


def standard_configs() -> list[tuple[str, SearchOptions]]:
    return [
        ("dense", SearchOptions(retriever="dense")),
        ("bm25", SearchOptions(retriever="bm25")),
        ("hybrid", SearchOptions(retriever="hybrid")),
    ]


def sweep_configs() -> list[tuple[str, SearchOptions]]:
    """Every fusion tried when choosing DEFAULT_FUSION, plus the default without diversity."""
    configs = [(f"rrf k=60 w={w}", Fusion("rrf", w)) for w in (0.3, 0.4, 0.5, 0.6)]
    configs += [(f"minmax w={w}", Fusion("minmax", w)) for w in (0.3, 0.4, 0.5, 0.6, 0.7)]
    configs += [(f"absolute w={w}", Fusion("absolute", w)) for w in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)]
    out = [(name, SearchOptions(retriever="hybrid", fusion=fusion)) for name, fusion in configs]
    out.append(("hybrid, no diversity", SearchOptions(retriever="hybrid", diverse=False)))
    out.append(("dense, no diversity", SearchOptions(retriever="dense", diverse=False)))
    out.append(("bm25, no diversity", SearchOptions(retriever="bm25", diverse=False)))
    return out


def desk_for(
    collection: Collection,
    embedder: DocumentEmbedder,
    tag: str = "",
    overrides: dict[str, str] | None = None,
    queries: Embedder | None = None,
) -> Newsdesk:
    folder = CACHE / (collection.name + tag)
    corpus = collection.write_corpus(folder / "corpus")
    values = {"corpus_dir": corpus, "index_dir": folder / "index", "show_progress": False, "answerer": ANSWERER[0]} | (
        overrides or {}
    )
    settings = load_settings(values, env={})
    stored, report = open_exact(settings, embedder, collection.name + tag)  # never another variant's index
    if report.wrote:
        print(f"[{collection.name}{tag}] {report.summary()}", file=sys.stderr)
    return Newsdesk(settings, queries or embedder, stored, report)


def variant_runs(collection: Collection, variants: list[str], limit: int | None) -> dict[str, Any]:
    """xquad retrieval and answers for each DOCUMENT_BACKEND/SENTENCE_VECTORS[/CHUNK_VECTORS] variant, each on
    its own index, questions embedded as Newsdesk.open embeds them (issue 14: pooled vs encoded sentences,
    chunk vectors encoded or from the sentences)."""
    out: dict[str, Any] = {}
    for variant in variants:
        backend, _, kind = variant.partition("/")
        sentences, _, chunks = kind.partition("/")
        chunks = chunks or "encoded"
        embedder = make_embedder(DEFAULT_MODEL, backend)
        started = time.perf_counter()
        desk = desk_for(
            collection,
            embedder,
            f"-{backend}-{sentences}" + ("" if chunks == "encoded" else f"-{chunks}"),
            {"document_backend": backend, "sentence_vectors": sentences, "chunk_vectors": chunks},
            make_query_embedder(DEFAULT_MODEL, "auto", documents=embedder),
        )
        built = time.perf_counter() - started
        runs = score_runs(collection, desk, standard_configs(), 10, xquad_metrics)
        answers = answer_containment(collection, desk, limit)
        out[variant] = {
            "encoder": desk.stored.manifest.encoder,
            "index_seconds": round(built, 1),
            "retrieval": {r.name: r.metrics for r in runs},
            "answers": {k: v for k, v in answers.items() if k != "sample_misses"},
        }
        print(f"[variants] {variant}: {out[variant]}", file=sys.stderr)
    return out


def bundled_desk(embedder: DocumentEmbedder) -> Newsdesk:
    """The bundled news corpus (3 articles), indexed under the bench cache."""
    settings = load_settings(
        {"corpus_dir": BUNDLED_CORPUS, "index_dir": CACHE / "seed" / "index", "show_progress": False}, env={}
    )
    stored, _ = open_index(settings, embedder)
    return Newsdesk(settings, embedder, stored, BuildReport())


def article_ranking(
    stored: StoredIndex, question: str, query: np.ndarray, depth: int, options: SearchOptions
) -> list[str]:
    hits = retrieve(stored, question, query, depth, None, options)
    return list(dict.fromkeys(h.chunk.article_id for h in hits))


def score_runs(
    collection: Collection,
    desk: Newsdesk,
    configs: list[tuple[str, SearchOptions]],
    depth: int,
    metrics: Callable[[list[str], frozenset[str]], dict[str, float]],
) -> list[Run]:
    questions = [q.question for q in collection.queries]
    vectors = desk.embedder.encode(questions, batch_size=64)
    runs = []
    for name, options in configs:
        started = time.perf_counter()
        per_query = [
            metrics(article_ranking(desk.stored, q.question, v, depth, options)[:depth], q.relevant)
            for q, v in zip(collection.queries, vectors, strict=True)
        ]
        elapsed = (time.perf_counter() - started) * 1000 / max(1, len(per_query))
        means = {key: statistics.fmean(m[key] for m in per_query) for key in per_query[0]}
        runs.append(Run(collection.name + collection.notes.get("tag", ""), name, means, elapsed))
    return runs


def tokenizer_runs(
    collection: Collection,
    desk: Newsdesk,
    depth: int,
    metrics: Callable[[list[str], frozenset[str]], dict[str, float]],
) -> list[Run]:
    """BM25 alone with each tokenizer variant, rebuilt in memory over the same chunks."""
    stored = desk.stored
    texts = [embedding_text(stored.articles[c.article_id].title, c.text) for c in stored.chunks]
    runs = []
    for name, config in [
        ("bm25: stem + stopwords (default)", LexicalConfig()),
        ("bm25: stopwords, no stemming", LexicalConfig(stem=False)),
        ("bm25: stemming, no stopwords", LexicalConfig(drop_stopwords=False)),
        ("bm25: neither", LexicalConfig(stem=False, drop_stopwords=False)),
    ]:
        lexical = LexicalIndex.build(texts, config)
        started = time.perf_counter()
        per_query = []
        for q in collection.queries:
            matches = lexical.search(q.question, depth * 4)
            ranking = list(dict.fromkeys(stored.chunks[m.position].article_id for m in matches))[:depth]
            per_query.append(metrics(ranking, q.relevant))
        elapsed = (time.perf_counter() - started) * 1000 / len(per_query)
        means = {key: statistics.fmean(m[key] for m in per_query) for key in per_query[0]}
        runs.append(Run(collection.name + collection.notes.get("tag", ""), name, means, elapsed))
    return runs


def score_separation(collection: Collection, desk: Newsdesk, elsewhere: Newsdesk) -> dict[str, Any]:
    """How well the top hit's score tells answerable from unanswerable questions.

    Answerable: the collection's questions against its own index. Unanswerable: the same questions
    against ``elsewhere`` (the bundled news corpus, which holds none of their answers). For each
    retriever and score, the ROC AUC (1.0: a threshold separates them perfectly; 0.5: chance)."""
    questions = [q.question for q in collection.queries]
    vectors = desk.embedder.encode(questions, batch_size=64)
    signals: dict[str, Callable[[Hit], float]] = {
        "hybrid score": lambda h: h.score,
        "cosine (dense_score)": lambda h: h.dense_score or 0.0,
    }
    out: dict[str, Any] = {}
    tops: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in signals}
    for question, vector in zip(questions, vectors, strict=True):
        for target, side in ((desk, 0), (elsewhere, 1)):
            hits = retrieve(target.stored, question, vector, 1, None, SearchOptions(retriever="hybrid"))
            for name, signal in signals.items():
                tops[name][side].append(max((signal(h) for h in hits), default=0.0))
    for name, (answerable, unanswerable) in tops.items():
        out[name] = {
            "auc": roc_auc(answerable, unanswerable),
            "answerable_median": statistics.median(answerable),
            "unanswerable_median": statistics.median(unanswerable),
        }
    return out


def evidence_strengths(
    desk: Newsdesk, questions: list[str], exclude: list[frozenset[str]] | None = None
) -> list[float]:
    """:attr:`Evidence.strength` of each question's best sentence, as ``Newsdesk.ask`` computes it.
    ``exclude``: per question, articles taken out of the results (the gold paragraph, for near misses)."""
    vectors = desk.embedder.encode(questions, batch_size=64)
    k = desk.settings.k
    out = []
    for n, (question, vector) in enumerate(zip(questions, vectors, strict=True)):
        gone = exclude[n] if exclude else frozenset()
        hits = retrieve(desk.stored, question, vector, k + (10 if gone else 0), None, SearchOptions())
        hits = [h for h in hits if h.chunk.article_id not in gone][:k]
        analysis = analyse_question(question, desk.stored.lexical_index())
        evidence = weigh_evidence(analysis, hits, desk.stored, vector, desk.words) if hits else None
        out.append(evidence.strength if evidence else 0.0)
    return out


ABSTAIN_THRESHOLDS = (0.20, 0.25, 0.28, 0.30, 0.33, 0.35, 0.38, 0.40, 0.42, 0.45)


def abstention_calibration(xquad: Collection, desk: Newsdesk, seed_desk: Newsdesk) -> dict[str, Any]:
    """Evidence strength of answerable and unanswerable questions, and the error rates per threshold.

    xquad answerable: its questions on its own index. xquad near misses: the same questions with their
    gold paragraph removed from the results (the other paragraphs of the same Wikipedia article stay,
    so the topic is there and the answer is not: the hard case). Seed: ``abstain: true`` or not."""
    from bot.evaluation import load_questions

    questions = [q.question for q in xquad.queries]
    groups = {
        "xquad answerable": evidence_strengths(desk, questions),
        "xquad near miss": evidence_strengths(desk, questions, [q.relevant for q in xquad.queries]),
    }
    if SEED_QUESTIONS.is_file():
        seed = load_questions([SEED_QUESTIONS])
        strengths = evidence_strengths(seed_desk, [q.question for q in seed])
        groups["seed answerable"] = [v for v, q in zip(strengths, seed, strict=True) if not q.abstain]
        groups["seed unanswerable"] = [v for v, q in zip(strengths, seed, strict=True) if q.abstain]
    rows = []
    for threshold in ABSTAIN_THRESHOLDS:
        row: dict[str, float] = {"threshold": threshold}
        for name, values in groups.items():
            answerable = name.endswith(" answerable")  # wrong: abstaining; else wrong: answering
            wrong = [v < threshold for v in values] if answerable else [v >= threshold for v in values]
            row[name] = statistics.fmean(wrong) if values else float("nan")
        rows.append(row)
    return {
        "counts": {name: len(v) for name, v in groups.items()},
        "auc xquad": roc_auc(groups["xquad answerable"], groups["xquad near miss"]),
        "auc seed": (
            roc_auc(groups["seed answerable"], groups["seed unanswerable"]) if "seed answerable" in groups else None
        ),
        "error_rates": rows,
    }


def roc_auc(positives: list[float], negatives: list[float]) -> float:
    """P(a random positive scores above a random negative), ties counting half."""
    scores = np.array(positives + negatives)
    ranks = np.empty(len(scores))
    order = np.argsort(scores, kind="stable")
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    n_pos, n_neg = len(positives), len(negatives)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def seed_runs(desk: Newsdesk, configs: list[tuple[str, SearchOptions]]) -> tuple[list[Run], dict[str, float]]:
    """Retrieval on the seed question set: article hit@1/@3 and MRR@5 over questions with sources
    (a source matches as in ``newsdesk eval``), and the ROC AUC of the top hybrid score between
    answerable questions and those marked ``abstain: true``."""
    from bot.evaluation import load_questions, source_matches

    questions = load_questions([SEED_QUESTIONS])
    vectors = desk.embedder.encode([q.question for q in questions], batch_size=64)
    runs = []
    for name, options in configs:
        per_query = []
        for q, v in zip(questions, vectors, strict=True):
            if q.abstain or not q.sources:
                continue
            ranking = article_ranking(desk.stored, q.question, v, 5, options)
            titles = [{"doc_id": a, "title": desk.stored.articles[a].title} for a in ranking]
            rank = next((i for i, t in enumerate(titles) if any(source_matches(s, t) for s in q.sources)), None)
            per_query.append(
                {
                    "hit@1": float(rank == 0),
                    "hit@3": float(rank is not None and rank < 3),
                    "mrr@5": 1.0 / (rank + 1) if rank is not None else 0.0,
                }  # fmt: skip
            )
        means = {key: statistics.fmean(m[key] for m in per_query) for key in per_query[0]}
        runs.append(Run("seed", name, means, 0.0))
    tops: dict[bool, list[float]] = {True: [], False: []}
    for q, v in zip(questions, vectors, strict=True):
        hits = retrieve(desk.stored, q.question, v, 1, None, SearchOptions())
        tops[q.abstain].append(hits[0].score if hits else 0.0)
    separation = {
        "answerable": len(tops[False]),
        "unanswerable": len(tops[True]),
        "hybrid score auc": roc_auc(tops[False], tops[True]),
    }
    return runs, separation


def xquad_metrics(ranking: list[str], relevant: frozenset[str]) -> dict[str, float]:
    rank = next((i for i, a in enumerate(ranking) if a in relevant), None)
    return {
        "recall@1": float(rank is not None and rank < 1),
        "recall@5": float(rank is not None and rank < 5),
        "recall@10": float(rank is not None and rank < 10),
        "mrr@10": 1.0 / (rank + 1) if rank is not None and rank < 10 else 0.0,
    }


def time_metrics(ranking: list[str], relevant: frozenset[str]) -> dict[str, float]:
    gains = [1.0 if a in relevant else 0.0 for a in ranking]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains[:10]))
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(10, len(relevant))))
    hits, precisions = 0, []
    for i, g in enumerate(gains[:TIME_DEPTH]):
        if g:
            hits += 1
            precisions.append(hits / (i + 1))
    return {"ndcg@10": dcg / ideal if ideal else 0.0, "map@100": sum(precisions) / len(relevant)}


def answer_containment(collection: Collection, desk: Newsdesk, limit: int | None) -> dict[str, Any]:
    """Share of questions whose ``Newsdesk.ask`` answer text contains a gold answer."""
    queries = collection.queries[:limit] if limit else collection.queries
    from index.sentences import split_sentences

    contained = abstained = right_article = 0
    latencies: list[float] = []
    lengths: list[int] = []  # sentences quoted per answer: containment is cheap with long answers
    misses: list[dict[str, Any]] = []
    for n, q in enumerate(queries, start=1):
        if n % 200 == 0:
            print(f"[answers] {n}/{len(queries)} asked", file=sys.stderr)
        started = time.perf_counter()
        answer = desk.ask(q.question, retriever="hybrid")
        latencies.append((time.perf_counter() - started) * 1000)
        text = answer.text.casefold()
        ok = any(gold.casefold() in text for gold in q.answers)
        contained += ok
        abstained += answer.abstained
        right_article += bool(answer.citations) and answer.citations[0].doc_id in q.relevant
        if not answer.abstained:
            lengths.append(sum(len(split_sentences(c.quote)) for c in answer.citations))
        if not ok and len(misses) < 25:
            misses.append({"question": q.question, "gold": list(q.answers), "answer": answer.text})
    n = len(queries)
    return {
        "questions": n,
        "contains_gold": contained / n,
        "abstained": abstained / n,
        "first_citation_is_gold_article": right_article / n,
        "sentences_per_answer": statistics.fmean(lengths) if lengths else 0.0,
        "ask_ms_p50": statistics.median(latencies),
        "ask_ms_p95": float(np.percentile(latencies, 95)),
        "sample_misses": misses,
    }


def markdown_table(runs: Iterable[Run], keys: list[str]) -> str:
    lines = ["| retriever | " + " | ".join(keys) + " | ms/query |", "|---" * (len(keys) + 2) + "|"]
    for run in runs:
        cells = [f"{run.metrics[k]:.3f}" for k in keys]
        lines.append(f"| {run.name} | " + " | ".join(cells) + f" | {run.ms_per_query:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.quality", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        choices=("retrieval", "answers", "xquad", "time", "seed", "abstain-signal", "abstention", "variants"),
        help="Run one part only.",
    )
    parser.add_argument("--sweep", action="store_true", help="Also score every fusion method and weight tried.")
    parser.add_argument("--no-titles", action="store_true", help="Also index xquad without its Wikipedia titles.")
    parser.add_argument(
        "--variants",
        default="sentence-transformers/encoded,auto/pooled",
        help="With --only variants: comma-separated DOCUMENT_BACKEND/SENTENCE_VECTORS[/CHUNK_VECTORS] to compare "
        "(chunk vectors: encoded unless given, e.g. auto/encoded/from-sentences).",
    )
    parser.add_argument("--limit", type=int, help="Ask only the first N xquad questions in the answer part.")
    parser.add_argument("--out", type=Path, default=REPORT, help=f"JSON report (default {REPORT}).")
    parser.add_argument("--answerer", choices=("learned", "rules"), default="learned",
                        help="Who picks the answer in the answer part (default: the product's, learned).")  # fmt: skip
    args = parser.parse_args(argv)
    ANSWERER[0] = args.answerer

    root = data_root()
    try:
        xquad = load_xquad(root)
        time_collection = load_time(root) if args.only in (None, "retrieval", "time") else None
    except DatasetMissing as missing:
        print(f"skipped: {missing}", file=sys.stderr)
        return 0
    embedder = make_embedder(DEFAULT_MODEL)
    report = Report(info={"data": str(root), "fusion": DEFAULT_FUSION.__dict__, "model": DEFAULT_MODEL})
    configs = standard_configs() + (sweep_configs() if args.sweep else [])
    started = time.perf_counter()
    xquad_keys, time_keys = ["recall@1", "recall@5", "recall@10", "mrr@10"], ["ndcg@10", "map@100"]

    if args.only in (None, "retrieval", "xquad"):
        desk = desk_for(xquad, embedder)
        report.runs += score_runs(xquad, desk, configs, 10, xquad_metrics)
        if args.sweep:
            report.runs += tokenizer_runs(xquad, desk, 10, xquad_metrics)
        if args.no_titles:
            bare = load_xquad(root, titles=False)
            bare.notes["tag"] = " (no titles)"
            bare_desk = desk_for(bare, embedder, "-notitles")
            report.runs += score_runs(bare, bare_desk, configs, 10, xquad_metrics)
    if time_collection is not None:
        desk_time = desk_for(time_collection, embedder)
        report.runs += score_runs(time_collection, desk_time, configs, TIME_DEPTH, time_metrics)
        if args.sweep:
            report.runs += tokenizer_runs(time_collection, desk_time, TIME_DEPTH, time_metrics)
    if args.only in (None, "retrieval", "seed") and SEED_QUESTIONS.is_file():
        seed_runs_, seed_separation = seed_runs(bundled_desk(embedder), configs)
        report.runs += seed_runs_
        report.separation["seed"] = seed_separation
    if args.only in (None, "abstain-signal"):
        report.separation |= score_separation(xquad, desk_for(xquad, embedder), bundled_desk(embedder))
    if args.only in (None, "abstention"):
        report.abstention = abstention_calibration(xquad, desk_for(xquad, embedder), bundled_desk(embedder))
    if args.only in (None, "answers"):
        report.answers = answer_containment(xquad, desk_for(xquad, embedder), args.limit)
    if args.only == "variants":
        report.info["variants"] = variant_runs(xquad, args.variants.split(","), args.limit)
    report.info["seconds"] = round(time.perf_counter() - started, 1)

    for collection in dict.fromkeys(r.collection for r in report.runs):
        keys = {"time": time_keys, "seed": ["hit@1", "hit@3", "mrr@5"]}.get(collection, xquad_keys)
        print(f"\n### {collection}\n")
        print(markdown_table([r for r in report.runs if r.collection == collection], keys))
    if report.answers:
        a = report.answers
        print(
            f"\n### xquad answers (Newsdesk.ask, hybrid; {a['questions']} questions)\n\n"
            f"answer text contains the gold answer: {a['contains_gold']:.3f}; abstained: {a['abstained']:.3f}; "
            f"first citation is the gold paragraph: {a['first_citation_is_gold_article']:.3f}; "
            f"sentences quoted per answer: {a['sentences_per_answer']:.2f}; "
            f"ask p50 {a['ask_ms_p50']:.0f} ms, p95 {a['ask_ms_p95']:.0f} ms"
        )
    if any(name != "seed" for name in report.separation):
        print("\n### top-hit score: xquad questions on xquad (answerable) vs on the seed corpus (not)\n")
        print("| score | ROC AUC | median answerable | median unanswerable |\n|---|---|---|---|")
        for name, row in report.separation.items():
            if name == "seed":
                continue
            print(f"| {name} | {row['auc']:.3f} | {row['answerable_median']:.3f} | {row['unanswerable_median']:.3f} |")
    if "seed" in report.separation:
        seed = report.separation["seed"]
        print(
            f"\nseed set: top hybrid score ROC AUC, {seed['answerable']} answerable vs {seed['unanswerable']} "
            f"'abstain: true' questions: {seed['hybrid score auc']:.3f}"
        )
    if report.abstention:
        a = report.abstention
        names = list(a["counts"])
        print(
            "\n### abstention: wrong decisions per threshold (evidence strength; answerable: false abstain, "
            "unanswerable: false answer)\n"
        )
        print("| threshold | " + " | ".join(f"{n} ({a['counts'][n]})" for n in names) + " |")
        print("|---" * (len(names) + 1) + "|")
        for row in a["error_rates"]:
            print(f"| {row['threshold']:.2f} | " + " | ".join(f"{row[n]:.3f}" for n in names) + " |")
        print(f"\nROC AUC answerable vs not: xquad {a['auc xquad']:.3f}, seed {a['auc seed'] or float('nan'):.3f}")
    if "variants" in report.info:
        print("\n### xquad per document encoder / sentence vectors\n")
        print("| variant | dense r@1 | hybrid r@1 | hybrid r@5 | contains gold | abstained | first citation gold |")
        print("|---|---|---|---|---|---|---|")
        for name, row in report.info["variants"].items():
            r, a = row["retrieval"], row["answers"]
            print(
                f"| {name} | {r['dense']['recall@1']:.3f} | {r['hybrid']['recall@1']:.3f} | "
                f"{r['hybrid']['recall@5']:.3f} | {a['contains_gold']:.3f} | {a['abstained']:.3f} | "
                f"{a['first_citation_is_gold_article']:.3f} |"
            )
    print(f"\n({report.info['seconds']} s in all; timings are noisy on a shared machine)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "info": report.info,
        "runs": [run.__dict__ for run in report.runs],
        "answers": report.answers,
        "separation": report.separation,
        "abstention": report.abstention,
    }
    args.out.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
