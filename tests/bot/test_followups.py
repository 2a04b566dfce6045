"""Reading a follow-up (bot.followups): speaker questions, subject substitution, messages that are not questions."""

from __future__ import annotations

import pytest

from bot.followups import asks_for_speaker, is_question_like, new_subject, substitute_subject


@pytest.mark.parametrize(
    "text", ["who said that?", "Who said it", "and who told reporters that?", "who is that quote from?", "whose words?"]
)
def test_speaker_questions(text: str) -> None:
    assert asks_for_speaker(text)


@pytest.mark.parametrize("text", ["Who leads NATO?", "who will lead the talks?", "what did he say?", "and in 2020?"])
def test_other_questions_do_not_ask_for_a_speaker(text: str) -> None:
    assert not asks_for_speaker(text)


@pytest.mark.parametrize(
    "text,subject",
    [
        ("what about the Taliban?", "the Taliban"),
        ("How about Angela Merkel", "Angela Merkel"),
        ("And the European Union?", "the European Union"),
        ("and what about the UN?", "the UN"),
        # Times, years and pronouns are not new subjects: those follow-ups narrow or refer back.
        ("what about 2021?", None),
        ("what about in 2020?", None),
        ("what about them?", None),
        ("and then?", None),
    ],
)
def test_the_new_subject_of_what_about(text: str, subject: str | None) -> None:
    assert new_subject(text) == subject


@pytest.mark.parametrize(
    "question,subject,expected",
    [
        ("What did NATO's secretary-general say about leaving Afghanistan?", "the Taliban",
         "What did the Taliban say about leaving Afghanistan?"),
        ("When will the alliance leave the country?", "the UN", "When will the UN leave the country?"),
        ("Why did Biden announce the withdrawal?", "Merkel", "Why did Merkel announce the withdrawal?"),
        ("What did the European Commission propose?", "the Council", "What did the Council propose?"),
        ("Who is the chief executive of Siemens?", "Bosch", "Who is the chief executive of Bosch?"),
        ("How many German troops will be deployed?", "the French", "How many French troops will be deployed?"),
        ("Who leads the Red Cross?", "the UN", "Who leads the UN?"),
        ("what happened?", "the Taliban", None),
    ],
)  # fmt: skip
def test_the_previous_question_with_another_subject(question: str, subject: str, expected: str | None) -> None:
    assert substitute_subject(question, subject) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("clear", False),
        ("thanks", False),
        ("Stoltenberg", False),
        ("Stoltenberg?", True),
        ("NATO withdrawal timeline", True),
        ("tell me about the talks", True),
        ("When will NATO leave", True),
    ],
)
def test_what_can_be_a_question(text: str, expected: bool) -> None:
    from bot.chat import topic_word_count

    assert is_question_like(text, topic_word_count(text)) is expected
