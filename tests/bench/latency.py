"""Warm query latency, split by stage, against the hand-written sentence-transformers baseline.

For each question, through the public API: ``Newsdesk.ask`` (its own ``timings_ms``: encode, search,
answer) and ``render_text``. Dense search and BM25 are also timed on their own for the same question
(``index.search.dense_pairs``, the vector store's search, with the pool the retriever asks for;
``LexicalIndex.scores``); fusion is what remains of the search stage (fusion, filters, diversity). Since
2026-12-01 an OpenVINO question encoder runs on its own thread while ``ask`` reads the question (analysis,
BM25, the likely candidates' terms): that reading is ``beside_encode``, within ``encode``, and BM25 is then
not part of the search stage.

The baseline is a fair race (issue 14): what a user would write with the same question encoder as
Newsdesk (the very same encoder object, ``desk.embedder``: openvino-fp32 or the int8 export's onnxruntime
session, with ``Settings.query_threads``; the report names it) and an exact numpy top-k over the same chunk
vectors: retrieval only, no answer. Newsdesk's own search-only time (encode + search stages) is
recorded beside its full answer time, so both can be compared with it.

The race (:func:`measure_race`) interleaves the two sides: on a shared machine whose load moves by the
minute, both see the same load. Neither side may embed a question right after an encode of the same
question: OpenVINO runs an input of the shape it ran last, and a text it just ran, much faster (one
question, Reuters headlines, 2026-12-01: 3.4 ms right after itself, 4.5 ms after another question of the
same token count, 5.8 ms after one of another length), and no user asks a question right after
the same question was embedded. Until 2026-12-01 the baseline ran right after Newsdesk's ask and the
dense-stage timing's encode of the same question, and so was raced with a warm encoder against a cold
one. Now the baseline answers each question one step behind Newsdesk (step ``i``: Newsdesk question
``i``, the baseline question ``i - 1``, which of the two first alternating from step to step), and the
stage-only timings of question ``i - 1`` (its encode not timed) close the step: every timed encode
follows an encode of another question.

Both sides' exact top-k run on one thread. The baseline's was ``vectors @ query`` until 2026-12-01, a matrix
product on OpenBLAS's threads: 0.23 ms on an idle machine (Reuters, 6,899 chunks) against 0.45 ms on one
thread, but 3-8 ms when another process kept the second core busy, so the race measured the load more than
the designs. Newsdesk searches a flat index on one thread (``index.ann.exact_search``, the same
``np.vecdot``), and so does the baseline now.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.render_text import render_text
from index.newsdesk import Newsdesk
from index.records import Answer
from index.search import MIN_POOL, POOL_FACTOR, dense_pairs

STAGES = ("encode", "beside_encode", "dense", "bm25", "fusion", "answer", "render")
WARM_UP = 5


@dataclass
class LatencyRun:
    name: str
    total_ms: list[float] = field(default_factory=list)
    stages_ms: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    abstained: int = 0
    search_only_ms: list[float] = field(default_factory=list)  # encode + search stages of each ask
    question_encoder: str = ""  # the runtime and threads that embedded the questions (both sides of the race)


def _percentiles(values: list[float]) -> dict[str, float]:
    from tests.bench.machine import percentiles

    return percentiles(values)


def measure_race(name: str, desk: Newsdesk, questions: list[str]) -> tuple[LatencyRun, LatencyRun]:
    """Newsdesk (:func:`measure_desk`) and the fair baseline, question by question, interleaved."""
    baseline = LatencyRun("baseline_exact_topk", question_encoder=question_encoder(desk))
    return measure_desk(name, desk, questions, baseline), baseline


def question_encoder(desk: Newsdesk) -> str:
    """What embeds ``desk``'s questions: its runtime, and its threads (0: the runtime's default)."""
    describe = getattr(desk.embedder, "describe", None)
    backend = describe()["backend"] if describe is not None else type(desk.embedder).__name__
    return f"{backend}, {getattr(desk.embedder, 'threads', 0)} thread(s)"


def measure_desk(name: str, desk: Newsdesk, questions: list[str], baseline: LatencyRun | None = None) -> LatencyRun:
    """Warm latency of ``desk.ask`` + rendering over ``questions`` (after a few warm-up questions);
    with ``baseline``, the fair baseline is timed on each question too (into ``baseline``), in the
    order of the module doc."""
    race = _baseline_search(desk)
    for question in questions[:WARM_UP]:
        render_text(desk.ask(question))
        race(question)
    run = LatencyRun(name, question_encoder=question_encoder(desk))
    stage_timer = _stage_timer(desk)
    behind: tuple[str, Answer, float] | None = None  # the previous question, its answer and its time
    for number, question in enumerate(questions):
        baseline_first = number % 2 == 0  # (question 0 has no baseline step: nothing is behind it)
        if baseline is not None and behind is not None and baseline_first:
            _time_baseline(baseline, race, behind[0])
        started = time.perf_counter()
        answer = desk.ask(question)
        text = render_text(answer)
        total = (time.perf_counter() - started) * 1000
        assert text  # a rendered answer is never empty; guards against measuring a no-op
        if baseline is not None and behind is not None and not baseline_first:
            _time_baseline(baseline, race, behind[0])
        if behind is not None:
            _record(run, *behind, stage_timer(behind[0]))
        behind = (question, answer, total)
    if behind is not None:
        if baseline is not None:
            _time_baseline(baseline, race, behind[0])
        _record(run, *behind, stage_timer(behind[0]))
    return run


def _stage_timer(desk: Newsdesk) -> Callable[[str], tuple[float, float]]:
    """Dense search and BM25 of a question, each timed alone (ms), as the search stage runs them."""
    lexical = desk.stored.lexical_index()
    pool = min(max(MIN_POOL, POOL_FACTOR * desk.settings.k), len(desk.stored.chunks))

    def stages(question: str) -> tuple[float, float]:
        query = desk.embedder.encode([question])[0]
        mark = time.perf_counter()
        dense_pairs(desk.stored, query, pool)  # the vector store's search, as the search stage calls it
        dense = (time.perf_counter() - mark) * 1000
        mark = time.perf_counter()
        lexical.scores(question)
        return dense, (time.perf_counter() - mark) * 1000

    return stages


def _record(run: LatencyRun, question: str, answer: Answer, total: float, alone: tuple[float, float]) -> None:
    """One answered question into ``run``: its stages (``alone``: dense and BM25 timed on their own)."""
    dense, bm25 = alone
    timings = answer.timings_ms or {}
    run.total_ms.append(total)
    run.abstained += int(answer.abstained)
    search = float(timings.get("search", dense + bm25))
    run.search_only_ms.append(float(timings.get("encode", 0.0)) + search)
    run.stages_ms["encode"].append(float(timings.get("encode", 0.0)))
    run.stages_ms["dense"].append(dense)
    run.stages_ms["bm25"].append(bm25)
    # Read beside the encoder (question analysis, BM25, tokenising ahead: within "encode"), BM25 is not in
    # the search stage; else it is, with the question's analysis.
    beside = timings.get("beside_encode")
    if beside is not None:
        run.stages_ms["beside_encode"].append(float(beside))
    run.stages_ms["fusion"].append(max(0.0, search - dense - (0.0 if beside is not None else bm25)))
    run.stages_ms["answer"].append(float(timings.get("answer", 0.0)))
    run.stages_ms["render"].append(max(0.0, total - float(timings.get("total", total))))


def _baseline_search(desk: Newsdesk) -> Callable[[str], tuple[float, float]]:
    """The same question encoder + exact top k (numpy) over the same chunk vectors: (encode s, top-k s)."""
    vectors = np.ascontiguousarray(desk.stored.vectors, dtype=np.float32)
    k = min(desk.settings.k, len(vectors))

    def search(question: str) -> tuple[float, float]:
        started = time.perf_counter()
        query = desk.embedder.encode([question])[0]
        encoded = time.perf_counter()
        scores = np.vecdot(vectors, query)  # one thread, as Newsdesk's exact search (module doc)
        top = np.argpartition(-scores, k - 1)[:k]
        top[np.argsort(-scores[top])]
        return encoded - started, time.perf_counter() - encoded

    return search


def _time_baseline(run: LatencyRun, search: Callable[[str], tuple[float, float]], question: str) -> None:
    encode, dense = search(question)
    run.total_ms.append((encode + dense) * 1000)
    run.stages_ms["encode"].append(encode * 1000)
    run.stages_ms["dense"].append(dense * 1000)


def measure_baseline(desk: Newsdesk, questions: list[str]) -> LatencyRun:
    """The fair baseline alone (:func:`measure_race` interleaves it with Newsdesk)."""
    search = _baseline_search(desk)
    for question in questions[:WARM_UP]:
        search(question)
    run = LatencyRun("baseline_exact_topk", question_encoder=question_encoder(desk))
    for question in questions:
        _time_baseline(run, search, question)
    return run


def summarise(run: LatencyRun) -> dict[str, Any]:
    out: dict[str, Any] = dict(_percentiles(run.total_ms))
    out["stages_p50_ms"] = {s: round(float(np.median(v)), 2) for s, v in run.stages_ms.items() if v}
    out["stages_p95_ms"] = {s: round(float(np.percentile(v, 95)), 2) for s, v in run.stages_ms.items() if v}
    if run.search_only_ms:
        out["search_only"] = _percentiles(run.search_only_ms)
        out["answer_share_p50"] = round(
            float(np.median(run.stages_ms["answer"])) / max(1e-9, float(np.median(run.total_ms))), 3
        )
    if not run.name.startswith("baseline"):
        out["abstained"] = run.abstained
    if run.question_encoder:
        out["question_encoder"] = run.question_encoder
    return out
