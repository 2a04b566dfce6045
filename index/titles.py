"""What may be an article's headline and byline, and an honest title for an article that has none.

A headline is a short line that is not a sentence of the story and not page furniture: never a dateline
("Washington CNN —", "NEW YORK (Reuters) -"), a newsletter call ("Sign up for ..."), a byline or a date.
An article without one is titled by its first sentence, shortened, so the reader sees what it is about.
"""

from __future__ import annotations

import re

from index.cleaning import is_furniture
from index.dates import is_date_line
from index.sentences import split_sentences

_TITLE_MAX_CHARS = 200
_FALLBACK_MAX_CHARS = 90
# A short line ending in a dash opens a story ("CNN —", "Colombo, Sri Lanka CNN —", "LONDON (Reuters) -");
# a headline never ends that way.
_DATELINE = re.compile(r"^[^\n.!?]{0,60}?[\s)]?[-\u2013\u2014]{1,2}$")
# The same dateline at the start of a paragraph: "Washington CNN — The Senate ...".
_DATELINE_PREFIX = re.compile(
    r"^(?:[A-Z][\w.'\u2019-]*[ ,]+){0,4}\(?(?:CNN|Reuters|AP|AFP|UPI|[A-Z]{2,6})\)?\s*[-\u2013\u2014]{1,2}\s+"
    r"|^[A-Z][A-Z .,'/-]{1,40}(?:,[^-\u2013\u2014]{1,25})?\s*(?:\([A-Za-z /]+\))?\s*[-\u2013\u2014]{1,2}\s+"
)
_NEWSLETTER = re.compile(
    r"^(?:sign up|subscribe|get (?:our|the)|join|register)\b.{0,120}\b(?:newsletters?|briefings?|inbox|alerts)\b",
    re.IGNORECASE,
)
_NAME = r"[A-Z][\w.'\u2019-]*(?:\s+(?:[A-Z][\w.'\u2019-]*|de|van|von|da|al|bin))*"
_BYLINE = re.compile(
    rf"^(?:(?:written|story|words|reporting)\s+)?by\s+{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*"
    r"(?:\s*[,|/\u2013\u2014-]\s*[^.!?]{0,60})?$",
    re.IGNORECASE,
)
_INITIALISM = re.compile(r"(?:[A-Za-z]\.){2,}")
_TITLE_ABBREVIATIONS = {"inc", "co", "corp", "ltd", "plc", "jr", "sr", "st", "bros", "no", "vs", "dr", "mr", "mrs"}
_AFFILIATION = re.compile(
    r"^[\w .&'\u2019-]{0,40}\b(?:writer|correspondent|reporter|editor|staff|columnist|bureau chief)s?$", re.I
)


def is_dateline(line: str) -> bool:
    return bool(_DATELINE.match(line.strip())) and len(line.split()) <= 8


def is_newsletter_line(line: str) -> bool:
    return bool(_NEWSLETTER.match(line.strip()))


def byline_of(line: str) -> str | None:
    """The names of a byline line ("By Jane Doe and John Roe | USA TODAY" -> "Jane Doe and John Roe")."""
    stripped = re.sub(r"[*_]+", "", line).strip()
    if len(stripped) > 120 or stripped.endswith(".") or not _BYLINE.match(stripped):
        return None
    names = re.sub(r"^(?:(?:written|story|words|reporting)\s+)?by\s+", "", stripped, flags=re.IGNORECASE)
    names = re.split(r"\s*[|/\u2013\u2014]\s*|\s+-\s+", names)[0].strip(" ,")
    # "Jane Doe, CNN": an outlet after the comma is not a name.
    parts = [p.strip() for p in names.split(",")]
    if len(parts) > 1 and (parts[-1].isupper() or parts[-1].lower() in {"reuters", "associated press"}):
        names = ", ".join(parts[:-1])
    return names.title() if names.isupper() else names


def is_byline_affiliation(line: str) -> bool:
    """The line under a byline that says who the writer is ("UPI Science Writer", "Associated Press Writer")."""
    return bool(_AFFILIATION.match(line.strip()))


def is_usable_title(line: str) -> bool:
    """True for a line that can be shown as an article's headline."""
    stripped = line.strip()
    return (
        0 < len(stripped) <= _TITLE_MAX_CHARS
        and "\n" not in stripped
        and len(re.findall(r"[^\W\d_]{2,}", stripped)) >= 2
        and " " in stripped
        and not _ends_like_a_sentence(stripped)
        and not is_dateline(stripped)
        and not is_newsletter_line(stripped)
        and byline_of(stripped) is None
        and not is_date_line(stripped)
        and not is_furniture(stripped)
    )


def _ends_like_a_sentence(line: str) -> bool:
    # A headline has no closing full stop, but may end with an abbreviation: "COFFEE TALKS FAILURE SEEN
    # PRESSURING U.S.", "Shares fall at Acme Inc."
    if line.endswith((",", ";")):
        return True
    if not line.endswith(".") or line.endswith("..."):
        return False
    last = line.rsplit(None, 1)[-1]
    return not (_INITIALISM.fullmatch(last) or last[:-1].lower() in _TITLE_ABBREVIATIONS)


def strip_dateline(paragraph: str) -> str:
    """``paragraph`` without an opening dateline ("Washington CNN — The Senate" -> "The Senate")."""
    return _DATELINE_PREFIX.sub("", paragraph, count=1)


def fallback_title(body: str) -> str:
    """An honest title for an article without one: its first sentence, shortened to a readable length."""
    first_paragraph = strip_dateline(body.strip().split("\n\n", 1)[0])
    spans = split_sentences(first_paragraph)
    sentence = first_paragraph[spans[0].start : spans[0].end] if spans else first_paragraph.strip()
    if len(sentence) <= _FALLBACK_MAX_CHARS:
        return sentence
    cut = sentence[: _FALLBACK_MAX_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:-\u2013\u2014 ")
    return cut + "\u2026"
