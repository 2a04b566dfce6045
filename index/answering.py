"""From retrieved chunks to an :class:`Answer`: the sentences that answer, each cited.

Every ``[n]`` marker in the answer text is produced from the same list that becomes the citations,
so a marker can only point at a listed source, and a source is listed only when a marker cites it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.embedding import Embedder
from index.records import Answer, Citation, Hit
from index.sentences import is_heading, split_sentences
from index.store import StoredIndex

ABSTAIN_TEXT = "The articles I have do not cover this."
_WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")
_STOPWORDS = frozenset(
    """a an the of to in on at for by with from and or but is are was were be been being do does did has have
    had what which who whom whose when where why how many much will would shall should can could may might
    it its this that these those there their they them he she his her i you we our us not no as about into
    than then so if any all some tell me say said""".split()  # noqa: SIM905 - a word list reads better so
)


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved chunk, with absolute offsets into its article."""

    article_id: str
    start: int
    end: int
    text: str
    hit: Hit


def content_words(text: str) -> set[str]:
    return {w.lower().strip("'’") for w in _WORD.findall(text)} - _STOPWORDS


def candidate_sentences(hits: list[Hit]) -> list[Candidate]:
    """Sentences of the hits, each once (overlapping chunks share sentences), headings left out."""
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    for hit in hits:
        chunk = hit.chunk
        for span in split_sentences(chunk.text):
            text = chunk.text[span.start : span.end]
            key = (chunk.article_id, chunk.start + span.start)
            if key in seen or is_heading(text):
                continue
            seen.add(key)
            out.append(Candidate(chunk.article_id, key[1], chunk.start + span.end, text, hit))
    return out


def compose_answer(
    question: str,
    hits: list[Hit],
    stored: StoredIndex,
    embedder: Embedder,
    query_vector: np.ndarray,
    abstain_threshold: float,
    max_sentences: int = 2,
) -> Answer:
    """The best sentences of ``hits`` as a cited answer, or an abstention when evidence is weak."""
    if not hits or hits[0].score < abstain_threshold:
        return abstention(question, hits, stored)
    candidates = candidate_sentences(hits)
    if not candidates:
        return abstention(question, hits, stored)
    vectors = embedder.encode([c.text for c in candidates])
    similarity = vectors @ query_vector.reshape(-1)
    q_words = content_words(question)
    wanted = expected_type(question)
    scores = [
        float(sim) + 0.15 * _overlap(q_words, c.text) + 0.1 * c.hit.score + 0.12 * has_type(c.text, wanted)
        for sim, c in zip(similarity, candidates, strict=True)
    ]
    order = sorted(range(len(candidates)), key=lambda i: -scores[i])
    chosen = [order[0]] + [i for i in order[1:max_sentences] if scores[i] >= scores[order[0]] - 0.05]
    return cite(question, [candidates[i] for i in chosen], [scores[i] for i in chosen], stored)


_NUMBER = re.compile(
    r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?|millions?)\b",
    re.I,
)
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_DATE = re.compile(
    _MONTH + r"|\b(?:1[89]|20)\d\d\b|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
    r"|\b(?:yesterday|today|tomorrow|last (?:week|month|year)|next (?:week|month|year))\b"
)
_NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+(?: [A-Z][a-z]+)+")
_PLACE = re.compile(r"\b(?:in|at|from|to|near) (?:the )?[A-Z][a-z]+")


def expected_type(question: str) -> str:
    """What kind of fact the question asks for: number, date, person, place, or '' (anything)."""
    q = question.lower()
    if re.search(r"\bhow (?:many|much|long|far|old)\b|\bwhat (?:number|percentage|share)\b", q):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (?:date|day|year|month|time)\b|\bby what date\b", q):
        return "date"
    if re.search(r"\bwho(?:m|se)?\b", q):
        return "person"
    if re.search(r"\bwhere\b|\bwhich (?:city|country|place)\b", q):
        return "place"
    return ""


def has_type(sentence: str, wanted: str) -> float:
    """1.0 when ``sentence`` holds the kind of fact the question asks for."""
    pattern = {"number": _NUMBER, "date": _DATE, "person": _NAME, "place": _PLACE}.get(wanted)
    return 1.0 if pattern is not None and pattern.search(sentence) else 0.0


def _overlap(q_words: set[str], sentence: str) -> float:
    if not q_words:
        return 0.0
    return len(q_words & content_words(sentence)) / len(q_words)


def cite(question: str, sentences: list[Candidate], scores: list[float], stored: StoredIndex) -> Answer:
    """Number the articles of ``sentences`` in order of first use and build text and citations together."""
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    for candidate, score in zip(sentences, scores, strict=True):
        if candidate.article_id not in numbers:
            numbers[candidate.article_id] = len(numbers) + 1
            article = stored.articles[candidate.article_id]
            chunk = candidate.hit.chunk
            citations.append(
                Citation(
                    number=numbers[candidate.article_id],
                    doc_id=article.id,
                    title=article.title,
                    outlet=article.outlet,
                    date=article.date_iso,
                    url=article.url,
                    passage=chunk.text,
                    quote=candidate.text,
                    score=round(score, 4),
                    start=chunk.start,
                    end=chunk.end,
                )
            )
        parts.append(f"{candidate.text} [{numbers[candidate.article_id]}]")
    return Answer(question=question, text=" ".join(parts), citations=citations, abstained=False)


def abstention(question: str, hits: list[Hit], stored: StoredIndex, limit: int = 3) -> Answer:
    titles: list[str] = []
    for hit in hits:
        title = stored.articles[hit.chunk.article_id].title
        if title not in titles:
            titles.append(title)
    return Answer(question, ABSTAIN_TEXT, [], abstained=True, closest_matches=titles[:limit])
