"""Load: hundreds of questions at once through the chat core, as the Discord front end sends them, on a
Reuters index; and the Discord layer riding out HTTP 429 and 5xx from Discord without losing an answer."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from typing import Any

import discord
import discord.ext.test.backend as dpy_backend
import pytest

from bot.chat import ChatCore, ChatReply
from index.newsdesk import Newsdesk
from tests.bot.test_discord_bot import (  # noqa: F401 - fixtures and helpers of the Discord bot's tests
    VEHICLES,
    clock,
    desk,
    make_bot,
    mention,
    post,
    sent_messages,
)
from tests.reuters_corpus import reuters_stories, write_jsonl_corpus

STORIES = 200
REPEATS = 20  # the same question sent twice must be answered twice, not merged or dropped


@pytest.fixture(scope="module")
def reuters_desk(tmp_path_factory: pytest.TempPathFactory, fake_embedder) -> Newsdesk:
    """Real Reuters stories on the fake embedder: what is loaded here is the chat core and the answer
    stage, concurrently; how fast the model embeds is the benchmarks' business (make bench)."""
    from tests.conftest import fake_settings, open_fake_desk

    stories = reuters_stories(STORIES)
    if not stories:
        pytest.skip("Reuters-21578 is not on this machine (set NEWSDESK_DATA to the folder holding reuters21578/)")
    root = tmp_path_factory.mktemp("reuters")
    write_jsonl_corpus(root / "corpus", stories)
    return open_fake_desk(fake_settings(root / "corpus", root / "index"), fake_embedder)


def questions_from(newsdesk: Newsdesk) -> list[tuple[str, str]]:
    """(question, id of the story it was written from): one per story, from its headline."""
    out = []
    for article in sorted(newsdesk.stored.articles.values(), key=lambda a: a.id):
        out.append((f"What is reported about {article.title.lower()}?", article.id))
    return out


@pytest.mark.slow
async def test_hundreds_of_concurrent_questions_are_each_answered_once(reuters_desk: Newsdesk) -> None:
    asked = questions_from(reuters_desk)
    asked += asked[:REPEATS]
    assert len(asked) >= 200
    core = ChatCore(reuters_desk, reuters_desk.settings.max_question_chars)
    latencies: list[float] = []

    async def one(question: str) -> ChatReply:
        started = time.perf_counter()
        reply = await core.areply(question)
        latencies.append(time.perf_counter() - started)
        return reply

    started = time.perf_counter()
    replies = await asyncio.gather(*(one(q) for q, _ in asked))
    wall = time.perf_counter() - started

    assert len(replies) == len(asked)
    failed = [(r.kind, r.message) for r in replies if not r.ok]
    assert not failed, failed[:5]
    # Every question got its own answer: none lost, none duplicated, none crossed with another.
    assert Counter(r.text for r in replies) == Counter(q for q, _ in asked)
    for reply, (question, _) in zip(replies, asked, strict=True):
        assert reply.answer is not None and reply.answer.question == question == reply.text
    # And the answers are real: most headline questions find their own story.
    titles = {a.id: a.title for a in reuters_desk.stored.articles.values()}
    found = sum(
        1
        for reply, (_, story) in zip(replies, asked, strict=True)
        if reply.answer is not None
        and titles[story] in {c.title for c in reply.answer.citations} | set(reply.answer.closest_matches)
    )
    assert found >= 0.7 * len(asked), f"only {found} of {len(asked)} questions found their story"
    ordered = sorted(latencies)
    p50, p95 = statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]
    print(
        f"\nload: {len(asked)} concurrent questions over {len(reuters_desk.stored.articles)} Reuters stories "
        f"({len(reuters_desk.stored.chunks)} chunks): all answered in {wall:.1f} s; latency from submission "
        f"p50 {p50:.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s; {found} found their own story",
        file=sys.stderr,
    )


# --- Discord errors -----------------------------------------------------------------------------------


class FakeDiscordResponse:
    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = {200: "OK", 429: "Too Many Requests"}.get(status, "Server Error")
        if status == 429:
            self.body = json.dumps({"message": "You are being rate limited.", "retry_after": 0.05, "global": False})
            self.headers = {"content-type": "application/json", "Via": "1.1 google"}
        elif status == 200:
            self.body, self.headers = "{}", {"content-type": "application/json"}
        else:
            self.body, self.headers = "<html>upstream error</html>", {"content-type": "text/html"}

    async def text(self, encoding: str = "utf-8") -> str:
        return self.body


class FakeDiscordSession:
    """Stands in for aiohttp under discord.py's real HTTP client: answers with the given statuses in turn."""

    closed = False

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.posts: list[tuple[str, int]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        status = self.statuses.pop(0) if self.statuses else 200
        self.posts.append((url, status))
        response = FakeDiscordResponse(status)

        class Exchange:
            async def __aenter__(self) -> FakeDiscordResponse:
                return response

            async def __aexit__(self, *exc: object) -> None:
                return None

        return Exchange()


@pytest.mark.slow
@pytest.mark.parametrize("statuses", [[429, 429, 200], [502, 200], [500, 429, 504, 200]])
async def test_the_discord_layer_rides_out_429_and_5xx_without_losing_the_answer(
    make_bot: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    statuses: list[int],
) -> None:
    client = await make_bot()
    # Every message the bot sends first goes through discord.py's real HTTP client (rate-limit and retry
    # logic included) against a Discord that answers with ``statuses``; only a 2xx reaches the channel.
    real_http = discord.http.HTTPClient(loop=asyncio.get_running_loop())
    session = FakeDiscordSession(list(statuses))
    real_http._HTTPClient__session = session  # type: ignore[attr-defined]
    real_http._global_over = asyncio.Event()  # as static_login (the real log-in) leaves it
    real_http._global_over.set()
    fake_http = dpy_backend.get_state().http
    deliver = type(fake_http).send_message

    async def send_message(self: Any, channel_id: int, *, params: Any) -> Any:
        route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
        await real_http.request(route, json=params.payload)  # raises if Discord never recovers
        channel = sys._getframe(1).f_locals.get("channel")  # noqa: F841 - dpytest reads its caller's locals
        return await deliver(self, channel_id, params=params)

    monkeypatch.setattr(type(fake_http), "send_message", send_message)
    await post(mention(client, VEHICLES))
    (answer,) = sent_messages()  # exactly one: not lost, not sent twice, not an apology
    assert answer.embeds and "15,000" in (answer.embeds[0].description or "")
    assert [status for _, status in session.posts] == statuses
