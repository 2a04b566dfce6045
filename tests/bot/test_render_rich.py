"""The REPL's rendering (bot/render_rich.py)."""

from __future__ import annotations

from rich.console import Console

from bot.render_rich import render_answer
from bot.render_text import NEAREST_LABEL
from index import Answer, Citation


def rendered(answer: Answer) -> list[str]:
    console = Console(record=True, width=100, color_system=None)
    console.print(render_answer(answer))
    return [line.rstrip() for line in console.export_text().splitlines()]


def test_an_abstention_shows_the_nearest_passage_labelled_before_the_closest_titles() -> None:
    quote = "Up to 850 German troops will also be deployed."
    nearest = Citation(
        number=0, doc_id="d1", title="Taliban declare 'defeat' of NATO", outlet="DW", date="2014-12-29", url="",
        passage=quote, quote=quote, score=0.01, start=0, end=len(quote),
    )  # fmt: skip
    text = "The articles I have do not cover this. They say nothing about French troops."
    lines = rendered(Answer("q", text, [], True, closest_matches=["Other title"], nearest=nearest))
    assert lines[0] == text
    at = lines.index(NEAREST_LABEL)
    assert lines[at + 1 : at + 3] == [f"    “{quote}”", "    DW · 2014-12-29 · Taliban declare 'defeat' of NATO"]
    assert lines.index("Closest matches:") > at and lines[-1] == "  • Other title"
    assert NEAREST_LABEL not in rendered(Answer("q", text, [], True, closest_matches=["Other title"]))
