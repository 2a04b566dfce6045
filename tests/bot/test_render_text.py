"""render_text's line wrapping: its fast path gives textwrap's lines, on real answer texts and edge cases."""

from __future__ import annotations

import textwrap

from bot.render_text import NEAREST_LABEL, UNSURE_LABEL, render_text, wrap
from index import Answer, Citation
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


# An abstention's text and nearest passage, as Newsdesk gives them (also tests/bot/test_render_rich.py).
ABSTAINED = "The articles I have do not cover this. They say nothing about French troops."
NEAREST_QUOTE = "Up to 850 German troops will also be deployed."
NEAREST = Citation(
    number=0, doc_id="d1", title="Taliban declare 'defeat' of NATO", outlet="DW", date="2014-12-29", url="",
    passage=NEAREST_QUOTE, quote=NEAREST_QUOTE, score=0.01, start=0, end=len(NEAREST_QUOTE),
)  # fmt: skip


def test_an_abstention_shows_the_nearest_passage_labelled_then_the_closest_titles() -> None:
    text = ABSTAINED
    answer = Answer("q", text, [], True, closest_matches=["T1"], missing=["French troops"], nearest=NEAREST)
    lines = render_text(answer).splitlines()
    label = lines.index(NEAREST_LABEL)
    assert lines[label + 1 : label + 3] == [
        "    “Up to 850 German troops will also be deployed.”",
        "    DW · 2014-12-29 · Taliban declare 'defeat' of NATO",
    ]
    assert lines.index("Closest matches:") > label and "Sources:" not in lines  # not an answer's source
    assert NEAREST_LABEL not in render_text(Answer("q", text, [], True, closest_matches=["T1"]))


def test_a_passage_the_model_was_unsure_of_is_labelled_as_perhaps_answering() -> None:
    # Nothing the question names is missing: the passage may well answer, the model was not sure enough.
    answer = Answer("q", "The articles I have do not cover this.", [], True, closest_matches=["T1"], nearest=NEAREST)
    lines = render_text(answer).splitlines()
    assert UNSURE_LABEL in lines and NEAREST_LABEL not in lines
    assert lines[lines.index(UNSURE_LABEL) + 1] == "    “Up to 850 German troops will also be deployed.”"
