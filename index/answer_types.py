"""What kind of fact a question asks for, and whether a sentence holds one.

"How many ..." wants a number, "When ..." a date, "Who ..." a person, "Where ..." a place. A sentence
holds the wanted kind only through a value the question does not already contain: for "How many
soldiers were in Afghanistan in 2021?" the year 2021 is not an answer, 10,000 is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from index.dates import MONTH_NAMES, WEEKDAY_NAMES, YEAR


class AnswerType(Enum):
    ANY = ""
    NUMBER = "number"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"


_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|dozens|half|third|quarter"
)
_NUMBER = re.compile(r"\b\d[\d,.]*\d\b|\b\d\b|\b(?:" + _NUMBER_WORDS + r")\b", re.IGNORECASE)
_YEAR = re.compile(rf"^{YEAR}$")
# Capitalised by convention, not names (index.evidence.unmentioned_names).
CALENDAR_WORDS = frozenset(w.lower() for w in MONTH_NAMES + WEEKDAY_NAMES)
_MONTH = r"(?:" + "|".join(MONTH_NAMES) + r"|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
_DATE = re.compile(
    # "May 1", "May 1, 2015", "May 2021": the day is 1-2 digits standing alone, not the start of a year.
    _MONTH + r"(?:\s+\d{1,2}(?:st|nd|rd|th)?\b)?(?:,?\s+\d{4})?"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH + r"(?:\s+\d{4})?"
    r"|\b" + YEAR + r"(?:s)?\b"
    r"|\b\d{1,2}(?:st|th) century\b"
    r"|\b(?:" + "|".join(WEEKDAY_NAMES) + r")\b"
    r"|\b(?:yesterday|today|tomorrow|(?:last|next|this) (?:week|month|year|spring|summer|autumn|fall|winter))\b"
)
# Two or more capitalised words ("Jens Stoltenberg", "Ashraf Ghani"), or a title and a name.
_NAME = re.compile(
    r"\b(?:President|Chancellor|Secretary|Minister|General|Gen\.|Dr\.|Mr\.|Mrs\.|Ms\.|King|Queen|Pope|Prince|"
    r"Sir|Lord|Saint|St\.)\s+[A-Z][\w'’-]+"
    r"|\b[A-Z][a-z][\w'’-]*(?:\s+(?:[A-Z]\.\s*)?[A-Z][a-z][\w'’-]*)+"
)
# A preposition of place before a capitalised word ("in Qatar", "at NATO headquarters").
_PLACE = re.compile(
    r"\b(?:in|at|from|near|to|into|across|outside|inside|throughout|capital,?)\s+(?:the\s+)?[A-Z][\w'’-]+"
)
_AFTER_MONTH = re.compile(_MONTH + r"\s+$")
_MONTH_IN_TEXT = re.compile(r"\b" + _MONTH)
_PATTERNS = {
    AnswerType.NUMBER: _NUMBER,
    AnswerType.DATE: _DATE,
    AnswerType.PERSON: _NAME,
    AnswerType.PLACE: _PLACE,
}


# The nouns that name a kind of fact in "what/which NOUN" questions ("In what year ...", "Which city
# ..."). The answer's sentence gives an instance of the noun ("in 1995", "in Brussels"), not the noun.
_KIND_NOUNS = {
    AnswerType.NUMBER: ("number", "percentage", "amount"),
    AnswerType.DATE: ("date", "day", "year", "month", "time", "century", "decade"),
    AnswerType.PERSON: ("person", "man", "woman", "leader", "president", "official"),
    AnswerType.PLACE: ("city", "country", "place", "town", "region", "state", "capital"),
}
# ... and the other ways each kind is asked for. Checked in this order: "How many years ..." is a number.
_ASKED_BY = {
    AnswerType.NUMBER: r"\bhow (?:many|much|long|far|old|big|large|high|tall)\b",
    AnswerType.DATE: r"\bwhen\b|\bby what date\b",
    AnswerType.PERSON: r"\bwho(?:m|se)?\b",
    AnswerType.PLACE: r"\bwhere\b",
}
_KIND_NOUN = {
    kind: re.compile(r"\b(?:what|which) (" + "|".join(nouns) + r")s?\b") for kind, nouns in _KIND_NOUNS.items()
}
_ASKING = {kind: re.compile(_ASKED_BY[kind] + "|" + _KIND_NOUN[kind].pattern) for kind in _KIND_NOUNS}


def expected_type(question: str) -> AnswerType:
    """The kind of fact ``question`` asks for (``ANY`` when it does not say)."""
    q = question.lower()
    return next((kind for kind, asking in _ASKING.items() if asking.search(q)), AnswerType.ANY)


def class_noun(question: str, kind: AnswerType | None = None) -> str | None:
    """The noun of a "what/which NOUN" question that names the kind of fact asked for ("year" in "In what
    year did ..."): a sentence holding a value of that kind says it by giving the value. None when the
    question asks for another kind ("How many troops were in which country?" wants a number).

    ``kind``: :func:`expected_type` of ``question`` when already known."""
    kind = expected_type(question) if kind is None else kind
    match = _KIND_NOUN[kind].search(question.lower()) if kind in _KIND_NOUN else None
    return match.group(1) if match else None


@dataclass(frozen=True)
class AskedKind:
    """What kind of fact a question asks for, read once (:func:`asked_kind`)."""

    wanted: AnswerType
    noun: str | None  # :func:`class_noun`: "city" of "In what city ...", else None
    months: frozenset[str]  # :func:`months` the question names: a date answering it must be in them


def asked_kind(question: str) -> AskedKind:
    """The kind of fact ``question`` asks for, the noun that names it and the months it names."""
    wanted = expected_type(question)
    return AskedKind(wanted, class_noun(question, wanted), frozenset(months(question)))


def typed_values_each(sentences: Iterable[str], wanted: AnswerType, question: str = "") -> list[list[str]]:
    """:func:`typed_values` of each sentence (a question's candidates at once: the question is read once)."""
    if wanted not in _PATTERNS:
        return [[] for _ in sentences]
    asked, asked_months = question.casefold(), months(question)
    return [_typed_values(sentence, wanted, asked, asked_months) for sentence in sentences]


def typed_values(sentence: str, wanted: AnswerType, question: str = "") -> list[str]:
    """The values of kind ``wanted`` in ``sentence`` that the question does not already mention."""
    if wanted not in _PATTERNS:
        return []
    return _typed_values(sentence, wanted, question.casefold(), months(question))


def _typed_values(sentence: str, wanted: AnswerType, asked: str, asked_months: set[str]) -> list[str]:
    """:func:`typed_values`, given the question case-folded (``asked``) and the months it names."""
    pattern = _PATTERNS[wanted]
    values = []
    for match in pattern.finditer(sentence):
        value = match.group(0)
        is_year = bool(_YEAR.match(value)) and not _counts_things(sentence, match)
        if wanted is AnswerType.NUMBER and (is_year or _AFTER_MONTH.search(sentence, 0, match.start())):
            continue  # a year or the day of a date answers "when", not "how many"
        if wanted is AnswerType.PERSON and match.start() == 0 and " " not in value:
            continue
        # A place is its name ("in Qatar": Qatar); a person their surname: "Who succeeded Stoltenberg?"
        # is not answered by "Jens Stoltenberg".
        core = value.split()[-1] if wanted in (AnswerType.PLACE, AnswerType.PERSON) else value
        core = core.removesuffix("'s").removesuffix("’s")
        if core.casefold() in asked:
            continue
        if wanted is AnswerType.DATE and asked_months and (months(value) - asked_months):
            continue  # "in August 2021" asks for a day of August: "May 2021" is another time
        values.append(value)
    return values


# Words before a year-like number that make it a year ("in 2000", "the 2016 election").
_YEAR_CUES = frozenset(
    ("the", "in", "of", "since", "by", "from", "until", "till", "to", "before", "after", "during", "early", "late",
     "mid", "around", "circa")
)  # fmt: skip
_NEXT_WORD = re.compile(r"\s+([a-z]+)")
_PREVIOUS_WORD = re.compile(r"([A-Za-z]+)\W*$")


def _counts_things(sentence: str, match: re.Match[str]) -> bool:
    """A year-like number that counts things: "sold 2000 cars" (a plain word follows, no year cue
    precedes), not "in 2000 the mission ended" or "the 2016 elections"."""
    following = _NEXT_WORD.match(sentence, match.end())
    if not following or following.group(1) in _STOP_AFTER_NUMBER:
        return False
    previous = _PREVIOUS_WORD.search(sentence, 0, match.start())
    return not previous or previous.group(1).lower() not in _YEAR_CUES


# Words after a year that say it is one ("2000 and", "2014 when").
_STOP_AFTER_NUMBER = frozenset(
    ("and", "or", "when", "while", "as", "the", "a", "an", "to", "in", "of", "on", "at", "for", "with", "was", "were",
     "is", "are", "had", "has")
)  # fmt: skip


def months(text: str) -> set[str]:
    """The months named in ``text``, as their first three letters ("aug" for "August" or "Aug.")."""
    return {m[:3].lower() for m in _MONTH_IN_TEXT.findall(text)}
