"""The typed records that flow through Newsdesk: Article -> Chunk -> Hit -> Answer with Citations."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One cleaned news article. ``text`` is the cleaned body; chunk offsets point into it."""

    id: str
    title: str
    text: str
    outlet: str = ""
    date: dt.date | None = None
    url: str = ""
    source_path: str = ""
    # Who wrote it, when the file says so (front matter, JSON field, page metadata or a "By ..." line).
    byline: str = ""

    @property
    def date_iso(self) -> str:
        return self.date.isoformat() if self.date else ""

    def from_outlet(self, asked: str) -> bool:
        """Whether it passes the outlet filter ``asked``: a case-blind part of its outlet's name."""
        return asked.casefold() in self.outlet.casefold()


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one article; ``text == article.text[start:end]``."""

    article_id: str
    ordinal: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Hit:
    """A chunk returned by retrieval with its score (higher is better) and its rank (0 is best)."""

    chunk: Chunk
    score: float
    rank: int
    dense_score: float | None = None
    bm25_score: float | None = None


@dataclass(frozen=True)
class Citation:
    """A source of an answer: the article and the passage that supports the claim."""

    number: int
    doc_id: str
    title: str
    outlet: str
    date: str
    url: str
    passage: str
    quote: str
    score: float
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """What Newsdesk replies: answer text with ``[n]`` markers, each pointing at ``citations[n-1]``."""

    question: str
    text: str
    citations: list[Citation]
    abstained: bool
    closest_matches: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    # What the question names that no retrieved article mentions ("French troops"), when abstaining.
    missing: list[str] = field(default_factory=list)
    # When abstaining: the sentence that came closest, never as a claim: labelled as not answering when the
    # question names what the articles lack (``missing``), else as perhaps answering, the model being unsure
    # (None when it shares no term with the question, or when nothing was retrieved).
    nearest: Citation | None = None
    # The answer model's probability that the answer is right (None: no model, nothing retrieved, or an overview).
    confidence: float | None = None
    # An overview ("Tell me about X"): the first sentences of the closest articles, not one answer.
    overview: bool = False

    def to_json(self) -> dict[str, Any]:
        """The stable ``--json`` object (documented in README, "JSON output")."""
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "overview": self.overview,
            "citations": [c.to_json() for c in self.citations],
            "closest_matches": list(self.closest_matches),
            "missing": list(self.missing),
            "nearest": self.nearest.to_json() if self.nearest is not None else None,
            "confidence": self.confidence,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
