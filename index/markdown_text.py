"""Markdown to the plain text a reader sees, with markdown-it-py: no ``**``, no ``[text](url)``, no ``#``.

Blocks (headings, paragraphs, list items, quotes, code) become paragraphs separated by a blank line; line
breaks inside a paragraph are kept, so :mod:`index.paragraphs` can decide whether the text is hard-wrapped.
The first heading is returned apart: it is the article's title when it opens the document or is the only
top-level heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from index.paragraphs import is_hard_wrapped, unwrap_paragraphs

# Indented code blocks are off: in news files an indented line is a wire paragraph, never code.
_PARSER = MarkdownIt("commonmark").disable("code")


@dataclass
class MarkdownText:
    text: str
    # The first heading when it is the document's title (opens it, or is its one '#' heading), else "".
    title: str = ""
    paragraphs: list[str] = field(default_factory=list)


def markdown_to_text(source: str) -> MarkdownText:
    # Hard-wrapped markdown (wire copy saved as .md) is joined first: markdown drops the indentation that
    # marks its paragraphs.
    if is_hard_wrapped(source):
        source = unwrap_paragraphs(source)
    tokens = _PARSER.parse(source)
    paragraphs: list[str] = []
    headings: list[tuple[int, str, int]] = []  # (level, text, paragraph position)
    for i, token in enumerate(tokens):
        if token.type == "inline":
            text = _inline_text(token.children or []).strip()
            if not text:
                continue
            opener = tokens[i - 1] if i else None
            if opener is not None and opener.type == "heading_open":
                headings.append((int(opener.tag[1]), text, len(paragraphs)))
            paragraphs.append(text)
        elif token.type in ("fence", "code_block") and token.content.strip():
            paragraphs.append(token.content.strip("\n"))
        elif token.type == "html_block":
            text = re.sub(r"<[^>]+>", " ", token.content).strip()
            if text:
                paragraphs.append(text)
    return MarkdownText("\n\n".join(paragraphs), _title(headings), paragraphs)


def _title(headings: list[tuple[int, str, int]]) -> str:
    if not headings:
        return ""
    level, text, position = headings[0]
    top_level = [h for h in headings if h[0] == 1]
    if position == 0 or (level == 1 and len(top_level) == 1):
        return text
    return ""


def _inline_text(children: list[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        # Emphasis, links and raw inline HTML keep only their text; images are not text.
    return "".join(parts)
