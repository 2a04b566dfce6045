from __future__ import annotations

from index.markdown_text import markdown_to_text
from index.paragraphs import unwrap_paragraphs
from index.titles import byline_of, fallback_title, is_dateline, is_usable_title

WIRE = """    LONDON, March 3 - OPEC crude oil output rose in February to
about 16.2 mln barrels per day, above the group's 15.8 mln bpd
ceiling, a Reuters survey of oil traders and officials showed.
    Saudi Arabia pumped about 3.5 mln bpd, the survey said, with
output expected to return to agreed levels towards the end of
the year, after the OPEC pact.
    Kuwait held output steady.
"""


def test_wire_copy_is_joined_into_its_indented_paragraphs() -> None:
    paragraphs = unwrap_paragraphs(WIRE).split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[1] == (
        "Saudi Arabia pumped about 3.5 mln bpd, the survey said, with output expected to return to agreed "
        "levels towards the end of the year, after the OPEC pact."
    )


def test_email_wrapped_paragraphs_split_at_blank_lines_and_keep_hyphenated_words() -> None:
    text = (
        "The council met on Tuesday and agreed, after a long debate, to\nfund the bridge over the river "
        "for a long-\nterm lease of the land.\n\nWork starts in May, the clerk said in a\nstatement to the press "
        "on Wednesday morning.\n"
    )
    assert unwrap_paragraphs(text) == (
        "The council met on Tuesday and agreed, after a long debate, to fund the bridge over the river for a "
        "long-term lease of the land.\n\nWork starts in May, the clerk said in a statement to the press on "
        "Wednesday morning."
    )


def test_text_that_is_not_hard_wrapped_keeps_one_paragraph_per_line() -> None:
    long_lines = [f"Paragraph {i} " + "word " * 40 for i in range(4)]
    assert unwrap_paragraphs("\n".join(long_lines)).split("\n\n") == [line.strip() for line in long_lines]


def test_markdown_becomes_plain_text_with_its_heading_as_title() -> None:
    rendered = markdown_to_text(
        "# Panel backs vaccine\n\n**GENEVA** \u2013 The [WHO](https://who.int) panel met.\n\n"
        "![photo](x.jpg)\n\n- first point\n- second point\n"
    )
    assert rendered.title == "Panel backs vaccine"
    assert rendered.text == "Panel backs vaccine\n\nGENEVA \u2013 The WHO panel met.\n\nfirst point\n\nsecond point"


def test_titles_bylines_and_datelines() -> None:
    for dateline in ("CNN \u2014", "Washington CNN \u2014", "Colombo, Sri Lanka CNN \u2014", "NEW YORK (Reuters) -"):
        assert is_dateline(dateline) and not is_usable_title(dateline)
    assert not is_usable_title("Sign up for CNN\u2019s Wonder Theory science newsletter")
    assert not is_usable_title("AP-Rail-Strike,0412")
    assert is_usable_title("Fed raises rates by a quarter point, signals more to come")
    # Reuters-21578 headlines end with "U.S." (8 of its first 5,000 stories were retitled before this rule).
    assert is_usable_title("COFFEE TALKS FAILURE SEEN PRESSURING U.S.")
    assert is_usable_title("Shares of Acme slide after profit warning at Acme Inc.")
    assert not is_usable_title("The council met on Tuesday.")
    assert byline_of("By JOHN HAMMOND") == "John Hammond"
    assert byline_of("By Ted Barrett and Lauren Fox, CNN") == "Ted Barrett and Lauren Fox"
    assert byline_of("*By Nadia Okoro* | June 12, 2022") == "Nadia Okoro"
    assert byline_of("By Tuesday, officials had left.") is None
    title = fallback_title("Washington CNN \u2014 The Senate on Thursday passed the bill that " + "word " * 30 + ".")
    assert title.startswith("The Senate on Thursday") and title.endswith("\u2026") and len(title) <= 90
