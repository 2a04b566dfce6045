"""The library entry point: open (or build) the index for a corpus and answer questions from it."""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from index.answer_model import load_answer_model
from index.answering import compose_answer
from index.builder import BuildReport, open_index
from index.candidates import read_ahead
from index.embedding import (
    DocumentEmbedder,
    Embedder,
    make_embedder,
    make_query_embedder,
    serving_query_embedder,
    start_encoding,
)
from index.errors import QuestionError
from index.query_analysis import RECENT_DAYS, QueryAnalysis, analyse_question
from index.records import Answer, Article, Hit
from index.search import LexicalSide, SearchFilters, SearchOptions, read_lexical, retrieve
from index.settings import Settings, load_settings
from index.store import StoredIndex
from index.watch import CorpusChange, CorpusWatcher
from index.word_vectors import WordVectors

_Method = TypeVar("_Method", bound=Callable[..., Any])
# BM25's best chunks whose texts are tokenised ahead while the question is embedded (at most: it stops when the
# vector is ready, or when no core is spare, _cores_busy). Work beside the encoder slows it when the two threads
# share a core. Race ratios in turns with c446453 (1.58-1.59 x quiet, 1.61 x beside a busy loop on one core):
# 3 chunks 1.48 x quiet, 1.61-1.62 x busy; 10 chunks 1.43-1.60 x quiet, 1.72-1.80 x busy; 10 chunks while a
# core is spare 1.41-1.42 x quiet, 1.60-1.62 x busy. Of the texts tokenised ahead for 220 Reuters headline
# questions, 89% were then a candidate's with 3 chunks, 54% with 10.
READ_AHEAD = 10


def _one_generation(method: _Method) -> _Method:
    """Pin the index generation in use for the whole call, so that a refresh that switches generations
    mid-question cannot mix two of them (hits from one, articles from the other)."""

    @functools.wraps(method)
    def pinned(self: Newsdesk, *args: Any, **kwargs: Any) -> Any:
        if getattr(self._pinned, "stored", None) is not None:
            return method(self, *args, **kwargs)
        self._pinned.stored = self._stored
        try:
            return method(self, *args, **kwargs)
        finally:
            self._pinned.stored = None

    return pinned  # type: ignore[return-value]


class Newsdesk:
    """Questions in, cited answers out. Thread-safe for concurrent :meth:`ask` calls.

    >>> desk = Newsdesk.open()                       # the bundled corpus, index built if needed
    >>> desk.ask("How many German troops will be deployed?").text
    """

    def __init__(self, settings: Settings, embedder: Embedder, stored: StoredIndex, report: BuildReport) -> None:
        self.settings = settings
        self.embedder = embedder
        # The generation in use can be replaced while questions are answered (refresh, watch); each
        # question reads one generation from start to end (see _one_generation).
        self._pinned = threading.local()
        self._swap_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._stored = stored
        self.build_report = report
        self.words = WordVectors(embedder.encode)
        self._use_stored_words(stored)
        # None: the hand-weighted rules of 093e210 (settings.answerer = "rules"), the benchmarks' baseline.
        self.answer_model = load_answer_model() if settings.answerer == "learned" else None

    @property
    def stored(self) -> StoredIndex:
        """The index generation in use (the one pinned by the question being answered on this thread)."""
        pinned: StoredIndex | None = getattr(self._pinned, "stored", None)
        return pinned if pinned is not None else self._stored

    def refresh(self) -> BuildReport:
        """Bring the index in line with the corpus folder (only new or changed articles are embedded) and
        switch to the new generation. Questions being answered finish on the generation they started on;
        the next ones use the new one. One refresh at a time; safe to call from any thread."""
        with self._refresh_lock:
            # The generation in use was checked when it was read: an update reuses it unread.
            stored, report = open_index(
                self.settings, self._documents, wait_for_build=True, held=self._stored, words=self.embedder
            )
            with self._swap_lock:
                self._stored = stored
                self.build_report = report
                self._use_stored_words(stored)
            return report

    def _use_stored_words(self, stored: StoredIndex) -> None:
        """Look words up in the generation's stored vectors when this process's question encoder made them
        (the same vectors it would compute); else embed them as questions need them."""
        describe = getattr(self.embedder, "describe", None)
        made_here = stored.words is not None and describe is not None and stored.words.encoder == describe()
        self.words.stored = stored.words if made_here else None

    @functools.cached_property
    def _documents(self) -> DocumentEmbedder:
        """What embeds documents for :meth:`refresh`: the encoder the settings name (index.embedding)."""
        settings = self.settings
        return make_embedder(settings.model, settings.document_backend, settings.resolved_encoder_cache_dir())

    def watch(self, on_update: Callable[[BuildReport, CorpusChange], object] | None = None) -> CorpusWatcher:
        """Start keeping the index fresh in the background: every change to the corpus folder triggers
        :meth:`refresh`, then ``on_update(report, change)``. Returns the started watcher (``.stop()`` it)."""

        def refresh(change: CorpusChange) -> None:
            report = self.refresh()
            if on_update is not None:
                on_update(report, change)

        return CorpusWatcher(self.settings.corpus_dir, refresh, self.settings.watch_settle_ms).start()

    def chunk_counts(self) -> dict[str, int]:
        """How many chunks each indexed article has, by article id."""
        counts: dict[str, int] = {}
        for chunk in self.stored.chunks:
            counts[chunk.article_id] = counts.get(chunk.article_id, 0) + 1
        return counts

    @classmethod
    def open(cls, settings: Settings | None = None, rebuild: bool = False, wait_for_build: bool = False) -> Newsdesk:
        """``wait_for_build``: when another process is updating the index, wait for it and update, rather
        than answer from the previous index."""
        settings = settings or load_settings()
        embedder = make_embedder(settings.model, settings.document_backend, settings.resolved_encoder_cache_dir())
        # Questions go through the documents' OpenVINO encoder (openvino-fp32) or else the fast-starting
        # onnxruntime session of the model's export when one is installed (index.embedding), with
        # settings.query_threads threads; the corpus's words are made at index time to its values
        # (index.word_vectors.StoredWords).
        queries = make_query_embedder(
            settings.model, settings.query_backend, documents=embedder, threads=settings.query_threads
        )
        if settings.ray_address:
            # Builds embed on a Ray cluster (index.ray_embedding); questions are still embedded here.
            from index.ray_embedding import ray_embedder

            distributed = ray_embedder(embedder, settings.ray_address, settings.show_progress)
            try:
                stored, report = open_index(
                    settings, distributed, rebuild=rebuild, wait_for_build=wait_for_build, words=queries
                )
            finally:
                distributed.close()
        else:
            stored, report = open_index(
                settings, embedder, rebuild=rebuild, wait_for_build=wait_for_build, words=queries
            )
        queries = serving_query_embedder(queries, settings.model, settings.query_backend, settings.query_threads)
        return cls(settings, queries, stored, report)

    def sources(self) -> list[Article]:
        """The indexed articles, newest first."""
        return sorted(self.stored.articles.values(), key=lambda a: (a.date or dt.date.min, a.id), reverse=True)

    def check_question(self, question: str) -> str:
        return clean_question(question, self.settings.max_question_chars)

    @_one_generation
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
        k = k or self.settings.k
        options = SearchOptions(retriever=retriever or self.settings.retriever)
        pending = start_encoding(self.embedder, question)
        # BM25 scores the question while it is embedded (see ask).
        lexical, query = pending.after(lambda: read_lexical(self.stored, question, k, filters, options))
        return retrieve(self.stored, question, query, k, filters, options, lexical=lexical)

    @_one_generation
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
        filters = SearchFilters(since, until, outlet)
        options = SearchOptions(retriever=retriever or self.settings.retriever)
        k = k or self.settings.k
        # The question is read (analysis, BM25, likely candidates) while it is embedded when the encoder runs on
        # its own thread (OpenVINO, which holds no Python lock meanwhile: ~1 ms of a ~3 ms encode, hidden); else
        # after.
        pending = start_encoding(self.embedder, question)

        def read_beside() -> _Reading | None:
            if not pending.apart:
                return None
            beside = time.perf_counter()
            reading = self._read(question, as_of, k, filters, options, until=pending.done)
            timings["beside_encode"] = _ms(beside)
            return reading

        reading, query = pending.after(read_beside)
        # "encode": from the question to its vector (with the reading above inside it when it ran beside);
        # "search": from the vector to the hits (with the reading when it could not run beside the encoder).
        timings["encode"] = _ms(started)
        mark = time.perf_counter()
        if reading is None:
            reading = self._read(question, as_of, k, filters, options)
        analysis = reading.analysis
        hits = retrieve(self.stored, question, query, k, filters, options, analysis.terms, reading.lexical)
        timings["search"] = _ms(mark)
        mark = time.perf_counter()
        answer = compose_answer(
            analysis, hits, self.stored, query, self.words, self.answer_model, self.settings.abstain_threshold
        )
        timings["answer"] = _ms(mark)
        timings["total"] = _ms(started)
        answer.timings_ms = timings
        return answer

    def _read(
        self, question: str, as_of: dt.date | None, k: int, filters: SearchFilters, options: SearchOptions,
        until: Callable[[], bool] | None = None,
    ) -> _Reading:  # fmt: skip
        """What answering reads of the question without its vector. ``until``: the question is being embedded
        and this says when its vector is ready; till then, the texts of BM25's best chunks (likely hits) are
        tokenised ahead for the answer stage (index.candidates.read_ahead)."""
        stored = self.stored
        analysis = analyse_question(question, stored.lexical, as_of, question_now(stored, as_of, filters))
        lexical = read_lexical(stored, question, k, filters, options, analysis.terms)
        if until is not None:
            read_ahead(analysis, lexical.top[:READ_AHEAD], stored, lambda: until() or _cores_busy())
        return _Reading(analysis, lexical)


def question_now(stored: StoredIndex, as_of: dt.date | None, filters: SearchFilters | None = None) -> dt.date | None:
    """The day a question's "now" is ("latest", "this week", "on Tuesday"): the day asked, or the newest
    article's date when the articles the question may use (``filters``: an outlet, an until date) end more than
    RECENT_DAYS before it. An archive that ends in 2021, asked in 2026, is read as of its last days: "what did
    NATO agree on Wednesday?" is its Wednesday, and "latest" its newest article, as a reader of that archive
    means them. None: no day given (no question is about now)."""
    if as_of is None:
        return None
    until = min(as_of, filters.until) if filters and filters.until else as_of
    if filters and filters.exclude:  # the benchmarks' near misses: read the articles themselves
        allowed = replace(filters, until=until)
        newest = max((a.date for a in stored.articles.values() if a.date and allowed.allows(a)), default=None)
    else:
        newest = stored.newest_date(until, filters.outlet if filters else None)
    return newest if newest is not None and (as_of - newest).days > RECENT_DAYS else as_of


@dataclass(frozen=True)
class _Reading:
    analysis: QueryAnalysis
    lexical: LexicalSide


@functools.cache
def _cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _cores_busy() -> bool:
    """Whether more threads are runnable right now than this process has cores (Linux's count, in /proc/loadavg,
    includes this thread and the encoder's): then reading ahead would take the encoder's core, not a spare one.
    False where the count cannot be read. The count is the machine's (in most containers, the host's) while the
    cores are this process's: on a shared host the reading ahead may stop more often than it needs to, or run
    under a CPU quota when no core is spare. Only speed depends on it: the answers are the same either way."""
    try:
        with open("/proc/loadavg", "rb") as counts:
            running = int(counts.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return False
    return running > _cores()


# CSI sequences (colours, cursor moves) and two-character escapes, as terminals emit them.
ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")


def clean_question(question: str, max_chars: int) -> str:
    """The question with control and invisible characters removed and white space folded.

    Raises :class:`QuestionError` when nothing is left or it is longer than ``max_chars``."""
    # A terminal colour or cursor code pasted with the question ("\x1b[31m") goes whole: dropping only its
    # escape character would leave "[31m" behind as a word the articles lack.
    question = ANSI_ESCAPE.sub(" ", question)
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in question)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QuestionError("the question is empty: ask something, e.g. 'Who leads NATO?'")
    if len(cleaned) > max_chars:
        raise QuestionError(f"the question is {len(cleaned):,} characters long; keep it under {max_chars:,}")
    return cleaned


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000
