"""One reading of a question, made once and passed to every stage that needs it.

Retrieval, sentence scoring, the answer model and abstention all ask the same things of a question:
its BM25 terms and how rare each is in the corpus, the kind of fact it wants ("how many" -> a number),
the noun of "which city", the years and months it names, the names and numbers it mentions (which an
answering article must mention too), and whether it asks about "now" ("latest", "this week", "current").
:func:`analyse_question` works them out once; no later stage tokenises the question again.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from index.answer_types import CALENDAR_WORDS, AnswerType, class_noun, expected_type, months
from index.dates import years
from index.lexical import LexicalIndex, tokenize

# Words as names are written (hyphens and apostrophes kept: "al-Qaeda", "O'Brien"; "9/11" -> "9", "11").
NAME_WORD = re.compile(r"[\w'’-]+")
# Plain words: letters, with an inner apostrophe ("don't"), no digits.
PLAIN_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# Words that tie a question to the time it is asked: answers should come from the newest articles.
_NOW = re.compile(
    r"\b(?:now|currently|current|latest|recent(?:ly)?|newest|today|yesterday|tonight|so far|to date|"
    r"this (?:week|month|year|weekend|morning|season)|last (?:week|month|weekend)|"
    r"(?:in|during|over) the past (?:week|month|few days))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class QueryAnalysis:
    """What a question asks, read once (:func:`analyse_question`)."""

    text: str
    terms: tuple[str, ...]  # distinct BM25 tokens (stemmed, stop words dropped), in order
    weights: dict[str, float]  # IDF of each term in the corpus (unknown terms: the highest)
    wanted: AnswerType  # the kind of fact asked for
    noun: str | None  # "city" of "In what city ...", else None
    noun_terms: frozenset[str]  # its BM25 tokens
    years: frozenset[int]
    months: frozenset[str]  # first three letters, lower case
    names: tuple[str, ...]  # capitalised words after the first (month and weekday names left out)
    numbers: tuple[str, ...]  # words starting with a digit
    plain_words: dict[str, str] = field(default_factory=dict)  # lower-case content words by their term
    about_now: bool = False  # "latest", "this week", "current": prefers articles just before as_of
    as_of: dt.date | None = None

    @property
    def total_weight(self) -> float:
        return sum(self.weights.values()) or 1.0


def _names_and_numbers(question: str) -> list[str]:
    words = [w for w in NAME_WORD.findall(question)[1:] if w.lower() not in CALENDAR_WORDS]
    return [w for w in words if w[:1].isupper() or w[:1].isdigit()]


def analyse_question(question: str, lexical: LexicalIndex | None = None, as_of: dt.date | None = None) -> QueryAnalysis:
    """Read ``question`` once. ``lexical``: the corpus's BM25 index, for term rarity (without it every
    term weighs 1)."""
    terms = tuple(dict.fromkeys(tokenize(question)))
    weights = lexical.term_idf(terms) if lexical is not None else dict.fromkeys(terms, 1.0)
    wanted = expected_type(question)
    noun = class_noun(question, wanted)
    named = _names_and_numbers(question)
    return QueryAnalysis(
        text=question,
        terms=terms,
        weights=weights,
        wanted=wanted,
        noun=noun,
        noun_terms=frozenset(tokenize(noun)) if noun else frozenset(),
        years=frozenset(years(question)),
        months=frozenset(months(question)),
        names=tuple(w for w in named if not w[:1].isdigit()),
        numbers=tuple(w for w in named if w[:1].isdigit()),
        plain_words=_plain_words(question, weights),
        about_now=bool(_NOW.search(question)),
        as_of=as_of,
    )


def _plain_words(question: str, weights: dict[str, float]) -> dict[str, str]:
    """The question's lower-case content words, by their BM25 term (names are left out: they must be
    found as written)."""
    out: dict[str, str] = {}
    for n, word in enumerate(PLAIN_WORD.findall(question)):
        if n and word[:1].isupper():
            continue
        for term in tokenize(word):
            if term in weights:
                out.setdefault(term, word.lower())
    return out
