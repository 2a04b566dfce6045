"""The library entry point: open (or build) the index for a corpus and answer questions from it."""

from __future__ import annotations

import datetime as dt
import time
import unicodedata

import numpy as np

from index.answering import compose_answer
from index.builder import BuildReport, open_index
from index.embedding import Embedder, make_embedder, make_query_embedder
from index.errors import QuestionError
from index.records import Answer, Article, Hit
from index.search import SearchFilters, SearchOptions, retrieve
from index.settings import Settings, load_settings
from index.store import StoredIndex
from index.word_vectors import WordVectors


class Newsdesk:
    """Questions in, cited answers out. Thread-safe for concurrent :meth:`ask` calls.

    >>> desk = Newsdesk.open()                       # the bundled corpus, index built if needed
    >>> desk.ask("How many German troops will be deployed?").text
    """

    def __init__(self, settings: Settings, embedder: Embedder, stored: StoredIndex, report: BuildReport) -> None:
        self.settings = settings
        self.embedder = embedder
        self.stored = stored
        self.build_report = report
        self.words = WordVectors(embedder.encode)

    @classmethod
    def open(cls, settings: Settings | None = None, rebuild: bool = False) -> Newsdesk:
        settings = settings or load_settings()
        embedder = make_embedder(settings.model)
        if settings.ray_address:
            # Builds embed on a Ray cluster (index.ray_embedding); questions are still embedded here.
            from index.ray_embedding import ray_embedder

            distributed = ray_embedder(embedder, settings.ray_address, settings.show_progress)
            try:
                stored, report = open_index(settings, distributed, rebuild=rebuild)
            finally:
                distributed.close()
        else:
            stored, report = open_index(settings, embedder, rebuild=rebuild)
        # Documents were embedded by sentence-transformers; questions and answer sentences go through
        # the fast-starting ONNX export of the same model when one is installed (index.embedding).
        queries = make_query_embedder(settings.model, settings.query_backend, documents=embedder)
        return cls(settings, queries, stored, report)

    def sources(self) -> list[Article]:
        """The indexed articles, newest first."""
        return sorted(self.stored.articles.values(), key=lambda a: (a.date or dt.date.min, a.id), reverse=True)

    def check_question(self, question: str) -> str:
        return clean_question(question, self.settings.max_question_chars)

    def search(
        self,
        question: str,
        k: int | None = None,
        filters: SearchFilters | None = None,
        retriever: str | None = None,
    ) -> list[Hit]:
        """The passages that best match ``question``, best first (see :mod:`index.search` for scores).

        ``retriever``: "dense", "bm25" or "hybrid" (default: ``Settings.retriever``)."""
        question = self.check_question(question)
        query = self.embedder.encode([question])[0]
        return self._retrieve(question, query, k, filters, retriever)

    def _retrieve(
        self, question: str, query: np.ndarray, k: int | None, filters: SearchFilters | None, retriever: str | None
    ) -> list[Hit]:
        options = SearchOptions(retriever=retriever or self.settings.retriever)
        return retrieve(self.stored, question, query, k or self.settings.k, filters, options)

    def ask(
        self,
        question: str,
        k: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        outlet: str | None = None,
        retriever: str | None = None,
        as_of: dt.date | None = None,
    ) -> Answer:
        """Answer ``question`` from the articles, citing each claim, or abstain.

        ``as_of``: the day the question is asked ("now" for the question): articles published after it
        are not used, as if it were that day (front ends pass today). ``retriever``: "dense", "bm25" or
        "hybrid" (default: ``Settings.retriever``)."""
        if as_of is not None:
            until = min(until, as_of) if until else as_of
        timings: dict[str, float] = {}
        started = time.perf_counter()
        question = self.check_question(question)
        query = self.embedder.encode([question])[0]
        timings["encode"] = _ms(started)
        mark = time.perf_counter()
        hits = self._retrieve(question, query, k, SearchFilters(since, until, outlet), retriever)
        timings["search"] = _ms(mark)
        mark = time.perf_counter()
        answer = compose_answer(question, hits, self.stored, query, self.settings.abstain_threshold, self.words)
        timings["answer"] = _ms(mark)
        timings["total"] = _ms(started)
        answer.timings_ms = timings
        return answer


def clean_question(question: str, max_chars: int) -> str:
    """The question with control and invisible characters removed and white space folded.

    Raises :class:`QuestionError` when nothing is left or it is longer than ``max_chars``."""
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in question)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QuestionError("the question is empty: ask something, e.g. 'Who leads NATO?'")
    if len(cleaned) > max_chars:
        raise QuestionError(f"the question is {len(cleaned):,} characters long; keep it under {max_chars:,}")
    return cleaned


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000
