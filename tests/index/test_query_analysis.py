"""What a question says about the day it is asked, and whether it asks for one fact (index.query_analysis)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from index.lexical import tokenize
from index.query_analysis import analyse_question, asks_about_now, overview_subject

TIED_TO_THE_DAY = [
    "Hurricane Idalia made landfall Wednesday in which state?",
    "Which musician topped the charts after Sunday's Grammy Awards?",
    "Friday marked the 19th anniversary of what events?",
    "On Monday, which company announced layoffs?",
    "Who won the latest election?",
    "How many died in Gaza Thursday?",  # a name before the day is not a name of the day
    "what did apple announce on tuesday?",
    "Police said Thursday 3 men were arrested. Where?",  # a number after the day is not its date
    "Which court Tuesday decided 5-4 to uphold the law?",  # "dec..." is no month
    "What did the Daily Mail on Tuesday reveal?",
    "How many died in the Tuesday school shooting?",
    "Who is giving Monday's keynote?",
    "Was it a good Friday for the markets?",
]
NOT_TIED = [
    "Which candidate won the most states on Super Tuesday?",  # a name
    "Which store had record sales on Black Friday?",
    "Which shops close on Sundays?",  # a habit
    "The Iowa caucus takes place Monday, February 3rd. How is caucus voting different?",  # its own date
    "Sunday 21 January 2024 is the centenary of which death?",
    "Who led the 1987 talks?",
    "What did The Sunday Times report about the prince?",
    "Is Friday 13th unlucky?",
    "Which paper is the Sunday Independent?",
    "Monday (March 4) is which holiday?",
]


@pytest.mark.parametrize("question", TIED_TO_THE_DAY)
def test_a_bare_weekday_or_a_time_word_ties_a_question_to_the_day_asked(question: str) -> None:
    assert asks_about_now(question)


@pytest.mark.parametrize("question", NOT_TIED)
def test_a_weekday_in_a_name_a_habit_or_a_dated_day_does_not(question: str) -> None:
    assert not asks_about_now(question)


def _article(folder: Path, name: str, title: str, outlet: str, date: str, text: str) -> None:
    (folder / f"{name}.md").write_text(f"---\ntitle: {title}\noutlet: {outlet}\ndate: {date}\n---\n{text}\n")


def test_on_wednesday_means_the_wednesday_before_the_questions_now(tmp_path: Path, make_settings, embedder) -> None:
    """Two landfalls "on Wednesday", three years apart, and an unrelated story of 2026: asked the Friday after
    the second landfall, the answer is the second, although the first article matches the question's words at
    least as well; asked in 2026, both are old news beside the newest article, and Newsdesk says so."""
    from index.builder import open_index
    from index.newsdesk import Newsdesk

    corpus = tmp_path / "news"
    corpus.mkdir()
    _article(corpus, "laura", "Storm batters the Gulf coast", "Coastal Times", "2020-08-27",
             "Hurricane Laura made landfall on Wednesday in Louisiana, bringing winds of 150 mph and a storm surge "
             "along the Gulf coast.\n\nOfficials said thousands of homes were without power as the hurricane "
             "moved inland.")  # fmt: skip
    _article(corpus, "idalia", "Hurricane reaches the coast", "Harbor Post", "2023-08-31",
             "Hurricane Idalia made landfall on Wednesday in Florida as a Category 3 storm.\n\nResidents of the "
             "Big Bend region were told to leave before the storm arrived.")  # fmt: skip
    _article(corpus, "lanes", "Council approves bike lanes", "Harbor Post", "2026-11-27",
             "The city council approved 12 miles of new bike lanes on Thursday after a year of debate.")  # fmt: skip
    settings = make_settings(corpus)
    stored, report = open_index(settings, embedder)
    desk = Newsdesk(settings, embedder, stored, report)
    question = "In which state did the hurricane make landfall on Wednesday?"

    asked_2023 = desk.ask(question, as_of=dt.date(2023, 9, 1))
    assert not asked_2023.abstained and asked_2023.citations[0].date == "2023-08-31"
    assert "Florida" in asked_2023.text
    asked_2020 = desk.ask(question, as_of=dt.date(2020, 8, 28))  # the newer article is not out yet
    assert "Louisiana" in asked_2020.text
    asked_2026 = desk.ask(question, as_of=dt.date(2026, 12, 1))
    assert asked_2026.abstained
    assert "up to 2026-12-01; the closest passage found is from 2023-08-31" in asked_2026.text
    # Without the weekday the day asked does not matter.
    plain = "In which state did the hurricane make landfall?"
    cited = {desk.ask(plain, as_of=day).citations[0].doc_id for day in (dt.date(2023, 9, 1), dt.date(2026, 12, 1))}
    assert len(cited) == 1


def test_an_archive_is_asked_about_its_own_last_days(seed_desk) -> None:
    """The bundled articles end in April 2021; asked in 2026, "on Wednesday" is their last Wednesday."""
    answer = seed_desk.ask("What did NATO allies agree on Wednesday?", as_of=dt.date(2026, 12, 1))
    assert not answer.abstained and answer.citations[0].date == "2021-04-14"
    assert "withdraw" in answer.text or "wind down" in answer.text
    assert answer.text.endswith("The articles end on 2021-04-14: the question is read as of then.")
    asked_then = seed_desk.ask("What did NATO allies agree on Wednesday?", as_of=dt.date(2021, 4, 16))
    assert "The articles end on" not in asked_then.text  # asked in their days: nothing to say


OVERVIEWS = [
    "Tell me about NATO in Afghanistan",
    "Can you tell me more about the harbour bridge?",
    "What's the latest on the withdrawal?",
    "What is the latest news about the bridge?",
    "What is happening in Afghanistan?",
    "what's going on with the Taliban",
    "Any news on the bridge?",
    "Could you give me an overview of the harbour bridge?",
    "Summarize the bridge story",
    "What do the articles say about Stoltenberg?",
    "What's new?",
    "What's the latest news?",
    "What can you tell me about NATO?",
    "What do we know about the bridge?",
    "Tell me the latest on the bridge",
    "Whats the latest on Kabul",
    "Is there any news on the Taliban?",
    "Anything new on the bridge?",
    "What's been happening in Kabul?",
    "Fill me in on the harbour bridge.",
    "And in 2014? What's the latest on the withdrawal?",  # a follow-up put before its thread's question
    "Tell me about what happened in Kabul",
    "Tell me about how the withdrawal went",
]
ONE_FACT = [
    "What is the latest death toll?",
    "What are the latest figures on troop numbers?",
    "What news outlet reported the deal?",
    "What happened in Kabul on Monday?",
    "Tell me who replaced Stoltenberg",
    "How many troops are there now?",
    "Who told reporters about the bridge?",
    "Which summary did the council publish?",
    "What is happening to the number of schools in rural India?",  # a trend, one fact: "it is falling"
    "Tell me about who replaced Stoltenberg",
    "What's the latest on how many people died?",
    "Any news on whether the troops will leave?",
    "Any update on the number of casualties?",
    "What is the latest news on the death toll in Afghanistan?",
    "What's new? How many German troops will be deployed?",  # a question of its own after it
    "Tell me about NATO. Who leads it?",
]


@pytest.mark.parametrize("question", OVERVIEWS)
def test_a_question_asking_what_the_articles_say_on_a_subject_is_an_overview(question: str) -> None:
    assert analyse_question(question).overview


@pytest.mark.parametrize("question", ONE_FACT)
def test_a_question_for_one_fact_is_not_an_overview(question: str) -> None:
    assert not analyse_question(question).overview


def test_the_subject_of_an_overview_is_what_it_names_not_how_it_asks() -> None:
    assert analyse_question("What is the latest news on the bridge this week?").subject_terms == tuple(
        tokenize("bridge")
    )
    assert analyse_question("What's the latest news?").subject_terms == ()
    assert analyse_question("What's happening in Afghanistan right now?").subject_terms == tuple(
        tokenize("Afghanistan")
    )
    assert analyse_question("Tell me about what happened in Kabul").subject_terms == tuple(tokenize("Kabul"))


@pytest.mark.parametrize(
    "question,subject",
    [("Tell me about the U.S. withdrawal?", "the U.S. withdrawal"), ("What's new?", ""),
     ("And in 2014? What's the latest on the withdrawal?", "the withdrawal"), ("Who won?", None),
     ("What's happening in Afghanistan right now?", "Afghanistan"), ('Tell me about "Resolute Support"?',
     '"Resolute Support"'), ("Tell me about St. John's Wood", "St. John's Wood")],
)  # fmt: skip
def test_the_subject_of_an_overview_is_found_where_the_question_says_it(question: str, subject: str | None) -> None:
    span = overview_subject(question)
    assert (None if span is None else question[span[0] : span[1]]) == subject


def test_an_overview_s_asking_words_name_nothing() -> None:
    """ "Tell", capitalised after a follow-up, is the asking, not a name the passages must hold; the subject's are."""
    assert analyse_question("and in 2019? Tell me about the harbour bridge").names == ()
    assert analyse_question("and in 2019? Tell me about the Northvale bridge").names == ("Northvale",)
