from __future__ import annotations

import datetime as dt

import pytest

from index.dates import dateline_date, is_date_line, parse_date, parse_day, years, years_each
from index.errors import QuestionError

D = dt.date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-06-12", D(2022, 6, 12)),
        ("2022/06/12", D(2022, 6, 12)),
        ("2022/11/30 18:05", D(2022, 11, 30)),
        ("Tue, 14 Jun 2022 10:32:00 GMT", D(2022, 6, 14)),
        ("June 14, 2022 10:32 AM ET", D(2022, 6, 14)),
        ("26-FEB-1987 15:01:01.79", D(1987, 2, 26)),
        ("2023-05-04T09:30:00+01:00", D(2023, 5, 4)),
        (1667700000, D(2022, 11, 6)),  # epoch seconds
        (1667519999000, D(2022, 11, 3)),  # epoch milliseconds
        ("1667700000", D(2022, 11, 6)),
        ({"$date": "2022-12-28T15:00:00Z"}, D(2022, 12, 28)),  # MongoDB export
        (dt.datetime(2020, 1, 2, 3, 4), D(2020, 1, 2)),
        (None, None),
        ("  ", None),
    ],
)
def test_parse_date_reads_the_forms_metadata_uses(value: object, expected: dt.date | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value", ["sometime next spring", "2022-13-45", "December 2022", 12345, True, [2022], "0099-01-01"]
)
def test_parse_date_refuses_what_is_not_one_day(value: object) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_date(value)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("March 3, 2019", D(2019, 3, 3)),
        ("Published 10:32 AM CDT, Tue June 14, 2022", D(2022, 6, 14)),
        ("Updated 4 October 2021", D(2021, 10, 4)),
        ("Thursday, 2 July 2009", D(2009, 7, 2)),
        ("CAPE CANAVERAL, Fla., Jan. 28, 1986 (UPI) -- The space shuttle exploded.", D(1986, 1, 28)),
        ("QU\u00c9BEC CITY, 12 August 2004 - The festival opened.", D(2004, 8, 12)),
        # No year, or a date inside a sentence: not a dateline.
        ("LONDON, March 17 - The World Bank is issuing a eurobond due March 17, 1992.", None),
        ("The bond is due March 17, 1992, the bank said.", None),
        ("WASHINGTON, Feb 1 (Reuters) - The Federal Reserve raised rates.", None),
    ],
)
def test_dateline_date_only_reads_datelines(line: str, expected: dt.date | None) -> None:
    assert dateline_date(line) == expected


def test_is_date_line() -> None:
    assert is_date_line("April 14, 2021")
    assert not is_date_line("On April 14, 2021 NATO agreed to leave.")


def test_a_day_a_user_gives_is_a_date_or_one_line_naming_where_it_was_given() -> None:
    assert parse_day(" 2021-04-14 ", "--since") == D(2021, 4, 14)
    assert parse_day("   ", "--since") is None and parse_day(None, "--since") is None
    with pytest.raises(QuestionError, match=r"^--since 'soon' is not a date: write it as YYYY-MM-DD, e.g. 2021-04-14$"):
        parse_day(" soon", "--since")


def test_years_are_the_four_digit_numbers_from_1500_to_2099() -> None:
    assert years("In 1648 and by 2030, not 1499 ships, 2100 people or code 20301") == {1648, 2030}


def test_years_each_reads_each_text_as_years_does() -> None:
    texts = ["In 2014 and 1987.", "", "In 2014 and 1987.", "No year, 12345 or 2101.", "May 2021"]
    assert years_each(texts) == [years(t) for t in texts]
