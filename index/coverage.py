"""What a corpus covers, and why a filter left nothing: outlets and the date range the articles span.

When ``--outlet`` or a date range matches no article, answering cannot find anything, and saying "the
articles do not cover this" would hide the cause; :func:`empty_filter_message` says which filter left
nothing and what exists instead.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from index.records import Article
from index.search import SearchFilters

# Outlets listed by name in a message; more are summarised as a count.
_OUTLETS_LISTED = 12


@dataclass(frozen=True)
class Coverage:
    """The outlets of a corpus (with their article counts, most first) and its first and last dates."""

    articles: int
    outlets: list[tuple[str, int]]
    first: dt.date | None
    last: dt.date | None

    @classmethod
    def of(cls, articles: Iterable[Article]) -> Coverage:
        items = list(articles)
        counts = Counter(a.outlet or "unknown outlet" for a in items)
        dates = [a.date for a in items if a.date is not None]
        outlets = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0].casefold()))
        return cls(len(items), outlets, min(dates, default=None), max(dates, default=None))

    def outlets_text(self) -> str:
        names = [name for name, _ in self.outlets[:_OUTLETS_LISTED]]
        more = len(self.outlets) - len(names)
        return ", ".join(names) + (f" and {more} more" if more > 0 else "")

    def dates_text(self) -> str:
        if self.first is None or self.last is None:
            return "the articles carry no dates"
        return f"the articles run from {self.first.isoformat()} to {self.last.isoformat()}"


def empty_filter_message(articles: Iterable[Article], filters: SearchFilters) -> str | None:
    """A one-line explanation when ``filters`` leave no article, naming what exists; ``None`` otherwise.

    >>> empty_filter_message(desk.sources(), SearchFilters(outlet="rferl"))  # doctest: +SKIP
    'No article is from an outlet matching "rferl": the outlets are DW, RFE/RL.'
    """
    items = list(articles)
    if not filters.active or any(filters.allows(a) for a in items):
        return None
    coverage = Coverage.of(items)
    if not items:
        return "There are no articles in the index: add some to the corpus folder and index it."
    outlet_only = SearchFilters(outlet=filters.outlet)
    dates_only = SearchFilters(since=filters.since, until=filters.until)
    reasons = []
    if filters.outlet and not any(outlet_only.allows(a) for a in items):
        reasons.append(
            f'No article is from an outlet matching "{filters.outlet}": the outlets are {coverage.outlets_text()}.'
        )
    if (filters.since or filters.until) and not any(dates_only.allows(a) for a in items):
        reasons.append(f"No article is dated {_range(filters)}: {coverage.dates_text()}.")
    if not reasons:  # each filter matches something, but not together
        reasons.append(
            f'No article from "{filters.outlet}" is dated {_range(filters)}: {coverage.dates_text()}, '
            f"from {coverage.outlets_text()}."
        )
    return " ".join(reasons)


def _range(filters: SearchFilters) -> str:
    if filters.since and filters.until:
        return f"between {filters.since.isoformat()} and {filters.until.isoformat()}"
    if filters.since:
        return f"on or after {filters.since.isoformat()}"
    assert filters.until is not None
    return f"on or before {filters.until.isoformat()}"
