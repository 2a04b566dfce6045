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
    parts = [p for p in (citation.outlet, citation.date, citation.title) if p]
    return f"[{citation.number}] " + " · ".join(parts)


def render_text(answer: Answer, width: int = 100) -> str:
    lines = textwrap.wrap(answer.text, width) or [""]
    if answer.abstained:
        if answer.closest_matches:
            lines += ["", "Closest matches:"] + [f"  - {title}" for title in answer.closest_matches]
        return "\n".join(lines)
    lines += ["", "Sources:"]
    for citation in answer.citations:
        lines.append(source_line(citation))
        if citation.url:
            lines.append(f"    {citation.url}")
        quote = textwrap.wrap(in_quotes(citation.quote), width - 4)
        lines += [f"    {q}" for q in quote]
    return "\n".join(lines)
