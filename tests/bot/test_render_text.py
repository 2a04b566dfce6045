"""render_text's line wrapping: its fast path gives textwrap's lines, on real answer texts and edge cases."""

from __future__ import annotations

import textwrap

from bot.render_text import wrap
from index.loading import load_corpus
from index.settings import BUNDLED_CORPUS
from tests.conftest import NEWS_DIR

EDGES = [
    "", " ", "a", "one two", " leading space", "trailing space ", "two  spaces", "tab\there", "line\nbreak",
    "a well-known hyphen", "an em--dash", "x" * 120, "word " * 40, "“Quoted” words, with punctuation; and more.",
    "non\u00a0breaking\u00a0spaces count as letters " * 5, "İstanbul ß straße " * 9,
]  # fmt: skip


def texts() -> list[str]:
    articles = [*load_corpus(NEWS_DIR).articles, *load_corpus(BUNDLED_CORPUS).articles]
    sentences = [s.strip() for a in articles for s in a.text.replace("\n", " ").split(". ")]
    # Answer-length texts: one to four sentences, as an answer's text or a quote is.
    joined = [" ".join(sentences[n : n + size]) for size in (1, 2, 4) for n in range(0, len(sentences), size)]
    return [*joined, *(a.title for a in articles), *EDGES]


def test_wrap_gives_textwrap_lines() -> None:
    fast = 0
    for text in texts():
        for width in (1, 5, 20, 40, 96, 100):
            assert wrap(text, width) == textwrap.wrap(text, width), (width, text[:80])
            words = text.split(" ")
            fast += all(words) and "-" not in text and max(map(len, words)) <= width
    assert fast > 100  # the fast path was taken, not only textwrap's
