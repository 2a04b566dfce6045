"""The Discord bot with real discord.py objects and dpytest's fake gateway: no network, the real index."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import discord
import discord.ext.test as dpytest
import discord.ext.test.backend as dpy_backend
import discord.ext.test.factories as dpy_facts
import pytest
import pytest_asyncio
from discord.webhook import async_ as webhook_async

from bot import render_discord
from bot.chat import APOLOGY, ChatCore
from bot.discord_bot import NewsdeskBot, run, serve
from index import Answer, ConfigError, Newsdesk

TROOPS = "How many German troops will be deployed to Afghanistan?"


class FlakyDesk:
    """The real desk, which can be told to fail the next questions or to return a given answer."""

    def __init__(self, desk: Newsdesk) -> None:
        self.desk = desk
        self.failures = 0
        self.inflate: Callable[[Answer], Answer] | None = None
        self.asked: list[str] = []

    def check_question(self, question: str) -> str:
        return self.desk.check_question(question)

    def sources(self) -> Any:
        return self.desk.sources()

    def ask(self, question: str, **options: Any) -> Answer:
        self.asked.append(question)
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the index went away")
        answer = self.desk.ask(question, **options)
        return self.inflate(answer) if self.inflate else answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def payloads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every message payload the bot builds, by channel send or interaction follow-up, as Discord gets it."""
    seen: list[dict[str, Any]] = []
    real = discord.http.handle_message_parameters

    def spy(*args: Any, **kwargs: Any) -> Any:
        params = real(*args, **kwargs)
        seen.append(dict(params.payload or {}))
        return params

    monkeypatch.setattr(discord.abc, "handle_message_parameters", spy)
    monkeypatch.setattr(webhook_async, "handle_message_parameters", spy)
    return seen


@pytest.fixture
def desk(seed_desk: Newsdesk) -> FlakyDesk:
    return FlakyDesk(seed_desk)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def make_bot(desk: FlakyDesk, clock: Clock) -> AsyncIterator[Callable[..., Any]]:
    async def make(**settings: Any) -> NewsdeskBot:
        values = {"discord_cooldown_s": 0.0} | settings
        # dpytest keeps its fake members in the member cache, which needs the (privileged) members intent.
        intents = discord.Intents.default()
        intents.members = intents.message_content = True
        client = NewsdeskBot(ChatCore(desk), desk.desk.settings.replace(**values), clock=clock, intents=intents)
        await client._async_setup_hook()
        dpytest.configure(client, members=2)
        return client

    yield make
    await dpytest.empty_queue()


def mention(client: NewsdeskBot, text: str) -> str:
    assert client.user is not None
    return f"<@{client.user.id}> {text}"


def sent_messages() -> list[discord.Message]:
    out = []
    while not dpytest.sent_queue.empty():
        out.append(dpytest.get_message())
    return out


async def post(text: str, member: int = 0, replying_to: discord.Message | None = None) -> None:
    """A member posts ``text`` in the first channel, as the gateway would deliver it.

    (dpytest's own ``message`` finds mentioned users in the member cache, which holds no bot without the
    privileged members intent, and it cannot make replies.)"""
    config = dpytest.get_config()
    channel, author = config.channels[0], config.members[member]
    state = dpy_backend.get_state()
    mentioned = [state.user] if f"<@{state.user.id}>" in text else []
    data = dpy_facts.make_message_dict(channel, author, content=text, mentions=mentioned, guild_id=channel.guild.id)
    if replying_to is not None:
        data["message_reference"] = {
            "message_id": replying_to.id,
            "channel_id": channel.id,
            "guild_id": channel.guild.id,
        }
    state.parse_message_create(data)
    await dpytest.run_all_events()


def assert_no_pings(payloads: list[dict[str, Any]]) -> None:
    assert payloads, "nothing was sent"
    for payload in payloads:
        assert payload["allowed_mentions"]["parse"] == [], payload
        assert not payload["allowed_mentions"].get("users") and not payload["allowed_mentions"].get("roles")
        assert payload["allowed_mentions"].get("replied_user") is not True


def embed_within_limits(embed: discord.Embed) -> None:
    assert len(embed) <= render_discord.EMBED_LIMIT
    assert len(embed.description or "") <= render_discord.DESCRIPTION_LIMIT
    assert len(embed.fields) <= render_discord.FIELD_COUNT_LIMIT
    for item in embed.fields:
        assert len(item.name or "") <= render_discord.FIELD_NAME_LIMIT
        assert len(item.value or "") <= render_discord.FIELD_VALUE_LIMIT
    assert len(embed.footer.text or "") <= render_discord.FOOTER_LIMIT


@pytest.mark.slow
async def test_a_mention_gets_an_embed_citing_the_right_article(make_bot: Any, payloads: list[dict[str, Any]]) -> None:
    client = await make_bot()
    await post(mention(client, TROOPS))
    (message,) = sent_messages()
    embed = message.embeds[0]
    assert "850" in (embed.description or "") and "[1]" in (embed.description or "")
    first = embed.fields[0]
    assert first.name == "[1] DW · 2014-12-29"
    assert "Taliban declare" in (first.value or "") and "850" in (first.value or "")
    assert (embed.footer.text or "").startswith("Answered in ")
    embed_within_limits(embed)
    assert_no_pings(payloads)


@pytest.mark.slow
async def test_a_reply_to_an_answer_is_a_followup(make_bot: Any, desk: FlakyDesk) -> None:
    client = await make_bot()
    await post(mention(client, TROOPS))
    (answer,) = sent_messages()
    await post("who said that?", member=1, replying_to=answer)
    (followup,) = sent_messages()
    assert desk.asked[-1] == f"who said that? {TROOPS}"
    assert TROOPS in (followup.embeds[0].footer.text or "")  # the footer says what it was read as
    # A message that neither mentions the bot nor replies to it is not for the bot.
    await post("who said that?")
    assert not sent_messages() and len(desk.asked) == 2


@pytest.mark.slow
async def test_the_cooldown_refuses_and_says_when_to_retry(
    make_bot: Any, clock: Clock, desk: FlakyDesk, payloads: list[dict[str, Any]]
) -> None:
    client = await make_bot(discord_cooldown_s=30)
    await post(mention(client, TROOPS))
    assert sent_messages()[0].embeds
    clock.now += 12
    await post(mention(client, "When will NATO leave Afghanistan?"))
    (refusal,) = sent_messages()
    assert "again in 18 seconds" in (refusal.content or "") and not refusal.embeds
    assert len(desk.asked) == 1  # refused before any work
    await post(mention(client, "When will NATO leave Afghanistan?"), member=1)  # another user is not held back
    assert sent_messages()[0].embeds
    clock.now += 18
    await post(mention(client, "When will NATO leave Afghanistan?"))
    assert sent_messages()[0].embeds
    assert_no_pings(payloads)


@pytest.mark.slow
async def test_everyone_in_a_question_pings_nobody(
    make_bot: Any, desk: FlakyDesk, payloads: list[dict[str, Any]]
) -> None:
    client = await make_bot()
    role = dpy_backend.make_role("mods", dpytest.get_config().guilds[0], mentionable=True)
    await post(mention(client, f"@everyone @here <@&{role.id}> {TROOPS}"))
    (message,) = sent_messages()
    assert "850" in (message.embeds[0].description or "")
    assert desk.asked == [TROOPS]  # the mentions never reach the index, so no answer can repeat them
    assert_no_pings(payloads)


@pytest.mark.slow
async def test_an_over_long_answer_is_split_within_the_limits(
    make_bot: Any, desk: FlakyDesk, seed_desk: Newsdesk
) -> None:
    article = max(seed_desk.sources(), key=lambda a: len(a.text))

    def inflate(answer: Answer) -> Answer:
        long_quotes = [dataclasses.replace(c, quote=article.text[:3000]) for c in answer.citations]
        return dataclasses.replace(answer, text=" ".join([article.text] * 3), citations=long_quotes)

    desk.inflate = inflate
    client = await make_bot()
    await post(mention(client, TROOPS))
    messages = sent_messages()
    assert len(messages) >= 2
    embeds = [m.embeds[0] for m in messages]
    for embed in embeds:
        embed_within_limits(embed)
    text = " ".join(e.description or "" for e in embeds)
    assert " ".join(text.split()) == " ".join(" ".join([article.text] * 3).split())  # nothing lost
    for embed in embeds[:-1]:  # every piece ends at a sentence end
        assert (embed.description or "").rstrip().endswith((".", "?", "!", '"', "”", "'"))
    assert embeds[-1].fields[0].name == "[1] DW · 2014-12-29"
    assert "…" in (embeds[-1].fields[0].value or "")  # the quote was shortened, not dropped


@pytest.mark.slow
async def test_an_exception_while_answering_apologises_and_the_bot_keeps_serving(
    make_bot: Any, desk: FlakyDesk, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_bot()
    desk.failures = 1
    await post(mention(client, TROOPS))
    (apology,) = sent_messages()
    assert apology.content == APOLOGY and "\n" not in APOLOGY
    assert "the index went away" in caplog.text and "Traceback" in caplog.text
    await post(mention(client, TROOPS))
    assert "850" in (sent_messages()[0].embeds[0].description or "")


async def test_channels_outside_the_allowlist_are_ignored(make_bot: Any, desk: FlakyDesk) -> None:
    client = await make_bot(discord_channels="somewhere-else")
    await post(mention(client, TROOPS))
    assert not sent_messages() and not desk.asked


# -- the slash command, through a real discord.Interaction whose HTTP calls are recorded ------------


@dataclasses.dataclass
class InteractionCalls:
    responses: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    followups: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@pytest.fixture
def interaction_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractionCalls]:
    calls = InteractionCalls()

    async def create_interaction_response(self: Any, interaction_id: int, token: str, **kwargs: Any) -> Any:
        calls.responses.append(kwargs)
        return {"interaction": {"id": str(interaction_id), "type": 2}, "resource": None}

    async def execute_webhook(self: Any, webhook_id: int, token: str, **kwargs: Any) -> Any:
        calls.followups.append(kwargs)
        config = dpytest.get_config()
        bot_user = dpy_backend.get_state().user
        payload = kwargs["payload"] or {}
        embeds = [discord.Embed.from_dict(e) for e in payload.get("embeds", [])]
        return dpy_facts.make_message_dict(
            config.channels[0], bot_user, content=payload.get("content"), embeds=embeds, guild_id=config.guilds[0].id
        )

    monkeypatch.setattr(webhook_async.AsyncWebhookAdapter, "create_interaction_response", create_interaction_response)
    monkeypatch.setattr(webhook_async.AsyncWebhookAdapter, "execute_webhook", execute_webhook)
    yield calls


def make_interaction(client: NewsdeskBot, options: dict[str, str]) -> discord.Interaction:
    config = dpytest.get_config()
    member = config.members[0]
    data: dict[str, Any] = {
        "id": str(dpy_facts.make_id()),
        "application_id": str(client.user.id),  # type: ignore[union-attr]
        "type": 2,
        "token": "interaction-token",
        "version": 1,
        "guild_id": str(config.guilds[0].id),
        "channel_id": str(config.channels[0].id),
        "channel": {"id": str(config.channels[0].id), "type": 0, "guild_id": str(config.guilds[0].id)},
        "member": {**dpy_facts.dict_from_member(member), "permissions": "0"},
        "attachment_size_limit": 8_000_000,
        "data": {
            "id": "1",
            "name": "ask",
            "type": 1,
            "options": [{"name": k, "type": 3, "value": v} for k, v in options.items()],
        },
    }
    return discord.Interaction(data=data, state=client._connection)  # type: ignore[arg-type]


@pytest.mark.slow
async def test_the_slash_command_defers_then_answers_by_followup(
    make_bot: Any, interaction_calls: InteractionCalls, desk: FlakyDesk
) -> None:
    client = await make_bot()
    command = client.tree.get_command("ask")
    assert command is not None and [p.name for p in command.parameters] == ["question", "since", "until", "outlet"]
    interaction = make_interaction(client, {"question": TROOPS})
    await command.callback(interaction, question=TROOPS, since="2014-01-01", until=None, outlet="DW")  # type: ignore[call-arg,arg-type]
    (deferred,) = interaction_calls.responses
    assert deferred["params"].payload["type"] == discord.InteractionResponseType.deferred_channel_message.value
    (followup,) = interaction_calls.followups
    payload = followup["payload"]
    assert "850" in payload["embeds"][0]["description"]
    assert payload["embeds"][0]["fields"][0]["name"] == "[1] DW · 2014-12-29"
    assert payload["allowed_mentions"]["parse"] == []
    # The follow-up is remembered: replying to it continues the conversation with the same filters.
    (turn,) = set(map(id, client.answers.values()))
    remembered = next(iter(client.answers.values()))
    assert remembered.options.since == dt.date(2014, 1, 1) and remembered.options.outlet == "DW"
    assert turn


async def test_a_bad_date_in_the_slash_command_is_one_private_line(
    make_bot: Any, interaction_calls: InteractionCalls, desk: FlakyDesk
) -> None:
    client = await make_bot()
    command = client.tree.get_command("ask")
    interaction = make_interaction(client, {"question": TROOPS, "since": "last spring"})
    await command.callback(interaction, question=TROOPS, since="last spring")  # type: ignore[union-attr,call-arg,arg-type]
    (response,) = interaction_calls.responses
    data = response["params"].payload["data"]
    assert "2021-04-14" in data["content"] and data["flags"] & 64  # ephemeral
    assert not desk.asked and not interaction_calls.followups


async def test_direct_messages_follow_the_dm_policy(make_bot: Any, desk: FlakyDesk) -> None:
    await make_bot(discord_dm_policy="deny")
    member = dpytest.get_config().members[0]
    channel = await member.create_dm()
    data = dpy_facts.make_message_dict(channel, member, content=TROOPS)
    dpy_backend.get_state().parse_message_create(data)
    await dpytest.run_all_events()
    (refusal,) = sent_messages()
    assert refusal.content == "I only answer questions in servers. Please ask me there."
    assert not desk.asked


async def test_sources_lists_the_indexed_articles_privately(
    make_bot: Any, interaction_calls: InteractionCalls, seed_desk: Newsdesk
) -> None:
    client = await make_bot()
    command = client.tree.get_command("sources")
    await command.callback(make_interaction(client, {}))  # type: ignore[union-attr,call-arg,arg-type]
    (response,) = interaction_calls.responses
    data = response["params"].payload["data"]
    assert data["flags"] & 64
    description = data["embeds"][0]["description"]
    assert description.splitlines()[0].startswith("• DW · 2021-04-14 · NATO allies to begin withdrawal")
    assert len(description.splitlines()) == len(seed_desk.sources()) == 3


async def test_sigterm_shuts_the_bot_down_cleanly(
    desk: FlakyDesk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "newsdesk.discord")
    client = NewsdeskBot(ChatCore(desk), desk.desk.settings)
    started = asyncio.Event()

    async def gateway(token: str) -> None:  # stands in for login + gateway: runs until the client closes
        started.set()
        while not client.is_closed():
            await asyncio.sleep(0.01)

    monkeypatch.setattr(client, "start", gateway)
    serving = asyncio.create_task(serve(client, "secret-token"))
    await asyncio.wait_for(started.wait(), 5)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(serving, 5)
    assert client.is_closed() and "SIGTERM received: shutting down" in caplog.text


async def test_a_rejected_token_is_one_clear_line(desk: FlakyDesk, monkeypatch: pytest.MonkeyPatch) -> None:
    client = NewsdeskBot(ChatCore(desk), desk.desk.settings)

    async def rejected(token: str) -> None:
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr(client, "start", rejected)
    with pytest.raises(ConfigError, match="Discord rejected the bot token") as caught:
        await serve(client, "secret-token")
    assert "secret-token" not in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_token_is_one_clear_line(seed_desk: Newsdesk) -> None:
    with pytest.raises(ConfigError, match="set DISCORD_TOKEN"):
        run(seed_desk.settings.replace(discord_token="  "))


@pytest.mark.slow
async def test_direct_messages_are_a_conversation(make_bot: Any, desk: FlakyDesk) -> None:
    await make_bot()
    member = dpytest.get_config().members[0]
    channel = await member.create_dm()
    for text in [TROOPS, "and in 2020?"]:
        dpy_backend.get_state().parse_message_create(dpy_facts.make_message_dict(channel, member, content=text))
        await dpytest.run_all_events()
    assert len(sent_messages()) == 2
    assert desk.asked == [TROOPS, f"and in 2020? {TROOPS}"]


async def test_the_bots_own_role_addresses_it(make_bot: Any, desk: FlakyDesk) -> None:
    client = await make_bot()
    guild = dpytest.get_config().guilds[0]
    role = dpy_backend.make_role("Newsdesk", guild)
    role.tags = discord.role.RoleTags({"bot_id": str(client.user.id)})  # type: ignore[union-attr,typeddict-item]
    assert guild.self_role is role
    await post(f"<@&{role.id}> {TROOPS}")
    assert sent_messages()[0].embeds and desk.asked == [TROOPS]
