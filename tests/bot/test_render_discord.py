"""Discord rendering: whatever the answer, every message stays within Discord's limits and loses nothing."""

from __future__ import annotations

import dataclasses

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import render_discord as rd
from bot.chat import ChatReply
from bot.render_text import NEAREST_LABEL, UNSURE_LABEL
from index import Answer, Citation

sentence = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=400).map(
    lambda s: s.replace("\n", " ").strip() + "."
)


def citation(number: int, quote: str, title: str = "A title", url: str = "https://example.org/a") -> Citation:
    return Citation(
        number=number, doc_id=f"d{number}", title=title, outlet="DW", date="2021-04-14", url=url,
        passage=quote, quote=quote, score=1.0, start=0, end=len(quote),
    )  # fmt: skip


def reply_for(text: str, citations: list[Citation], abstained: bool = False) -> ChatReply:
    answer = Answer(question="q", text=text, citations=citations, abstained=abstained, closest_matches=["T1", "T2"])
    return ChatReply(kind="answer", text="q", asked="q", answer=answer, elapsed_s=0.25)


def check_limits(outgoing: list[rd.Outgoing]) -> None:
    for out in outgoing:
        assert (out.content is None) != (out.embed is None)
        if out.content is not None:
            assert 0 < len(out.content) <= rd.MESSAGE_LIMIT
        if out.embed is not None:
            embed = out.embed
            assert len(embed) <= rd.EMBED_LIMIT
            assert len(embed.description or "") <= rd.DESCRIPTION_LIMIT
            assert len(embed.fields) <= rd.FIELD_COUNT_LIMIT
            for item in embed.fields:
                assert len(item.name or "") <= rd.FIELD_NAME_LIMIT and len(item.value or "") <= rd.FIELD_VALUE_LIMIT


@settings(max_examples=60, deadline=None)
@given(
    sentences=st.lists(sentence, min_size=1, max_size=60),
    quotes=st.lists(st.text(min_size=1, max_size=3000), min_size=0, max_size=30),
    title=st.text(min_size=0, max_size=700),
)
def test_any_answer_fits_discord_and_keeps_its_text(sentences: list[str], quotes: list[str], title: str) -> None:
    text = " ".join(sentences)
    outgoing = rd.render_reply(reply_for(text, [citation(i + 1, q, title) for i, q in enumerate(quotes)]))
    check_limits(outgoing)
    shown = " ".join(out.embed.description or "" for out in outgoing if out.embed)
    assert shown.split() == text.split()  # split, never cut off
    sources = outgoing[-1].embed.fields if outgoing[-1].embed else []
    assert [f.name for f in sources][:1] == (["[1] DW · 2021-04-14"] if quotes else [])


def test_quotes_are_trimmed_before_the_text_is_split() -> None:
    text = " ".join(["The alliance agreed to leave by September."] * 80)  # ~3,500 characters
    outgoing = rd.render_reply(reply_for(text, [citation(i + 1, "A long quoted sentence. " * 60) for i in range(3)]))
    (only,) = outgoing
    assert only.embed is not None and only.embed.description == text
    assert all("…" in (f.value or "") for f in only.embed.fields)
    check_limits(outgoing)


def test_split_text_cuts_between_sentences() -> None:
    text = "First sentence here. " * 150 + "Last one."
    pieces = rd.split_text(text, 500)
    assert all(len(p) <= 500 and p.endswith(".") for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_an_abstention_is_a_short_plain_message_with_the_closest_matches() -> None:
    (out,) = rd.render_reply(reply_for("The articles I have do not cover this.", [], abstained=True))
    assert out.embed is None and out.content is not None
    assert out.content.startswith("Sorry — the articles I have do not cover this.")
    assert "• T1" in out.content and "• T2" in out.content


def test_an_abstention_quotes_the_nearest_passage_labelled() -> None:
    reply = reply_for("The articles I have do not cover this.", [], abstained=True)
    assert reply.answer is not None
    reply.answer.nearest = citation(1, "Up to 850 *German* troops will be deployed.", title="Taliban [defeat]")
    reply.answer.missing = ["French troops"]
    (out,) = rd.render_reply(reply)
    assert out.content is not None
    lines = out.content.splitlines()
    at = lines.index(NEAREST_LABEL)
    assert lines[at + 1 : at + 3] == [
        "> “Up to 850 \\*German\\* troops will be deployed.”",
        "> — DW · 2021-04-14 · Taliban [defeat]",
    ]
    assert lines.index("Closest matches:") > at
    reply.answer.missing = []  # nothing named is missing: the model was only unsure of it
    (out,) = rd.render_reply(reply)
    assert out.content is not None and UNSURE_LABEL in out.content.splitlines() and NEAREST_LABEL not in out.content


def test_a_source_is_outlet_date_and_a_linked_title_with_its_quote() -> None:
    weird = citation(1, "He said *so*.", title="NATO [live] _updates_", url="https://example.org/x")
    (out,) = rd.render_reply(reply_for("It happened. [1]", [weird]))
    assert isinstance(out.embed, discord.Embed)
    field = out.embed.fields[0]
    assert field.name == "[1] DW · 2021-04-14"
    assert field.value == "[NATO (live) \\_updates\\_](https://example.org/x)\n> “He said \\*so\\*.”"
    assert (out.embed.footer.text or "") == "Answered in 250 ms"
    unlinked = dataclasses.replace(weird, url="javascript:alert(1)")
    (out,) = rd.render_reply(reply_for("It happened. [1]", [unlinked]))
    assert out.embed is not None and (out.embed.fields[0].value or "").startswith("**NATO (live)")
