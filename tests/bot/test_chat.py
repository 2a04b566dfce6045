"""The chat core, tested once for every front end: follow-ups, hostile input, failures, concurrency.

On the made-up articles with the fake embedder (tests/conftest.py, ``news_desk``): what is tested is how
messages become questions and replies, not how well the model reads."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from typing import Any

import pytest

from bot.chat import (
    APOLOGY,
    AskOptions,
    ChatCore,
    Conversation,
    _speaker_sentence,
    is_followup,
    resolve,
    strip_mentions,
)
from bot.followups import substitute_subject
from index import Answer, Newsdesk
from index.records import Article, Citation

VEHICLES = "How many vehicles crossed the bridge on its first day?"
OPEN = "When will the harbour bridge open?"


class RecordingDesk:
    """The real desk, recording what it was asked and on which thread; can be told to fail."""

    def __init__(self, desk: Newsdesk) -> None:
        self.desk = desk
        self.calls: list[tuple[str, dict[str, Any], int]] = []
        self.fail_on: str | None = None

    def check_question(self, question: str) -> str:
        return self.desk.check_question(question)

    def sources(self) -> Any:
        return self.desk.sources()

    def ask(self, question: str, **options: Any) -> Answer:
        self.calls.append((question, options, threading.get_ident()))
        if self.fail_on and self.fail_on in question:
            raise KeyError("chunk 17")
        return self.desk.ask(question, **options)


@pytest.fixture
def desk(news_desk: Newsdesk) -> RecordingDesk:
    return RecordingDesk(news_desk)


@pytest.mark.parametrize(
    "text", ["and in 2021?", "who said that?", "why?", "What about the Taliban?", "when did they say it?", "And 2020"]
)
def test_short_or_referring_messages_are_followups(text: str) -> None:
    assert is_followup(text)


@pytest.mark.parametrize(
    "text",
    [
        "Who leads NATO?",
        OPEN,
        "What did Okafor say about a second bridge over the river Alde?",
        "Is that what Dahl and Okafor discussed on the phone about the cost of the bridge?",
    ],
)
def test_standalone_questions_are_not_followups(text: str) -> None:
    assert not is_followup(text)


def test_a_year_only_followup_narrows_to_that_year_and_keeps_other_filters(news_desk: Newsdesk) -> None:
    first = ChatCore(news_desk).reply(OPEN, options=AskOptions(outlet="Coastal", k=4))
    assert first.turn is not None
    resolved = resolve("and in 2020?", first.turn, AskOptions())
    assert resolved.asked == f"and in 2020? {OPEN}"
    assert resolved.options == AskOptions(k=4, since=dt.date(2020, 1, 1), until=dt.date(2020, 12, 31), outlet="Coastal")
    # A year inside a follow-up with a topic of its own is left to retrieval: articles discuss other years.
    assert resolve("what did Dahl announce in 2021?", first.turn, AskOptions()).options.since is None
    # Filters the user sets on the follow-up win over the year.
    mine = AskOptions(since=dt.date(2019, 1, 1))
    assert resolve("and in 2020?", first.turn, mine).options.since == dt.date(2019, 1, 1)


def test_followups_after_an_overview_keep_its_form(news_desk: Newsdesk) -> None:
    core, conversation = ChatCore(news_desk), Conversation()
    first = core.reply("Tell me about the harbour bridge", conversation)
    assert first.answer is not None and first.answer.overview and first.turn is not None
    # "what about X?" asks the same of X; "and in 2019?" keeps the overview, limited to 2019.
    assert resolve("what about the apple harvest?", first.turn, AskOptions()).asked == "Tell me about the apple harvest"
    assert substitute_subject('Tell me about "Resolute Support"?', "the Taliban") == "Tell me about the Taliban?"
    assert substitute_subject("What's new?", "the Taliban") == "What's the latest on the Taliban?"
    in_2019 = core.reply("and in 2019?", conversation)
    assert in_2019.answer is not None and in_2019.answer.overview
    assert [c.doc_id for c in in_2019.answer.citations] == ["bridge-approved"]
    # "who said that?": the ledes are the outlets' own reports, not a speaker's words.
    speaker = core.reply("who said that?", conversation)
    assert speaker.answer is not None and speaker.answer.text.startswith("These are the articles' own opening")


def test_followups_are_answered_against_the_thread(desk: RecordingDesk) -> None:
    core, conversation = ChatCore(desk), Conversation()
    assert core.reply(OPEN, conversation).ok
    reply = core.reply("and in 2021?", conversation)
    assert reply.followup_of == OPEN and desk.calls[-1][0] == f"and in 2021? {OPEN}"
    assert reply.answer is not None and [c.date for c in reply.answer.citations] == ["2021-06-15"]
    # The thread's topic stays the first question, so follow-ups do not snowball.
    reply = core.reply("what about 2022?", conversation)
    assert desk.calls[-1][0] == f"what about 2022? {OPEN}"
    assert reply.answer is not None and [c.date for c in reply.answer.citations] == ["2022-03-20"]
    assert [t.text for t in conversation.turns] == [OPEN, "and in 2021?", "what about 2022?"]
    # A new standalone question starts a new thread.
    assert core.reply(VEHICLES, conversation).followup_of is None and desk.calls[-1][0] == VEHICLES


def test_mentions_are_removed_before_the_question_is_asked(desk: RecordingDesk) -> None:
    text = f"<@123456789012345678> @everyone <@&987654321098765432> @HERE <#555555555555555555> {VEHICLES}"
    assert strip_mentions(text).split() == VEHICLES.split()
    reply = ChatCore(desk).reply(text)
    assert reply.ok and desk.calls[0][0] == VEHICLES and reply.text == VEHICLES


def test_control_characters_are_folded(desk: RecordingDesk) -> None:
    reply = ChatCore(desk).reply("How many\x00vehicles\u200bcrossed\x1b[31m the bridge\r\non its first day?")
    asked = desk.calls[0][0]
    assert reply.ok and not any(ord(ch) < 32 or ch == "\u200b" for ch in asked)
    assert asked.startswith("How many vehicles crossed")


@pytest.mark.parametrize("text", ["x" * 2001, "y " * 600_000])
def test_over_long_questions_are_refused_with_the_limit(desk: RecordingDesk, text: str) -> None:
    conversation = Conversation()
    started = time.perf_counter()
    reply = ChatCore(desk, max_question_chars=2000).reply(text, conversation)
    assert reply.kind == "refused" and "keep it under 2,000" in reply.message and "\n" not in reply.message
    assert time.perf_counter() - started < 1.0  # a megabyte of input is refused without regex work on it
    assert not desk.calls and not conversation.turns


@pytest.mark.parametrize("text", ["", "   ", "<@123456789012345678>", "@everyone \x00\x07"])
def test_empty_questions_are_refused(desk: RecordingDesk, text: str) -> None:
    reply = ChatCore(desk).reply(text)
    assert reply.kind == "refused" and reply.message.startswith("The question is empty")
    assert not desk.calls


def test_an_exception_while_answering_is_an_apology_and_a_logged_traceback(
    desk: RecordingDesk, caplog: pytest.LogCaptureFixture
) -> None:
    core, conversation = ChatCore(desk), Conversation()
    desk.fail_on = "vehicles"
    reply = core.reply(VEHICLES, conversation)
    assert reply.kind == "failed" and reply.message == APOLOGY and reply.answer is None
    assert "chunk 17" in caplog.text and "Traceback" in caplog.text
    assert not conversation.turns  # a failed turn is not something to follow up on
    desk.fail_on = None
    assert core.reply(VEHICLES, conversation).ok


async def test_concurrent_questions_run_off_the_event_loop(desk: RecordingDesk) -> None:
    core = ChatCore(desk)
    conversations = [Conversation() for _ in range(12)]
    questions = [VEHICLES, OPEN, "How many tonnes of apples did the growers pick?"] * 4
    loop_thread = threading.get_ident()
    ticks = 0

    async def heartbeat() -> None:  # the loop stays responsive while questions are answered
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beating = asyncio.create_task(heartbeat())
    replies = await asyncio.gather(*(core.areply(q, c) for q, c in zip(questions, conversations, strict=True)))
    beating.cancel()
    assert all(r.ok for r in replies)
    assert all(thread != loop_thread for _, _, thread in desk.calls)
    assert ticks > 0
    for question, reply, conversation in zip(questions, replies, conversations, strict=True):
        assert reply.text == question and [t.text for t in conversation.turns] == [question]
    assert "15,000" in replies[0].answer.text  # type: ignore[union-attr]
    assert "3,400" in replies[2].answer.text  # type: ignore[union-attr]


LEADER = "What did the council leader say about the bridge?"


def test_who_said_that_names_the_speaker_of_the_quoted_sentence(desk: RecordingDesk) -> None:
    core, conversation = ChatCore(desk), Conversation()
    first = core.reply(LEADER, conversation)
    assert first.answer is not None and not first.answer.abstained
    assert "council leader Maria Okafor told reporters" in first.answer.text
    asked_before = len(desk.calls)
    reply = core.reply("who said that?", conversation)
    assert reply.ok and reply.answer is not None
    # The answer quotes two sentences (a neighbour joined); the reply says which of them Okafor said.
    assert reply.answer.text == (
        "Maria Okafor said: “The bridge will cost 48 million euros and carry about 12,000 vehicles a day, council "
        "leader Maria Okafor told reporters after the vote.” [1]"
    )
    assert reply.answer.citations == first.answer.citations  # about the quotation shown, so the same source
    assert len(desk.calls) == asked_before  # nothing was searched
    # Said again, it still refers to the same quotation; the thread's question is unchanged.
    assert conversation.last is not None and conversation.last.topic == LEADER


@pytest.mark.parametrize(
    "text,quote,reply",
    [
        # One of the quoted sentences names the speaker: the reply says which.
        ("The plan passed. Prices will rise, Jane Doe said.", "The plan passed. Prices will rise, Jane Doe said.",
         "Jane Doe said: “Prices will rise, Jane Doe said.” [1]"),
        # One quotation runs across the quoted sentences: all of it is theirs.
        ('Stoltenberg said: "We will stay. We will not rush."', 'Stoltenberg said: "We will stay. We will not rush."',
         "Stoltenberg said it. [1]"),
        ('"We have a deal. It will hold," Jane Roe said.', '"We have a deal. It will hold," Jane Roe said.',
         "Jane Roe said it. [1]"),
        # A single quoted sentence.
        ("Prices will rise, Jane Doe said. Nobody cared.", "Prices will rise, Jane Doe said.", "Jane Doe said it. [1]"),
    ],
)  # fmt: skip
def test_who_said_which_of_several_quoted_sentences(text: str, quote: str, reply: str) -> None:
    article = Article("a1", "Title", text, "Outlet", dt.date(2024, 1, 1), "")
    citation = Citation(1, "a1", "Title", "Outlet", "2024-01-01", "", text, quote, 0.5, 0, len(text))
    assert _speaker_sentence(citation, article, several=False) == reply


def test_who_said_that_says_when_the_article_names_no_one(desk: RecordingDesk) -> None:
    core, conversation = ChatCore(desk), Conversation()
    core.reply(VEHICLES, conversation)  # "About 15,000 vehicles crossed the bridge ...": nobody speaks
    reply = core.reply("who said that?", conversation)
    assert reply.answer is not None and reply.answer.text == "The Coastal Times article does not name who said it. [1]"


def test_who_said_that_without_an_answer_is_a_hint(desk: RecordingDesk) -> None:
    reply = ChatCore(desk).reply("who said that?", Conversation())
    assert reply.kind == "refused" and "ask a question first" in reply.message and not desk.calls


def test_what_about_x_asks_the_previous_question_about_x(desk: RecordingDesk) -> None:
    core, conversation = ChatCore(desk), Conversation()
    first = core.reply("What did Okafor say about the bridge?", conversation)
    core.reply("who said that?", conversation)
    reply = core.reply("what about Dahl?", conversation, AskOptions())
    assert desk.calls[-1][0] == "What did Dahl say about the bridge?"
    assert reply.answer is not None and first.answer is not None and not reply.answer.abstained
    assert reply.answer.text != first.answer.text and "Dahl said" in reply.answer.text
    assert reply.followup_of == "What did Okafor say about the bridge?"


def test_what_about_x_abstains_when_the_answer_does_not_mention_x(desk: RecordingDesk) -> None:
    core, conversation = ChatCore(desk), Conversation()
    core.reply(VEHICLES, conversation)
    reply = core.reply("what about the ferry?", conversation)
    assert desk.calls[-1][0] == "How many ferry crossed the bridge on its first day?"
    assert reply.answer is not None and reply.answer.abstained
    assert reply.answer.text == "The articles I have do not answer this about the ferry."


@pytest.mark.parametrize("text", ["clear", "thanks", "ok"])
def test_a_message_that_is_not_a_question_gets_a_hint(desk: RecordingDesk, text: str) -> None:
    conversation = Conversation()
    reply = ChatCore(desk).reply(text, conversation)
    assert reply.kind == "refused" and reply.message.startswith(f"“{text}” is not a question")
    assert not desk.calls and not conversation.turns


def test_follow_ups_keep_the_threads_filters_and_as_of_date(desk: RecordingDesk) -> None:
    core, conversation = ChatCore(desk), Conversation()
    options = AskOptions(outlet="Coastal", as_of=dt.date(2022, 1, 1))
    core.reply(LEADER, conversation, options)
    expected = {"k": None, "since": None, "until": None, "outlet": "Coastal", "as_of": dt.date(2022, 1, 1)}
    assert desk.calls[-1][1] == expected
    core.reply("what about the mayor?", conversation)
    assert desk.calls[-1][1]["as_of"] == dt.date(2022, 1, 1) and desk.calls[-1][1]["outlet"] == "Coastal"
    core.reply("and in 2021?", conversation)
    assert desk.calls[-1][1]["outlet"] == "Coastal" and desk.calls[-1][1]["as_of"] == dt.date(2022, 1, 1)
    # Without an as-of date, questions are asked as of today.
    core.reply(VEHICLES, Conversation())
    assert desk.calls[-1][1]["as_of"] == dt.date.today()
    assert conversation.last is not None and conversation.last.options.as_of == dt.date(2022, 1, 1)


@pytest.mark.parametrize(
    "options,expected",
    [
        (
            AskOptions(outlet="times of london"),
            'No article is from an outlet matching "times of london": the outlets are Coastal Times, '
            "Northvale Courier, Valley Herald.",
        ),
        (
            AskOptions(since=dt.date(2030, 1, 1)),
            "No article is dated on or after 2030-01-01: the articles run from 2019-03-04 to 2022-03-20.",
        ),
        (
            AskOptions(as_of=dt.date(2010, 6, 1)),
            "No article is dated on or before 2010-06-01: the articles run from 2019-03-04 to 2022-03-20.",
        ),
        (
            AskOptions(outlet="Valley Herald", since=dt.date(2021, 1, 1)),
            'No article from "Valley Herald" is dated on or after 2021-01-01: the articles run from 2019-03-04 to '
            "2022-03-20, from Coastal Times, Northvale Courier, Valley Herald.",
        ),
    ],
)
def test_a_filter_that_leaves_no_article_says_so_and_what_exists(
    desk: RecordingDesk, options: AskOptions, expected: str
) -> None:
    reply = ChatCore(desk).reply(VEHICLES, Conversation(), options)
    assert reply.kind == "refused" and reply.message == expected
    assert not desk.calls
