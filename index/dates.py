"""Parsing the dates that articles, metadata and users write.

Two jobs, kept apart on purpose:

* :func:`parse_date` reads a value that *is* a date (a front matter or JSON field, a ``<meta>`` tag, a
  ``--since`` flag) with python-dateutil, so any common form works ("2022/06/12", "Tue, 14 Jun 2022
  10:32:00 GMT", "June 14, 2022 10:32 AM ET", an epoch number).
* :func:`dateline_date` reads the date of a line that is clearly a dateline under a headline
  ("March 3, 2019", "Published 10:32 AM EDT, Tue June 14, 2022", "WASHINGTON, March 3, 1987 -"). A date
  that merely appears in a story's sentences is never the article's date: a 1987 story that mentions a
  bond maturing in 1992 is not from 1992.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Iterable

from index.errors import QuestionError

# A date before this is a typo or an epoch read wrongly, not a news article.
_EARLIEST_YEAR = 1800
# Numbers above this are epoch seconds (after 1973); above the second bound, epoch milliseconds.
_EPOCH_SECONDS_MIN = 100_000_000
_EPOCH_MILLIS_MIN = 100_000_000_000

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")  # fmt: skip
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A year as news writes one: 1500-2099 ("the 1648 peace", "by 2030"). Four digits outside it are a count
# or a code, not a year.
YEAR = r"(?:1[5-9]|20)\d\d"
_YEAR_IN_TEXT = re.compile(rf"\b{YEAR}\b")


def _month_form(name: str) -> str:
    """A month as datelines write it, in full or cut after three letters: "jan(?:uary)?"; "Sept" too."""
    head, rest = name[:3].lower(), name[3:].lower()
    if name == "September":
        return "sep(?:t(?:ember)?)?"
    return f"{head}(?:{rest})?" if rest else head


_MONTH = r"(?:" + "|".join(_month_form(m) for m in MONTH_NAMES) + r")\.?"
_WEEKDAY = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?"
_TIME = r"\d{1,2}(?::\d{2}){1,2}\s*(?:[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?"
# The date forms a dateline uses; every one of them has a year.
_DATE_WITH_YEAR = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}(?:[T ]\S+)?"
    r"|\d{4}/\d{1,2}/\d{1,2}"
    r"|\d{1,2}\.\d{1,2}\.\d{4}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}})"
)
_DATE_LINE = re.compile(
    r"(?:(?:published|updated|posted|last updated|first published|date|dated)\s*(?:on|at)?:?\s*)?"
    rf"(?:{_TIME}\s*,?\s*)?(?:{_WEEKDAY}\s*)?(?P<date>{_DATE_WITH_YEAR})"
    rf"(?:\s*(?:,|at|-|\|)?\s*{_TIME})?",
    re.IGNORECASE,
)
# "WASHINGTON, March 3, 1987 - The Senate ...": a place in capitals, the date, a dash.
_PLACE_DATELINE = re.compile(
    # The place in capitals, perhaps with a state ("CAPE CANAVERAL, Fla."), then the date (any case).
    rf"^[A-Z\u00c0-\u00de][A-Z\u00c0-\u00de .'/-]{{1,40}}(?:,\s*[A-Z][a-z]{{1,4}}\.)?,\s*"
    rf"(?P<date>(?i:{_DATE_WITH_YEAR}))\s*(?:\([A-Za-z /]+\)\s*)?[-\u2013\u2014]",
)


def parse_date(value: object) -> dt.date | None:
    """A date from metadata or a user: a ``date``/``datetime``, an epoch number or a string holding one date.

    ``None`` and blank strings are no date. Raises ``ValueError`` (saying what was found) otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, dict) and "$date" in value:
        return parse_date(value["$date"])  # a MongoDB export: {"$date": "2022-12-28T15:00:00Z"}
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"not a date: a {type(value).__name__} (write it as YYYY-MM-DD)")
    if isinstance(value, (int, float)):
        return _from_epoch(float(value))
    text = value.strip()
    if re.fullmatch(r"\d{9,13}(?:\.\d+)?", text):
        return _from_epoch(float(text))
    try:  # the common case, and what the index stores: ISO 8601, read without dateutil
        return _checked(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date(), text)
    except ValueError:
        pass
    return _checked(_parse_text(text), text)


def dateline_date(line: str) -> dt.date | None:
    """The date of a line that is a dateline (the whole line a date, perhaps with "Published", a weekday and
    a time; or "PLACE, DATE -" opening the story). ``None`` for anything else, including a sentence that
    happens to hold a date."""
    stripped = line.strip().rstrip(".")
    match = _DATE_LINE.fullmatch(stripped) if len(stripped) <= 80 else None
    match = match or _PLACE_DATELINE.match(line.strip())
    if match is None:
        return None
    try:
        return parse_date(match.group("date"))
    except ValueError:
        return None


def is_date_line(line: str) -> bool:
    """True when the whole line is a date, as in a dateline under a headline."""
    stripped = line.strip().rstrip(".")
    return len(stripped) <= 80 and _DATE_LINE.fullmatch(stripped) is not None and dateline_date(line) is not None


def _parse_text(text: str) -> dt.date:
    # Two different defaults reveal a missing day, month or year: "June 2022" is not a day.
    from dateutil import parser as dateutil_parser  # imported on first use: most dates are ISO already

    try:
        with warnings.catch_warnings():
            # "10:32 AM ET": a zone dateutil does not know is irrelevant to the day.
            warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
            first = dateutil_parser.parse(text, default=dt.datetime(2000, 1, 1))
            second = dateutil_parser.parse(text, default=dt.datetime(2001, 2, 2))
    except (ValueError, OverflowError):
        # Wordy forms ("Updated 10:32 AM EDT, Tue June 14, 2022"): only when a clear date is inside.
        match = re.search(_DATE_WITH_YEAR, text, re.IGNORECASE)
        if match is None or match.group(0) == text:
            raise ValueError(f"not a date: {text[:60]!r} (write it as YYYY-MM-DD)") from None
        return _parse_text(match.group(0))
    if first.date() != second.date():
        raise ValueError(f"not a full date (day, month and year): {text[:60]!r}")
    return first.date()


def _from_epoch(seconds: float) -> dt.date:
    if seconds >= _EPOCH_MILLIS_MIN:
        seconds /= 1000
    if seconds < _EPOCH_SECONDS_MIN:
        raise ValueError(f"not a date: the number {seconds:g} (write it as YYYY-MM-DD)")
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).date()
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"not a date: the number {seconds:g} (write it as YYYY-MM-DD)") from None


def _checked(date: dt.date, text: str) -> dt.date:
    if date.year < _EARLIEST_YEAR:
        raise ValueError(f"not a plausible article date: {text[:60]!r}")
    return date


def parse_day(value: str | None, name: str) -> dt.date | None:
    """A day a user gave for ``name`` (a flag such as ``--since``, an option, a command): ``None`` when
    blank. Raises :class:`QuestionError` naming ``name`` and the form to write it in."""
    if value is None or not value.strip():
        return None
    try:
        return parse_date(value.strip())
    except ValueError:
        example = "write it as YYYY-MM-DD, e.g. 2021-04-14"
        raise QuestionError(f"{name} {value.strip()!r} is not a date: {example}") from None


def years(text: str) -> set[int]:
    """The years written in ``text`` ("in 2014", "May 2021"), by :data:`YEAR`."""
    return {int(y) for y in _YEAR_IN_TEXT.findall(text)}


def years_each(texts: Iterable[str]) -> list[frozenset[int]]:
    """:func:`years` of each text (a question's candidate sentences and the sentences before them, which
    are mostly candidates too: each distinct text is read once)."""
    found: dict[str, frozenset[int]] = {}
    out = []
    for text in texts:
        named = found.get(text)
        if named is None:
            named = found[text] = frozenset(years(text))
        out.append(named)
    return out
