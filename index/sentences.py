"""Sentence splitting with character offsets, tuned for news prose.

A sentence ends at ``.``, ``!`` or ``?`` (with any closing quotes or brackets) followed by white space
and a capital, digit or opening quote, unless the word before the stop is a known abbreviation or an
initialism ("U.S.", "Gen.", "J."). Line breaks always end a sentence: in cleaned articles a line is a
paragraph or a heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "gen", "lt", "col", "maj", "capt", "cpt", "sgt",
    "adm", "gov", "sen", "rep", "pres", "rev", "hon", "amb", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "no", "nos", "vs", "etc", "inc", "corp", "ltd", "co",
    "dept", "univ", "approx", "est", "fig", "vol", "e.g", "i.e", "cf", "al", "mt", "ft", "ave", "blvd",
    # US states as AP datelines write them ("ST. PETERSBURG, Fla. (AP) —"); those that are also words
    # ("Ill.", "Wash.", "Miss.", "Ore.") are left out.
    "ala", "ariz", "ark", "calif", "colo", "conn", "fla", "kan", "ky", "md", "mass", "mich", "minn", "mont",
    "neb", "nev", "okla", "tenn", "vt", "va", "wis", "wyo",
}  # fmt: skip

_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_INITIALISM = re.compile(r"(?:\b[A-Za-z]\.)+[A-Za-z]?$")
_LINE = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class Span:
    """A sentence as offsets into the text it came from."""

    start: int
    end: int


def split_sentences(text: str) -> list[Span]:
    """Split ``text`` into sentence spans; stripped of surrounding white space, never empty."""
    spans: list[Span] = []
    for line in _LINE.finditer(text):
        spans.extend(_split_line(text, line.start(), line.end()))
    return spans


def _split_line(text: str, start: int, end: int) -> list[Span]:
    spans: list[Span] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        stop = match.end()
        if _is_abbreviation(text, cursor, match.start()):
            continue
        spans.extend(_strip(text, cursor, stop))
        cursor = stop
    spans.extend(_strip(text, cursor, end))
    return spans


def _is_abbreviation(text: str, sentence_start: int, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word_start = dot
    while word_start > sentence_start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lstrip("\"'“‘([")
    if word.lower() in _ABBREVIATIONS:
        return True
    # "U.S", "J" (an initial), "a.m" - but not a lone digit or a real word.
    return bool(_INITIALISM.search(word + ".")) and len(word.replace(".", "")) <= 3 and word[:1].isalpha()


def _strip(text: str, start: int, end: int) -> list[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [Span(start, end)] if end > start else []


def is_heading(sentence: str) -> bool:
    """A line with no closing punctuation: a title, section heading or caption, not a claim."""
    stripped = sentence.rstrip("\"'”’)] ")
    return not stripped or stripped[-1] not in ".!?:;"
