"""Parsing the dates that articles, front matter and users write."""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}  # fmt: skip
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_PATTERNS = [
    re.compile(r"\b(?P<year>\d{4})-(?P<mnum>\d{1,2})-(?P<day>\d{1,2})\b"),
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b", re.IGNORECASE),
    re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.IGNORECASE),
    re.compile(r"\b(?P<day>\d{1,2})\.(?P<mnum>\d{1,2})\.(?P<year>\d{4})\b"),
]


def find_date(text: str) -> dt.date | None:
    """The first well-formed date written in ``text`` ("2014-12-29", "December 29, 2014", ...)."""
    found: list[tuple[int, dt.date]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            date = _to_date(match)
            if date is not None:
                found.append((match.start(), date))
                break
    return min(found)[1] if found else None


def parse_date(value: object) -> dt.date | None:
    """A date from front matter or a user: a ``date``/``datetime`` or a string holding one date.

    Raises ``ValueError`` when a non-empty value holds no date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    date = find_date(text)
    if date is None:
        raise ValueError(f"not a date: {text!r} (write it as YYYY-MM-DD)")
    return date


def is_date_line(line: str) -> bool:
    """True when the whole line is a date, as in a dateline under a headline."""
    stripped = line.strip().rstrip(".")
    if len(stripped) > 40:
        return False
    return any(p.fullmatch(stripped) for p in _PATTERNS) or bool(
        re.fullmatch(r"(?:\w+day,?\s+)?" + _PATTERNS[1].pattern + r"(?:\s+\d{1,2}:\d{2}.*)?", stripped, re.I)
    )


def _to_date(match: re.Match[str]) -> dt.date | None:
    parts = match.groupdict()
    month = int(parts["mnum"]) if parts.get("mnum") else _MONTHS[parts["month"].lower().rstrip(".")]
    try:
        return dt.date(int(parts["year"]), month, int(parts["day"]))
    except ValueError:
        return None
