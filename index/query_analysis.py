"""One reading of a question, made once and passed to every stage that needs it.

Retrieval, sentence scoring, the answer model and abstention all ask the same things of a question:
its BM25 terms and how rare each is in the corpus, the kind of fact it wants ("how many" -> a number),
the noun of "which city", the years and months it names, the names and numbers it mentions (which an
answering article must mention too), whether it asks about "now" ("latest", "this week", "on Tuesday") and
whether it asks what the articles say on a subject ("Tell me about X") rather than for one fact.
:func:`analyse_question` works them out once; no later stage tokenises the question again.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from index.answer_types import CALENDAR_WORDS, AnswerType, asked_kind
from index.dates import years
from index.lexical import LexicalIndex, read_question, tokenize

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
# How far back "now" reaches: "last week" goes back up to 13 days. A question about now whose closest passage is
# older than this is told so when Newsdesk abstains (index.answering); articles ending more than this before the
# day asked are an archive, asked about its own last days (index.newsdesk.question_now).
RECENT_DAYS = 14
# A bare weekday in news means the days just gone ("captured Wednesday", "Tuesday's primary"): the week
# of the question's now. Not a day that is a name ("Super Tuesday", "Black Friday": the capitalised words
# that make one), a habit ("on Sundays") or a day given with its date ("Monday, February 3", "Sunday 21
# January 2024", "Monday (March 4)": that day, whenever it was).
_WEEKDAY = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b(?!s\b)", re.IGNORECASE)
# The words that make a weekday part of a name, right before it ("Super Tuesday", "Super Bowl Sunday") ...
_NAMED_DAYS = re.compile(
    r"\b(?:Super|Black|Cyber|Good|Easter|Palm|Ash|Bloody|Maundy|Holy|Shrove|Giving|Fat|Bowl|Selection|Small Business"
    r"|Mail on(?= Sunday)) $"
)
# ... or right after it: a newspaper or a show ("The Sunday Times", "Monday Night Football").
_NAMED_AFTER = re.compile(
    r" (?:Times|Telegraph|Express|Mirror|Post|Herald|Mail|Independent|Night Football|Night Live)\b"
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_DATE_AFTER = re.compile(
    rf",?\s+\(?(?:the\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)\b|\d{{1,2}}\s+{_MONTH}|{_MONTH}\s+\d)", re.IGNORECASE
)


# A question that asks what the articles say on a subject rather than for one fact: "Tell me about X", "What's the
# latest on X?", "What is happening in X?", "Any news on X?", "Summarise X", "What do the articles say about X?".
# Newsdesk answers it with what the closest articles that speak of X lead with (index.answering.overview), not
# with one sentence the answer model must be sure answers a question that has no single answer.
_AFTER = r"(?:\s+(?:on|about|with|in|from|regarding|for|at)\b|\W*$)"
_OVERVIEW = re.compile(
    r"^\W*(?:(?:please|so|ok|okay|hey|hi),?\s+)?(?:(?:can|could|would|will)\s+you\s+)?(?:please\s+)?(?:"
    r"(?:tell|give|show)\s+(?:me|us)\s+(?:(?:more|everything|all|something|what\s+you\s+know)\s+)?about\b"
    r"|what\s+(?:can|could)\s+you\s+tell\s+(?:me|us)\s+about\b"
    r"|what\s+do\s+(?:we|you|they|the\s+(?:articles|sources|stories|reports))\s+(?:know|say|report)\s+(?:about|on)\b"
    r"|tell\s+(?:me|us)\s+(?:the\s+)?(?:latest|news)\s+(?:on|about|from|in|with|regarding)\b"
    r"|(?:give\s+(?:me|us)\s+)?(?:an?\s+|the\s+)?(?:overview|summary|rundown|recap|update|briefing)\s+(?:of|on|about)\b"
    r"|(?:summari[sz]e|sum\s+up|brief\s+(?:me|us)\s+on|fill\s+(?:me|us)\s+in\s+on|catch\s+(?:me|us)\s+up\s+on)\b"
    rf"|what(?:'s|’s|s|\s+is|\s+are)\s+(?:the\s+)?(?:latest|newest|new|news|updates?)(?:\s+news)?{_AFTER}"
    r"|what(?:'s|’s|s|\s+is|\s+has)\s+(?:been\s+)?(?:happening|going\s+on)"
    r"(?:\s+(?:in|with|at|around|inside|across|between)\b|\W*$)"
    rf"|(?:(?:is|are)\s+there\s+)?any\s+(?:news|updates?){_AFTER}"
    rf"|anything\s+new{_AFTER}"
    r")",
    re.IGNORECASE,
)
# ... unless what follows asks for one fact after all: "the latest on how many died", "any news on whether ...",
# "an update on the death toll" (but "tell me about what happened in Kabul", "... how the talks went" do not).
_ONE_FACT_AFTER = re.compile(
    r"\s*(?:(?:who|what(?!\s+(?:happened|is\s+happening|'s\s+happening|’s\s+happening))|when|where|why"
    r"|how(?![^?]*\b(?:went|goes|is\s+going|are\s+going|unfolded)\b)|which|whether|if)\b"
    r"|(?:the\s+)?(?:death\s+|casualty\s+)?"
    r"(?:number|numbers|toll|count|figures?|prices?|costs?|amount|total|score|results?|rate|tally|date)\b)",
    re.IGNORECASE,
)
# Time words that close a subject without naming it: "What's happening in Afghanistan right now?".
_TIME_TAIL = re.compile(
    r"(?:\s+(?:right\s+now|now|today|lately|recently|so\s+far|these\s+days|this\s+(?:week|month|year)))+\W*$",
    re.IGNORECASE,
)
# A stop that ends an abbreviation ("U.S.", "St."), not a sentence.
_ABBREVIATION_STOP = re.compile(r"(?:\b[A-Z]|\b(?:St|Mr|Mrs|Ms|Dr|Gen|Gov|Sen|Rep|Lt|Col|Mt|Ft|Jr|Sr|No|vs))\.$")
# The words of those phrasings and of time, which name no subject: "What's the latest news on the bridge?" is
# about the bridge.
_OVERVIEW_WORDS = (
    "tell give show more everything something know overview summary rundown recap update briefing summarise "
    "summarize sum brief fill catch latest newest new news happening going say report articles sources stories "
    "reports anything please okay hey hi today now week month year recent recently current currently lately "
    "happened went goes unfolded"
)


def overview_subject(question: str) -> tuple[int, int] | None:
    """Where the subject of an overview question is in ``question`` ("the harbour bridge" of "Tell me about the
    harbour bridge?"; an empty span for "What's new?"), or ``None`` when ``question`` asks for one fact."""
    read = _read_overview(question)
    return None if read is None else (read[1], read[2])


def _read_overview(question: str) -> tuple[int, int, int] | None:
    """Where an overview question's asking words start, and its subject's (start, end): see
    :func:`overview_subject`. Read in each of its sentences: a follow-up may come first ("And in 2014? What's the
    latest on the withdrawal?"), but a sentence after it asks something of its own ("What's new? How many troops
    ...?": not an overview)."""
    pieces = list(re.finditer(r"[^.?!]+[.?!]*", question))
    for n, piece in enumerate(pieces):
        match = _OVERVIEW.match(piece.group(0))
        if match is None or _ONE_FACT_AFTER.match(piece.group(0), match.end()):
            continue
        last = n  # the sentence goes on past an abbreviation's stop: "the U.S. withdrawal"
        while last + 1 < len(pieces) and _ABBREVIATION_STOP.search(pieces[last].group(0).rstrip()):
            last += 1
        if any(p.group(0).strip() for p in pieces[last + 1 :]):
            return None
        start, end = piece.start() + match.end(), pieces[last].end()
        tail = _TIME_TAIL.search(question, start, end)
        end = tail.start() if tail else end
        while start < end and not (question[start].isalnum() or question[start] in "\"“'‘"):
            start += 1
        while end > start and not (question[end - 1].isalnum() or question[end - 1] in "'’)\"”"):
            end -= 1
        return piece.start(), start, end
    return None


# Their BM25 tokens, made once on import (a question's walk enters the lexical module once: test_question_walk).
_OVERVIEW_TERMS = frozenset(tokenize(_OVERVIEW_WORDS))


def asks_about_now(question: str) -> bool:
    """Whether ``question`` is tied to its now (the day asked, or an archive's last day): a time word
    ("latest", "this week") or a bare weekday (see ``_WEEKDAY``)."""
    if _NOW.search(question):
        return True
    return any(
        not _NAMED_DAYS.search(question, 0, match.start())
        and not _NAMED_AFTER.match(question, match.end())
        and not _DATE_AFTER.match(question, match.end())
        for match in _WEEKDAY.finditer(question)
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
    about_now: bool = False  # "latest", "this week", "on Tuesday": prefers articles just before ``now``
    as_of: dt.date | None = None  # the day asked
    # The question's now: the day asked, or an archive's last day (index.newsdesk.question_now).
    now: dt.date | None = None
    # The BM25 tokens of each of ``names`` then ``numbers`` (a passage mentions a name when it holds them all).
    name_terms: tuple[tuple[str, ...], ...] = ()
    # "Tell me about X", "What's the latest on X?" (overview_subject), and the terms that name X: those of its
    # words less the words of such phrasings, of time and the years it names (none for "What's the latest news?").
    overview: bool = False
    subject_terms: tuple[str, ...] = ()
    total_weight: float = field(init=False)  # the sum of ``weights`` (1 without terms): shares are of it

    def __post_init__(self) -> None:
        object.__setattr__(self, "total_weight", sum(self.weights.values()) or 1.0)


def _names_and_numbers(question: str, asking: range = range(0)) -> list[str]:
    """Capitalised words after the first, and numbers. ``asking``: where an overview question's asking words are
    ("and in 2019? Tell me about ...": "Tell" names nothing)."""
    matches = list(NAME_WORD.finditer(question))[1:]
    words = [m.group(0) for m in matches if m.start() not in asking and m.group(0).lower() not in CALENDAR_WORDS]
    return [w for w in words if w[:1].isupper() or w[:1].isdigit()]


def analyse_question(
    question: str, lexical: LexicalIndex | None = None, as_of: dt.date | None = None, now: dt.date | None = None
) -> QueryAnalysis:
    """Read ``question`` once. ``lexical``: the corpus's BM25 index, for term rarity (without it every
    term weighs 1). Each module it needs is asked once: BM25 for the tokens of the question, its noun,
    names and plain words and for the terms' rarity; answer_types for the kind of fact; dates for the years."""
    kind = asked_kind(question)
    overview = _read_overview(question)
    subject = overview[1:] if overview else None
    named = _names_and_numbers(question, range(overview[0], overview[1]) if overview else range(0))
    # The years it names: asked about through the articles' dates, so no term of an overview's subject.
    named_years = frozenset(years(question))
    names = [w for w in named if not w[:1].isdigit()]
    numbers = [w for w in named if w[:1].isdigit()]
    plain = _plain_candidates(question)
    subject_text = question[subject[0] : subject[1]] if subject else ""
    tokens, weights = read_question([question, kind.noun or "", *names, *numbers, *plain, subject_text], lexical)
    name_terms = tokens[2 : 2 + len(named)]
    return QueryAnalysis(
        text=question,
        terms=tuple(weights),
        weights=weights,
        wanted=kind.wanted,
        noun=kind.noun,
        noun_terms=frozenset(tokens[1]),
        years=named_years,
        months=kind.months,
        names=tuple(names),
        numbers=tuple(numbers),
        plain_words=_plain_words(plain, tokens[2 + len(named) : -1], weights),
        about_now=asks_about_now(question),
        as_of=as_of,
        now=now or as_of,
        name_terms=tuple(tuple(t) for t in name_terms),
        overview=subject is not None,
        subject_terms=tuple(
            dict.fromkeys(
                t for t in tokens[-1] if t not in _OVERVIEW_TERMS and not (t.isdigit() and int(t) in named_years)
            )
        ),
    )


def _plain_candidates(question: str) -> list[str]:
    """The question's words that may be plain content words: every word but a capitalised one after
    the first (names must be found as written)."""
    return [word for n, word in enumerate(PLAIN_WORD.findall(question)) if not (n and word[:1].isupper())]


def _plain_words(words: list[str], tokens: list[list[str]], weights: dict[str, float]) -> dict[str, str]:
    """The question's lower-case content words, by their BM25 term (``tokens``: each word's)."""
    out: dict[str, str] = {}
    for word, terms in zip(words, tokens, strict=True):
        for term in terms:
            if term in weights:
                out.setdefault(term, word.lower())
    return out
