"""End to end on the bundled corpus: the right article is cited first."""

from __future__ import annotations

import pytest

from index.errors import QuestionError

CASES = [
    ("How many German troops will be deployed to Afghanistan?", "000", "850"),
    ("How many Afghan civilians were killed in 2014?", "000", "3,200"),
    ("Where are the intra-Afghan peace talks being held?", "001", "Qatar|Doha"),
    ("When did Biden say the withdrawal would be finished?", "002", "September 11"),
    ("What did Trump tweet about US troops?", "001", "December 25"),
    ("How many NATO soldiers are still in Afghanistan in 2021?", "002", "10,000"),
]


@pytest.mark.parametrize("question,article,expected", CASES)
def test_top_citation_is_the_right_article(seed_desk, question: str, article: str, expected: str | None) -> None:  # type: ignore[no-untyped-def]
    answer = seed_desk.ask(question)
    assert not answer.abstained
    assert answer.citations[0].doc_id.startswith(article)
    if expected is not None:  # "a|b": either is right
        assert any(option in answer.text for option in expected.split("|"))


def test_every_marker_points_at_a_listed_source(seed_desk) -> None:  # type: ignore[no-untyped-def]
    import re

    answer = seed_desk.ask("What did NATO decide about Afghanistan?")
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.number for c in answer.citations}
    for citation in answer.citations:
        assert citation.quote in answer.text and citation.quote in citation.passage


def test_unrelated_question_abstains(seed_desk) -> None:  # type: ignore[no-untyped-def]
    answer = seed_desk.ask("What is the boiling point of water at sea level?")
    assert answer.abstained and not answer.citations and answer.closest_matches


@pytest.mark.parametrize("question", ["", "   \n\t", "\x00\x01"])
def test_empty_question_is_refused(seed_desk, question: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QuestionError, match="empty"):
        seed_desk.ask(question)


def test_json_object_is_stable(seed_desk) -> None:  # type: ignore[no-untyped-def]
    data = seed_desk.ask("How many German troops will be deployed?").to_json()
    assert set(data) >= {"question", "answer", "abstained", "citations", "timings_ms"}
    assert set(data["citations"][0]) >= {"doc_id", "title", "outlet", "date", "url", "passage", "score"}


def test_as_of_hides_articles_published_later(seed_desk) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    question = "When will NATO leave Afghanistan?"
    now = seed_desk.ask(question)
    assert any(c.date == "2021-04-14" for c in now.citations)
    before = seed_desk.ask(question, as_of=dt.date(2020, 12, 31))
    assert all(c.date <= "2020-12-31" for c in before.citations)
    assert not any(c.date == "2021-04-14" for c in before.citations)


def test_search_can_leave_out_named_articles(seed_desk) -> None:  # type: ignore[no-untyped-def]
    from index.search import SearchFilters

    question = "How many German troops will be deployed to Afghanistan?"
    first = seed_desk.search(question)[0].chunk.article_id
    hits = seed_desk.search(question, filters=SearchFilters(exclude=frozenset({first})))
    assert hits and all(h.chunk.article_id != first for h in hits)
