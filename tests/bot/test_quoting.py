"""Quotation marks around quoted sentences: a quotation inside takes single marks."""

from __future__ import annotations

from bot.quoting import in_quotes, nested
from bot.render_text import render_text
from index.records import Answer, Citation


def test_a_quotation_inside_a_quote_takes_single_marks() -> None:
    sentence = '"It\'s time to end America\'s longest war," Biden said, calling it "a clear victory".'
    assert (
        in_quotes(sentence) == "“‘It's time to end America's longest war,’ Biden said, calling it ‘a clear victory’.”"
    )
    assert nested("He called it “historic” (“a turning point”).") == "He called it ‘historic’ (‘a turning point’)."
    # Apostrophes and a sentence without quotations are left as they are.
    assert in_quotes("NATO's chief spoke.") == "“NATO's chief spoke.”"


def test_text_rendering_never_opens_a_quote_with_two_marks() -> None:
    quote = '"The US will never forget," Blinken said.'
    citation = Citation(1, "a1", "Title", "DW", "2021-04-14", "", quote, quote, 1.0, 0, len(quote))
    rendered = render_text(Answer("Q?", f"{quote} [1]", [citation], abstained=False))
    assert "“‘The US will never forget,’ Blinken said.”" in rendered
    assert '“"' not in rendered
