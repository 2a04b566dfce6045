"""The question's walk (issue 17): within each stage of ``Newsdesk.ask`` a module enters another at most once.

A question flows one way, question -> analysis -> hits -> candidates -> features -> answer, and each stage
asks each module it needs once, for everything at a time (every candidate sentence, every hit), with the
values it works out carried on to the next stage in the records that flow (``QueryAnalysis``,
``Candidate``, ``Scored``). What this test would catch: a helper module entered once per candidate or
per hit (``typed_values`` per sentence), a later stage calling back into an earlier one (the features
asking ``answering`` whether a candidate leans on the sentence before it), a value of the question worked
out again where it is used.

How: one ``ask`` is traced with :func:`sys.setprofile`. Every Python call from one ``index`` module into
another is attributed to the stage it happens in, the innermost stage function on the stack
(:data:`STAGES`); the test asserts that no (stage, caller module, called module) occurs twice.

Not counted, and why:

* constructing a record (``__init__``/``__post_init__`` of ``Hit``, ``Span``, ``Citation``, ...): making
  the typed object that flows to the next stage is object construction, not a stage asking another
  module for work;
* reading a record's derived field (``Article.date_iso``, a property of :mod:`index.records`): a
  record read like any field;
* an object calling its own methods: the question encoder's base class (``index.token_encoder``) calls
  the hooks its subclass implements (``index.embedding``: ``dimension``, ``token_embeddings``), one
  object at work wherever its classes are written;
* calls from or into code outside ``index`` (the fake embedder, numpy, the standard library).

The fast tier traces the made-up articles on the fake embedder; the full suite also traces the bundled
corpus on the real model (its question encoder is ``index`` code).
"""

from __future__ import annotations

import inspect
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import pytest

from index.answer_features import candidate_features
from index.answering import compose_answer, rate
from index.candidates import candidate_sentences
from index.embedding import make_query_embedder
from index.evidence import weigh_evidence
from index.newsdesk import Newsdesk
from index.query_analysis import analyse_question
from index.search import retrieve

# The function that does each stage's work; a call belongs to the innermost of them on the stack.
# ``Newsdesk.ask`` itself is the question's own stage (cleaning and embedding the question, handing over).
STAGE_FUNCTIONS: dict[Callable[..., Any], str] = {
    Newsdesk.ask: "question",
    analyse_question: "analysis",
    retrieve: "hits",
    candidate_sentences: "candidates",
    weigh_evidence: "features",
    candidate_features: "features",
    compose_answer: "answer",  # what compose_answer does itself: abstaining, choosing and citing sentences
    rate: "answer",  # the answer model
}
STAGES = {inspect.unwrap(function).__code__: stage for function, stage in STAGE_FUNCTIONS.items()}
CONSTRUCTION = frozenset(["__init__", "__post_init__"])
RECORDS = "index.records"

Entry = tuple[str, str, str]  # (stage, caller module, called module)


def _module(frame: FrameType | None) -> str:
    return str(frame.f_globals.get("__name__", "")) if frame is not None else ""


def _stage(frame: FrameType | None) -> str:
    while frame is not None:
        if frame.f_code in STAGES:
            return STAGES[frame.f_code]
        frame = frame.f_back
    return "outside"


@dataclass
class Walk:
    """What one ``ask`` did: the entries of one index module into another, by stage, the functions they
    entered (for the failure message), and the index modules that ran code, by stage."""

    entries: Counter[Entry] = field(default_factory=Counter)
    functions: dict[Entry, Counter[str]] = field(default_factory=dict)
    ran: set[tuple[str, str]] = field(default_factory=set)

    @property
    def stages(self) -> set[str]:
        return {stage for stage, _ in self.ran}


def _same_object(frame: FrameType) -> bool:
    """A method called by another method of the same object."""
    caller = frame.f_back
    if caller is None or "self" not in frame.f_code.co_varnames[:1]:
        return False
    return frame.f_locals.get("self", frame) is caller.f_locals.get("self")


def trace_walk(desk: Newsdesk, question: str) -> Walk:
    """Trace ``desk.ask(question)`` on a desk that has answered before: what is built once per process on
    the first question (the vector store's search structure) is not a stage's walk. The warm-up asks
    another question, so that nothing of this one's is cached."""
    desk.ask(WARM_UP if question != WARM_UP else f"{WARM_UP} today")
    walk = Walk()
    resumed: set[FrameType] = set()

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event != "call":
            return
        if frame.f_code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE):
            # A generator's frame is "called" again at every resumption: it is entered once.
            if frame in resumed:
                return
            resumed.add(frame)
        callee, caller = _module(frame), _module(frame.f_back)
        if not callee.startswith("index."):
            return
        stage = _stage(frame)
        walk.ran.add((stage, callee))
        if not caller.startswith("index.") or callee == caller:
            return
        if frame.f_code.co_name in CONSTRUCTION or callee == RECORDS or _same_object(frame):
            return
        entry = (stage, caller, callee)
        walk.entries[entry] += 1
        walk.functions.setdefault(entry, Counter())[frame.f_code.co_name] += 1

    sys.setprofile(profile)
    try:
        desk.ask(question)
    finally:
        sys.setprofile(None)
    return walk


# Over the made-up articles: a count whose question names a year and a name, a name its passages do not
# hold (the names-meant and swapped-name paths), a question about "now"; among the candidates of each,
# sentences that lean on the one before ("He said the bridge would open in March 2022.").
WARM_UP = "Who chairs the growers association?"
QUESTIONS = [
    "How many passengers did the Northvale ferry company carry in 2019?",
    "How many cars does the Southport ferry carry across the harbour?",
    "What is the latest cost of the Northvale bridge?",
    "When would the bridge open, according to the chief engineer?",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_each_stage_enters_each_module_once(news_desk: Newsdesk, question: str) -> None:
    walk = trace_walk(news_desk, question)
    # The walk was traced through every stage: nothing below passes by seeing nothing.
    assert walk.stages >= {"question", "analysis", "hits", "candidates", "features", "answer"}
    repeated = {
        f"{stage}: {caller} -> {callee} {n} times ({dict(walk.functions[(stage, caller, callee)])})"
        for (stage, caller, callee), n in walk.entries.items()
        if n > 1
    }
    assert not repeated, "\n".join(sorted(repeated))


@pytest.fixture(scope="module")
def model_desk(seed_desk: Newsdesk) -> Newsdesk:
    """The bundled articles' index, questions embedded as ``Newsdesk.open`` does: by the onnxruntime export
    of the model (``index.token_encoder`` and ``index.embedding`` code)."""
    queries = make_query_embedder(seed_desk.settings.model, "onnx", documents=seed_desk.embedder)
    return Newsdesk(seed_desk.settings, queries, seed_desk.stored, seed_desk.build_report)


@pytest.mark.parametrize("question", ["How many German troops will be deployed?", "When did Finland join NATO?"])
def test_each_stage_enters_each_module_once_with_the_model(model_desk: Newsdesk, question: str) -> None:
    """The same over the bundled articles with the real model, whose question encoder is ``index`` code."""
    walk = trace_walk(model_desk, question)
    assert ("question", "index.token_encoder") in walk.ran  # the encoder was traced
    assert [entry for entry, n in walk.entries.items() if n > 1] == []


def test_the_features_are_read_from_what_flows(news_desk: Newsdesk) -> None:
    """The features read what the analysis, the candidates and the evidence carry: computing them asks
    no other module for anything (they once asked ``answering`` whether each candidate leans on the
    sentence before it, and the sentence store whether it opens its article)."""
    walk = trace_walk(news_desk, QUESTIONS[1])  # names what no passage holds: every feature is computed
    assert {callee for (_, caller, callee) in walk.entries if caller == "index.answer_features"} == set()
