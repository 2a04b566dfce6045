"""The Discord bot with real discord.py objects and dpytest's fake gateway: no network, a real index of the
made-up articles on the fake embedder (``news_desk``, tests/conftest.py)."""

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

VEHICLES = "How many vehicles crossed the bridge on its first day?"
OPEN = "When will the harbour bridge open?"


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
def desk(news_desk: Newsdesk) -> FlakyDesk:
    return FlakyDesk(news_desk)


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


async def post(text: str, member: int = 0, replying_to: discord.Message | None = None, channel: Any = None) -> None:
    """A member posts ``text`` in the first channel (or ``channel``), as the gateway would deliver it.

    (dpytest's own ``message`` finds mentioned users in the member cache, which holds no bot without the
    privileged members intent, and it cannot make replies.)"""
    config = dpytest.get_config()
    channel, author = channel or config.channels[0], config.members[member]
    bot_user = dpy_backend.get_state().user
    assert bot_user is not None  # the bot has logged in
    mentioned = [bot_user] if f"<@{bot_user.id}>" in text else []
    # dpytest's type hints allow users and members as mentions; the bot's own ClientUser works the same.
    data = dpy_facts.make_message_dict(  # type: ignore[call-overload]
        channel, author, content=text, mentions=mentioned, guild_id=channel.guild.id
    )
    if replying_to is not None:
        data["message_reference"] = {
            "message_id": replying_to.id,
            "channel_id": channel.id,
            "guild_id": channel.guild.id,
        }
    dpy_backend.get_state().parse_message_create(data)
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


async def test_a_mention_gets_an_embed_citing_the_right_article(make_bot: Any, payloads: list[dict[str, Any]]) -> None:
    client = await make_bot()
    await post(mention(client, VEHICLES))
    (message,) = sent_messages()
    embed = message.embeds[0]
    assert "15,000" in (embed.description or "") and "[1]" in (embed.description or "")
    first = embed.fields[0]
    assert first.name == "[1] Coastal Times · 2022-03-20"
    assert "Harbour bridge opens" in (first.value or "") and "15,000" in (first.value or "")
    assert (embed.footer.text or "").startswith("Answered in ")
    embed_within_limits(embed)
    assert_no_pings(payloads)


async def test_a_reply_to_an_answer_is_a_followup(make_bot: Any, desk: FlakyDesk) -> None:
    client = await make_bot()
    await post(mention(client, OPEN))
    (answer,) = sent_messages()
    await post("and in 2021?", member=1, replying_to=answer)
    (followup,) = sent_messages()
    assert desk.asked[-1] == f"and in 2021? {OPEN}"
    assert OPEN in (followup.embeds[0].footer.text or "")  # the footer says what it was read as
    # A message that neither mentions the bot nor replies to it is not for the bot.
    await post("and in 2020?")
    assert not sent_messages() and len(desk.asked) == 2


async def test_the_cooldown_refuses_and_says_when_to_retry(
    make_bot: Any, clock: Clock, desk: FlakyDesk, payloads: list[dict[str, Any]]
) -> None:
    client = await make_bot(discord_cooldown_s=30)
    await post(mention(client, VEHICLES))
    assert sent_messages()[0].embeds
    clock.now += 12
    await post(mention(client, OPEN))
    (refusal,) = sent_messages()
    assert "again in 18 seconds" in (refusal.content or "") and not refusal.embeds
    assert len(desk.asked) == 1  # refused before any work
    await post(mention(client, OPEN), member=1)  # another user is not held back
    assert sent_messages()[0].embeds
    clock.now += 18
    await post(mention(client, OPEN))
    assert sent_messages()[0].embeds
    assert_no_pings(payloads)


async def test_everyone_in_a_question_pings_nobody(
    make_bot: Any, desk: FlakyDesk, payloads: list[dict[str, Any]]
) -> None:
    client = await make_bot()
    role = dpy_backend.make_role("mods", dpytest.get_config().guilds[0], mentionable=True)
    await post(mention(client, f"@everyone @here <@&{role.id}> {VEHICLES}"))
    (message,) = sent_messages()
    assert "15,000" in (message.embeds[0].description or "")
    assert desk.asked == [VEHICLES]  # the mentions never reach the index, so no answer can repeat them
    assert_no_pings(payloads)


async def test_an_over_long_answer_is_split_within_the_limits(
    make_bot: Any, desk: FlakyDesk, news_desk: Newsdesk, interaction_calls: InteractionCalls
) -> None:
    article = max(news_desk.sources(), key=lambda a: len(a.text))

    def inflate(answer: Answer) -> Answer:
        long_quotes = [dataclasses.replace(c, quote=article.text[:3000]) for c in answer.citations]
        return dataclasses.replace(answer, text=" ".join([article.text] * 3), citations=long_quotes)

    desk.inflate = inflate
    client = await make_bot()
    await post(mention(client, VEHICLES))
    (message,) = sent_messages()  # one message; its other pages are behind "Next page"
    view = client.views[message.id]
    assert view.button("Previous page").disabled and not view.button("Next page").disabled
    embeds = [message.embeds[0]]
    while not view.button("Next page").disabled:
        await view.button("Next page").callback(component_interaction(client, message))
        embeds.append(interaction_calls.responses[-1]["params"].payload["data"]["embeds"][0])
    embeds = [e if isinstance(e, discord.Embed) else discord.Embed.from_dict(e) for e in embeds]
    assert len(embeds) >= 2 and all(e.title == VEHICLES for e in embeds)  # every page repeats the question
    assert embeds[0].author.name == f"Page 1 of {len(embeds)}"
    for embed in embeds:
        embed_within_limits(embed)
    text = " ".join(e.description or "" for e in embeds)
    assert " ".join(text.split()) == " ".join(" ".join([article.text] * 3).split())  # nothing lost
    for embed in embeds[:-1]:  # every piece ends at a sentence end
        assert (embed.description or "").rstrip().endswith((".", "?", "!", '"', "”", "'"))
    assert embeds[-1].fields[0].name == "[1] Coastal Times · 2022-03-20"
    assert "…" in (embeds[-1].fields[0].value or "")  # the quote was shortened, not dropped


async def test_an_exception_while_answering_apologises_and_the_bot_keeps_serving(
    make_bot: Any, desk: FlakyDesk, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_bot()
    desk.failures = 1
    await post(mention(client, VEHICLES))
    (apology,) = sent_messages()
    assert apology.content == APOLOGY and "\n" not in APOLOGY
    assert "the index went away" in caplog.text and "Traceback" in caplog.text
    await post(mention(client, VEHICLES))
    assert "15,000" in (sent_messages()[0].embeds[0].description or "")


async def test_channels_outside_the_allowlist_are_ignored(make_bot: Any, desk: FlakyDesk) -> None:
    client = await make_bot(discord_channels="somewhere-else")
    await post(mention(client, VEHICLES))
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
        assert bot_user is not None
        payload = kwargs["payload"] or {}
        embeds = [discord.Embed.from_dict(e) for e in payload.get("embeds", [])]
        return dpy_facts.make_message_dict(
            config.channels[0],
            bot_user,
            content=payload.get("content"),  # type: ignore[arg-type]  # None (embeds only), as Discord sends it
            embeds=embeds,
            guild_id=config.guilds[0].id,
        )

    monkeypatch.setattr(webhook_async.AsyncWebhookAdapter, "create_interaction_response", create_interaction_response)
    monkeypatch.setattr(webhook_async.AsyncWebhookAdapter, "execute_webhook", execute_webhook)
    yield calls


def make_interaction(client: NewsdeskBot, options: dict[str, str], channel: Any = None) -> discord.Interaction:
    config = dpytest.get_config()
    member = config.members[0]
    channel = channel or config.channels[0]
    channel_data: dict[str, Any] = {
        "id": str(channel.id),
        "type": channel.type.value,
        "guild_id": str(config.guilds[0].id),
    }
    if isinstance(channel, discord.Thread):
        channel_data["parent_id"] = str(channel.parent_id)
    data: dict[str, Any] = {
        "id": str(dpy_facts.make_id()),
        "application_id": str(client.user.id),  # type: ignore[union-attr]
        "type": 2,
        "token": "interaction-token",
        "version": 1,
        "guild_id": str(config.guilds[0].id),
        "channel_id": str(channel.id),
        "channel": channel_data,
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


async def test_the_slash_command_defers_then_answers_by_followup(
    make_bot: Any, interaction_calls: InteractionCalls, desk: FlakyDesk
) -> None:
    client = await make_bot()
    command = client.tree.get_command("ask")
    assert command is not None
    assert [p.name for p in command.parameters] == ["question", "since", "until", "outlet", "as_of"]
    interaction = make_interaction(client, {"question": VEHICLES})
    await command.callback(
        interaction, question=VEHICLES, since="2019-01-01", until=None, outlet="Coastal", as_of="2022-12-31"
    )
    (deferred,) = interaction_calls.responses
    assert deferred["params"].payload["type"] == discord.InteractionResponseType.deferred_channel_message.value
    (followup,) = interaction_calls.followups
    payload = followup["payload"]
    assert "15,000" in payload["embeds"][0]["description"]
    assert payload["embeds"][0]["fields"][0]["name"] == "[1] Coastal Times · 2022-03-20"
    assert payload["embeds"][0]["title"] == VEHICLES  # the embed repeats the question
    assert payload["allowed_mentions"]["parse"] == []
    labels = [c["label"] for row in payload["components"] for c in row["components"]]
    assert labels == ["Source 1", "Follow up in a thread"]  # one answer page: no page buttons
    # The answer message is remembered with its turn: replying to it continues with the same filters.
    (remembered,) = client.answers.values()
    assert remembered.text == VEHICLES and remembered.answer.citations[0].date == "2022-03-20"
    assert remembered.options.since == dt.date(2019, 1, 1) and remembered.options.outlet == "Coastal"
    assert remembered.options.as_of == dt.date(2022, 12, 31)
    desk.asked.clear()
    reply = make_interaction(client, {"question": "and in 2021?"})
    await client.tree.get_command("ask").callback(reply, question="and in 2021?")
    assert desk.asked == ["and in 2021?"]  # a new /ask in a channel is a new conversation


async def test_a_bad_date_in_the_slash_command_is_one_private_line(
    make_bot: Any, interaction_calls: InteractionCalls, desk: FlakyDesk
) -> None:
    client = await make_bot()
    command = client.tree.get_command("ask")
    interaction = make_interaction(client, {"question": VEHICLES, "since": "last spring"})
    await command.callback(interaction, question=VEHICLES, since="last spring")
    (response,) = interaction_calls.responses
    data = response["params"].payload["data"]
    assert "`since` 'last spring' is not a date" in data["content"] and "YYYY-MM-DD" in data["content"]
    assert data["flags"] & 64  # ephemeral
    assert not desk.asked and not interaction_calls.followups


async def test_direct_messages_follow_the_dm_policy(make_bot: Any, desk: FlakyDesk) -> None:
    await make_bot(discord_dm_policy="deny")
    member = dpytest.get_config().members[0]
    channel = await member.create_dm()
    # dpytest's type hints name guild channels only; a DM channel works the same.
    data = dpy_facts.make_message_dict(channel, member, content=VEHICLES)  # type: ignore[call-overload]
    dpy_backend.get_state().parse_message_create(data)
    await dpytest.run_all_events()
    (refusal,) = sent_messages()
    assert refusal.content == "I only answer questions in servers. Please ask me there."
    assert not desk.asked


async def test_sources_lists_the_indexed_articles_privately(
    make_bot: Any, interaction_calls: InteractionCalls, news_desk: Newsdesk
) -> None:
    client = await make_bot()
    command = client.tree.get_command("sources")
    await command.callback(make_interaction(client, {}))
    (response,) = interaction_calls.responses
    data = response["params"].payload["data"]
    assert data["flags"] & 64
    description = data["embeds"][0]["description"]
    assert description.splitlines()[0] == (
        "• 2022-03-20 · Coastal Times · "
        "[Harbour bridge opens to traffic in Northvale](https://coastaltimes.example/northvale-bridge-opens)"
    )
    assert len(description.splitlines()) == len(news_desk.sources()) == 4
    assert "components" not in data or not data["components"]  # one page: no page buttons


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


def test_a_missing_token_is_one_clear_line(news_desk: Newsdesk) -> None:
    with pytest.raises(ConfigError, match="set DISCORD_TOKEN"):
        run(news_desk.settings.replace(discord_token="  "))


async def test_direct_messages_are_a_conversation(make_bot: Any, desk: FlakyDesk) -> None:
    await make_bot()
    member = dpytest.get_config().members[0]
    channel = await member.create_dm()
    for text in [OPEN, "and in 2021?"]:
        data = dpy_facts.make_message_dict(channel, member, content=text)  # type: ignore[call-overload]  # a DM
        dpy_backend.get_state().parse_message_create(data)
        await dpytest.run_all_events()
    assert len(sent_messages()) == 2
    assert desk.asked == [OPEN, f"and in 2021? {OPEN}"]


async def test_the_bots_own_role_addresses_it(make_bot: Any, desk: FlakyDesk) -> None:
    client = await make_bot()
    guild = dpytest.get_config().guilds[0]
    role = dpy_backend.make_role("Newsdesk", guild)
    role.tags = discord.role.RoleTags({"bot_id": str(client.user.id)})
    assert guild.self_role is role
    await post(f"<@&{role.id}> {VEHICLES}")
    assert sent_messages()[0].embeds and desk.asked == [VEHICLES]


# -- buttons, threads, /help, autocomplete, the invite ---------------------------------------------

OKAFOR = "What did Okafor say about the bridge?"


def component_interaction(client: NewsdeskBot, message: discord.Message) -> discord.Interaction:
    """A click on a button of ``message``, as Discord delivers it (the HTTP replies are recorded)."""
    config = dpytest.get_config()
    channel = message.channel
    assert channel.type is not None
    channel_data: dict[str, Any] = {
        "id": str(channel.id),
        "type": channel.type.value,
        "guild_id": str(config.guilds[0].id),
    }
    if isinstance(channel, discord.Thread):
        channel_data["parent_id"] = str(channel.parent_id)
    data: dict[str, Any] = {
        "id": str(dpy_facts.make_id()),
        "application_id": str(client.user.id),  # type: ignore[union-attr]
        "type": 3,
        "token": "component-token",
        "version": 1,
        "guild_id": str(config.guilds[0].id),
        "channel_id": str(channel.id),
        "channel": channel_data,
        "member": {**dpy_facts.dict_from_member(config.members[1]), "permissions": "0"},
        "attachment_size_limit": 8_000_000,
        "message": dpy_facts.dict_from_message(message),
        "data": {"custom_id": "button", "component_type": 2},
    }
    return discord.Interaction(data=data, state=client._connection)  # type: ignore[arg-type]


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Threads the bot opens: dpytest has none, so the HTTP call makes one in the guild's cache."""
    created: list[dict[str, Any]] = []

    async def start_thread_with_message(self: Any, channel_id: int, message_id: int, **kwargs: Any) -> Any:
        guild = dpytest.get_config().guilds[0]
        bot_user = dpy_backend.get_state().user
        assert bot_user is not None
        data = {
            "id": str(dpy_facts.make_id()),
            "guild_id": str(guild.id),
            "parent_id": str(channel_id),
            "owner_id": str(bot_user.id),
            "name": kwargs["name"],
            "type": 11,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": kwargs["auto_archive_duration"],
                "archive_timestamp": "2026-01-01T00:00:00+00:00",
                "locked": False,
            },
        }
        created.append(data | {"message_id": message_id})
        guild._add_thread(discord.Thread(guild=guild, state=dpy_backend.get_state(), data=data))  # type: ignore[arg-type]
        return data

    monkeypatch.setattr(dpy_backend.FakeHttp, "start_thread_with_message", start_thread_with_message, raising=False)
    return created


def response_data(calls: InteractionCalls) -> dict[str, Any]:
    return calls.responses[-1]["params"].payload["data"]


async def test_a_source_button_shows_the_whole_passage_only_to_the_clicker(
    make_bot: Any, interaction_calls: InteractionCalls
) -> None:
    client = await make_bot()
    await post(mention(client, VEHICLES))
    (message,) = sent_messages()
    view = client.views[message.id]
    await view.button("Source 1").callback(component_interaction(client, message))
    data = response_data(interaction_calls)
    assert data["flags"] & 64  # ephemeral
    embed = data["embeds"][0]
    citation = client.answers[message.id].answer.citations[0]
    assert embed["title"] == "[1] Harbour bridge opens to traffic in Northvale"
    assert len(citation.passage) > len(citation.quote)
    plain = embed["description"].replace("**", "").replace("\\", "")
    assert " ".join(plain.split()) == " ".join(citation.passage.split())  # the whole passage
    assert "**About 15,000 vehicles crossed" in embed["description"]  # the quoted sentence in bold


async def test_a_thread_holds_the_conversation(
    make_bot: Any, interaction_calls: InteractionCalls, threads: list[dict[str, Any]], desk: FlakyDesk
) -> None:
    """The Discord transcript of the closing note: an answer, its thread, follow-ups inside it."""
    client = await make_bot(discord_mentions=False)  # no privileged intent: slash commands and mentions only
    command = client.tree.get_command("ask")
    await command.callback(make_interaction(client, {"question": OKAFOR}), question=OKAFOR)
    payload = interaction_calls.followups[-1]["payload"]
    # dpytest's channels and message dicts are typed more loosely than discord.py's Message takes.
    answer_message = discord.Message(
        state=client._connection,
        channel=dpytest.get_config().channels[0],  # type: ignore[arg-type]
        data=dpy_facts.make_message_dict(  # type: ignore[arg-type]
            dpytest.get_config().channels[0],
            client.user,
            content="",
            embeds=[discord.Embed.from_dict(payload["embeds"][0])],
        ),
    )
    (answer_id,) = client.views
    view = client.views[answer_id]
    client.answers[answer_message.id] = client.answers[answer_id]
    await view.button("Follow up in a thread").callback(component_interaction(client, answer_message))
    (created,) = threads
    assert created["name"] == OKAFOR and created["message_id"] == answer_message.id
    thread = dpytest.get_config().guilds[0].get_thread(int(created["id"]))
    assert thread is not None
    (welcome,) = sent_messages()
    assert welcome.channel.id == thread.id and "/ask" in (welcome.content or "")
    assert f"<#{thread.id}>" in response_data(interaction_calls)["content"]  # told where, only to the clicker
    # A mention inside the thread is a follow-up of its conversation.
    await post(mention(client, "who said that?"), channel=thread)
    (speaker,) = sent_messages()
    assert speaker.channel.id == thread.id
    # The speaker of the quotation shown in the thread's answer (outside a conversation it is a hint to ask first).
    first_source = payload["embeds"][0]["fields"][0]["name"]
    assert (speaker.embeds[0].description or "").endswith("said it. [1]")
    assert speaker.embeds[0].fields[0].name == first_source
    # So is /ask inside it: "what about X?" swaps the thread question's subject.
    asked = make_interaction(client, {"question": "what about Dahl?"}, channel=thread)
    await command.callback(asked, question="what about Dahl?")
    assert desk.asked[-1] == "What did Dahl say about the bridge?"
    assert "Dahl said" in interaction_calls.followups[-1]["payload"]["embeds"][0]["description"]
    followup = interaction_calls.followups[-1]["payload"]
    labels = [c["label"] for row in followup.get("components", []) for c in row["components"]]
    assert "Follow up in a thread" not in labels  # already in one
    # A second click on the first answer's button points at the same thread.
    await view.button("Follow up in a thread").callback(component_interaction(client, answer_message))
    assert len(threads) == 1 and f"<#{thread.id}>" in response_data(interaction_calls)["content"]


async def test_help_explains_the_commands_privately(make_bot: Any, interaction_calls: InteractionCalls) -> None:
    client = await make_bot()
    await client.tree.get_command("help").callback(make_interaction(client, {}))
    data = response_data(interaction_calls)
    assert data["flags"] & 64
    text = data["embeds"][0]["description"]
    for words in ("/ask", "/sources", "Source n", "Next page", "Follow up in a thread", "as_of", "who said that?"):
        assert words in text, words
    assert data["embeds"][0]["fields"][0]["value"] == (
        "4 articles from Coastal Times, Northvale Courier, Valley Herald; the articles run from 2019-03-04 to "
        "2022-03-20."
    )


async def test_sources_are_paginated(
    make_bot: Any,
    interaction_calls: InteractionCalls,
    desk: FlakyDesk,
    news_desk: Newsdesk,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    many = [
        dataclasses.replace(a, id=f"{a.id}-{n}", title=f"{a.title} ({n})")
        for n in range(7)
        for a in news_desk.sources()
    ]
    monkeypatch.setattr(desk, "sources", lambda: many)
    client = await make_bot()
    await client.tree.get_command("sources").callback(make_interaction(client, {}))
    data = response_data(interaction_calls)
    assert data["flags"] & 64 and data["embeds"][0]["footer"]["text"] == "Page 1 of 3 · newest first"
    assert len(data["embeds"][0]["description"].splitlines()) == render_discord.SOURCES_PER_PAGE
    labels = [c["label"] for row in data["components"] for c in row["components"]]
    assert labels == ["Previous page", "Next page"]


async def test_outlet_and_dates_autocomplete_from_the_corpus(make_bot: Any) -> None:
    client = await make_bot()
    assert [(c.name, c.value) for c in client.outlet_choices("")] == [
        ("Coastal Times (2 articles)", "Coastal Times"),
        ("Northvale Courier (1 articles)", "Northvale Courier"),
        ("Valley Herald (1 articles)", "Valley Herald"),
    ]
    assert [c.value for c in client.outlet_choices("north")] == ["Northvale Courier"]
    assert [c.name for c in client.date_choices("")] == ["2019-03-04 (first article)", "2022-03-20 (last article)"]
    assert [c.value for c in client.date_choices("2020-10-01")] == ["2020-10-01"]
    assert [c.value for c in client.date_choices("2022")] == ["2022-03-20"]
    assert [c.value for c in client.date_choices("2019-0")] == ["2019-03-04"]
    command = client.tree.get_command("ask")
    options = {o["name"]: o for o in command.to_dict(client.tree)["options"]}
    assert options["outlet"]["autocomplete"] and options["since"]["autocomplete"] and options["as_of"]["autocomplete"]
    assert "YYYY-MM-DD" in options["since"]["description"] and "YYYY-MM-DD" in options["until"]["description"]


async def test_the_question_option_has_discords_own_max_length(make_bot: Any) -> None:
    client = await make_bot(max_question_chars=500)
    options = {o["name"]: o for o in client.tree.get_command("ask").to_dict(client.tree)["options"]}
    assert options["question"]["max_length"] == 500 and options["question"]["min_length"] == 1


def test_the_invite_carries_exactly_the_permissions_used() -> None:
    from bot.discord_bot import INVITE_PERMISSIONS, invite_url

    granted = {name for name, on in discord.Permissions(INVITE_PERMISSIONS) if on}
    # discord.py names View Channels "read_messages".
    assert granted == {
        "read_messages", "send_messages", "embed_links", "read_message_history",
        "create_public_threads", "send_messages_in_threads",
    }  # fmt: skip
    assert INVITE_PERMISSIONS == 309237730304  # the number README gives
    assert invite_url(42).endswith(f"&scope=bot+applications.commands&permissions={INVITE_PERMISSIONS}")
