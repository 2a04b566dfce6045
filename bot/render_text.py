"""Plain-text rendering of an answer, for terminals, pipes and reports."""

from __future__ import annotations

import textwrap

from bot.quoting import in_quotes
from index import Answer, Article, Citation


def article_head(article: Article) -> str:
    """``2014-12-29 · DW``: what every list of articles (CLI, REPL, Discord) shows before the title."""
    return f"{article.date_iso or 'undated'} · {article.outlet or 'unknown outlet'}"


def article_line(article: Article) -> str:
    """``2014-12-29 · DW · Taliban declare 'defeat' of NATO``"""
    return f"{article_head(article)} · {article.title}"


def source_line(citation: Citation) -> str:
    """``[1] DW · 2014-12-29 · Taliban declare 'defeat' of NATO``"""
    return f"[{citation.number}] " + citation_head(citation)


def citation_head(citation: Citation) -> str:
    """``DW · 2014-12-29 · Taliban declare 'defeat' of NATO``"""
    return " · ".join(p for p in (citation.outlet, citation.date, citation.title) if p)


# Over the passage an abstention shows: what the articles say closest to the question, not an answer. When
# the question names what the articles lack, it does not answer; else the model was not sure enough of it.
NEAREST_LABEL = "Nearest passage (it does not answer the question):"
UNSURE_LABEL = "Closest passage (it may not answer the question):"


def nearest_label(answer: Answer) -> str:
    """The label over an abstention's nearest passage."""
    return NEAREST_LABEL if answer.missing else UNSURE_LABEL


# What textwrap treats as white space and as a place to break besides it (hyphens).
_TEXTWRAP_SPECIAL = frozenset("\t\n\x0b\x0c\r-")


def wrap(text: str, width: int) -> list[str]:
    """``textwrap.wrap(text, width)``, line for line. Most answers are words with one space between them,
    none with a hyphen, none longer than a line: those are filled greedily here, in a fraction of textwrap's
    time (its chunking regex and general loop were most of rendering an answer); anything else goes to
    textwrap (tests/bot/test_render_text.py holds the two to the same lines)."""
    words = text.split(" ")
    if width <= 0 or not all(words) or _TEXTWRAP_SPECIAL.intersection(text) or max(map(len, words)) > width:
        return textwrap.wrap(text, width)
    lines: list[str] = []
    line: list[str] = []
    filled = -1  # the line's length with a space before its next word
    for word in words:
        if line and filled + 1 + len(word) > width:
            lines.append(" ".join(line))
            line, filled = [], -1
        line.append(word)
        filled += 1 + len(word)
    lines.append(" ".join(line))
    return lines


def render_text(answer: Answer, width: int = 100) -> str:
    lines = wrap(answer.text, width) or [""]
    if answer.abstained:
        if answer.nearest is not None:
            lines += ["", nearest_label(answer)]
            lines += [f"    {q}" for q in wrap(in_quotes(answer.nearest.quote), width - 4)]
            lines.append(f"    {citation_head(answer.nearest)}")
        if answer.closest_matches:
            lines += ["", "Closest matches:"] + [f"  - {title}" for title in answer.closest_matches]
        return "\n".join(lines)
    lines += ["", "Sources:"]
    for citation in answer.citations:
        lines.append(source_line(citation))
        if citation.url:
            lines.append(f"    {citation.url}")
        quote = wrap(in_quotes(citation.quote), width - 4)
        lines += [f"    {q}" for q in quote]
    return "\n".join(lines)
