"""The REPL's rendering (bot/render_rich.py)."""

from __future__ import annotations

from rich.console import Console

from bot.render_rich import render_answer
from bot.render_text import NEAREST_LABEL, UNSURE_LABEL
from index import Answer
from tests.bot.test_render_text import ABSTAINED, NEAREST, NEAREST_QUOTE


def rendered(answer: Answer) -> list[str]:
    console = Console(record=True, width=100, color_system=None)
    console.print(render_answer(answer))
    return [line.rstrip() for line in console.export_text().splitlines()]


def test_an_abstention_shows_the_nearest_passage_labelled_before_the_closest_titles() -> None:
    quote, text = NEAREST_QUOTE, ABSTAINED
    lines = rendered(
        Answer("q", text, [], True, closest_matches=["Other title"], missing=["French troops"], nearest=NEAREST)
    )
    assert lines[0] == text
    at = lines.index(NEAREST_LABEL)
    assert lines[at + 1 : at + 3] == [f"    “{quote}”", "    DW · 2014-12-29 · Taliban declare 'defeat' of NATO"]
    assert lines.index("Closest matches:") > at and lines[-1] == "  • Other title"
    assert NEAREST_LABEL not in rendered(Answer("q", text, [], True, closest_matches=["Other title"]))


def test_a_passage_the_model_was_unsure_of_is_labelled_as_perhaps_answering_in_rich() -> None:
    lines = rendered(Answer("q", "The articles I have do not cover this.", [], True, nearest=NEAREST))
    assert UNSURE_LABEL in lines and NEAREST_LABEL not in lines
