"""Reading a short message against the previous turn: what kind of follow-up it is, and what it asks.

General rules of English questions, not of any corpus:

- :func:`asks_for_speaker`: "who said that?", "who told reporters this?", "and who wrote it?": a
  question word ``who`` with a speech verb, about what was just quoted.
- :func:`new_subject` and :func:`substitute_subject`: "what about X?" (or "how about X?", "and X?")
  asks the previous question again with X in place of its subject. The subject of "WH AUX SUBJECT VERB
  ..." ("What did NATO's secretary-general say ...", "When will the alliance leave ...") is the noun
  phrase after the auxiliary; with no auxiliary ("How many German troops will ...", "Who leads NATO?")
  it is the first name in the question. Where none is found the caller falls back to asking the two
  messages together.
- :func:`is_question_like`: whether a message can be a question at all; a stray word ("clear") cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index import overview_subject

_SPEECH = (
    r"said|says|say|told|tells|tell|announced|stated|wrote|tweeted|claimed|declared|warned|added|meant|"
    r"mean|quoted|spoke|speaks|saying|telling|stating|making|made"
)
# "who said that?", "and who was it that said it?", "who is that quote from?", "who's speaking?"
_SPEAKER = re.compile(
    rf"^(?:and\s+|so\s+|but\s+)?(?:who|whom)(?:'s|\s+is|\s+was)?\s+(?:(?:it|that|this)\s+(?:that\s+)?)?(?:{_SPEECH})\b"
    r"|^(?:and\s+|so\s+)?who(?:'s|\s+is|\s+was)\s+(?:that|this|the)\s+(?:quote|quotation|statement|speaker)\b"
    r"|^(?:and\s+)?(?:whose|who\s+is\s+the\s+speaker\s+of)\s+(?:words|quote|statement|claim)\b",
    re.IGNORECASE,
)
# "what about X?", "how about X?", "and what about X?", "what of X?", "and X?" (X a name or "the ...").
_ABOUT = re.compile(r"^(?:and\s+|but\s+|so\s+)?(?:what|how)\s+(?:about|of)\s+(?P<x>.+?)[\s?.!]*$", re.IGNORECASE)
_AND_X = re.compile(r"^[Aa]nd\s+(?P<x>(?:[Tt]he\s+)?[A-Z][^\s?]*(?:\s+[A-Z][^\s?]*)*)[\s?.!]*$")
# An X that is a time or place qualifier, not a subject: "what about in 2020?", "what about 2021?".
_QUALIFIER = re.compile(
    r"^(?:in|on|at|during|before|after|since|until|by|from|for|then|now|later|earlier|today|yesterday|"
    r"last|next|this)\b|^\d",
    re.IGNORECASE,
)
# X that points back instead of naming someone new: "what about that?", "what about them?"
_BACK = frozenset("that this it them they those these him her there then".split())  # noqa: SIM905

_WH = frozenset("what when where why how who whom whose which".split())  # noqa: SIM905 - word lists read best as words
_HOW_MUCH = frozenset("many much long often far soon big large old".split())  # noqa: SIM905
_AUX = frozenset(
    "did does do will would is are was were has have had can could should shall may might must".split()  # noqa: SIM905
)
_DETERMINERS = frozenset("the a an its their his her this that these those our".split())  # noqa: SIM905
_STOP = _AUX | frozenset(
    "of in on at to for from by with about as into than and or but say said says not ever".split()  # noqa: SIM905
)
# Openers of questions and requests that do not end with a question mark ("tell me about the talks").
_OPENERS = (
    _WH
    | _AUX
    | frozenset(
        "tell show list explain describe give summarise summarize name find compare is are was were".split()  # noqa: SIM905
    )
)
_WORD = re.compile(r"[^\W_][\w'’.\-]*", re.UNICODE)


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def bare(self) -> str:
        return self.text.rstrip(".,;:!?").lower()

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()

    @property
    def possessive(self) -> bool:
        return self.text.rstrip(".,;:!?").endswith(("'s", "’s"))


def asks_for_speaker(text: str) -> bool:
    """Whether ``text`` asks who said what was just quoted ("who said that?")."""
    return bool(_SPEAKER.search(text.strip()))


def new_subject(text: str) -> str | None:
    """X of "what about X?" when X names a new subject (not a year, a time or a pronoun); else ``None``."""
    text = text.strip()
    match = _ABOUT.match(text) or _AND_X.match(text)
    if match is None:
        return None
    subject = match.group("x").strip().rstrip("?.! ")
    if not subject or _QUALIFIER.match(subject) or subject.lower() in _BACK or len(subject.split()) > 6:
        return None
    return subject


def substitute_subject(question: str, subject: str) -> str | None:
    """``question`` with ``subject`` in place of its own subject, or ``None`` when it has none to replace.

    >>> substitute_subject("What did NATO's secretary-general say about leaving?", "the Taliban")
    'What did the Taliban say about leaving?'
    """
    overview = overview_subject(question)
    if overview is not None:  # "Tell me about NATO" -> "Tell me about the Taliban": the subject is what follows
        start, end = overview
        return f"What's the latest on {subject}?" if start == end else question[:start] + subject + question[end:]
    tokens = [_Token(m.group(0), m.start(), m.end()) for m in _WORD.finditer(question)]
    span = _subject_span(tokens)
    if span is None:
        return None
    first, last, modifier = span
    if not modifier and first > 0 and tokens[first - 1].bare in {"the", "a", "an"}:
        first -= 1  # "leads the Red Cross": the article goes with the name it introduces
    if modifier:  # "How many German troops": the new subject qualifies the noun, so it loses its article
        subject = re.sub(r"^(?:the|a|an)\s+", "", subject, flags=re.IGNORECASE)
    return question[: tokens[first].start] + subject + question[tokens[last].end :]


def _subject_span(tokens: list[_Token]) -> tuple[int, int, bool] | None:
    """First and last token of the subject, and whether it modifies a noun after it."""
    if not tokens or tokens[0].bare not in _WH:
        return _first_name(tokens, 0)
    i = 1
    if tokens[0].bare == "how" and i < len(tokens) and tokens[i].bare in _HOW_MUCH:
        i += 1
        counted = _first_name(tokens, i) or _noun_phrase(tokens, i, allow_plain=True)
        # The new subject stands where a counted noun or its qualifier was: "How many Taliban troops".
        return None if counted is None else (counted[0], counted[1], True)
    if tokens[0].bare in {"what", "which", "whose"} and i + 1 < len(tokens) and tokens[i + 1].bare in _AUX:
        i += 1  # "Which country did ..."
    if i < len(tokens) and tokens[i].bare in _AUX:
        return _noun_phrase(tokens, i + 1, allow_plain=False) or _first_name(tokens, i + 1)
    return _first_name(tokens, i)  # "Who leads NATO?": the name the question is about


def _noun_phrase(tokens: list[_Token], i: int, allow_plain: bool) -> tuple[int, int, bool] | None:
    """The noun phrase starting at ``i``: [determiner] capitalised words / possessives [one noun]."""
    start = i
    determiner = i < len(tokens) and tokens[i].bare in _DETERMINERS
    if determiner:
        i += 1
    names = i
    while i < len(tokens) and (tokens[i].capitalised or tokens[i].possessive) and tokens[i].bare not in _STOP:
        i += 1
        if tokens[i - 1].possessive:
            break
    has_name = i > names
    ends_possessive = has_name and tokens[i - 1].possessive
    # The head noun is one plain word after a possessive, or when no name was found ("the alliance").
    # After "the NAME" the next plain word is more often the verb ("did the Taliban declare").
    wants_head = (ends_possessive or not has_name) and (determiner or ends_possessive or allow_plain)
    if wants_head and i < len(tokens) and tokens[i].bare not in _STOP and not tokens[i].capitalised:
        i += 1
    if i == start or (determiner and i == start + 1):
        return None
    # "the chief executive of Siemens": the question is about Siemens; "what about Bosch?" replaces that.
    if not has_name:
        owner = _owner(tokens, i)
        if owner is not None:
            return owner
    return start, i - 1, False


def _owner(tokens: list[_Token], i: int) -> tuple[int, int, bool] | None:
    """The named owner in "... NOUN [NOUN] of NAME" within a few words from ``i``."""
    for j in range(i, min(i + 3, len(tokens) - 1)):
        if tokens[j].bare == "of":
            owner = _noun_phrase(tokens, j + 1, allow_plain=False)
            if owner is not None and any(t.capitalised for t in tokens[owner[0] : owner[1] + 1]):
                return owner
            return None
        if tokens[j].bare in _STOP or tokens[j].capitalised:
            return None
    return None


def _first_name(tokens: list[_Token], i: int) -> tuple[int, int, bool] | None:
    """The first run of capitalised words from ``i`` on; a modifier when a plain noun follows it."""
    while i < len(tokens) and not tokens[i].capitalised:
        i += 1
    if i >= len(tokens):
        return None
    start = i
    while i < len(tokens) and tokens[i].capitalised:
        i += 1
    modifier = i < len(tokens) and tokens[i].bare not in _STOP and not tokens[i].capitalised
    return start, i - 1, modifier


def is_question_like(text: str, topic_words: int) -> bool:
    """Whether ``text`` can be a question: it asks (``?``), opens like a question or request, or names
    at least two things to search for. ``topic_words`` counts its words that are not function words."""
    stripped = text.strip()
    if "?" in stripped:
        return True
    first = _WORD.match(stripped)
    if first is not None and first.group(0).lower() in _OPENERS:
        return True
    return topic_words >= 2
