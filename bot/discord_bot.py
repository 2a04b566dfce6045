"""``newsdesk discord``: the chat core as a Discord bot (discord.py).

- ``/ask question [since] [until] [outlet] [as_of]`` is deferred ("Newsdesk is thinking…") and answered
  by a follow-up message: an embed titled with the question. ``outlet`` autocompletes from the corpus,
  the dates suggest the corpus's range; ``question`` carries Discord's own max length, so the client
  refuses an over-long one before it is sent.
- Buttons under an answer (:mod:`bot.discord_views`): "Source n" shows that source's whole passage to the
  clicker only; "Next page" / "Previous page" turn a long answer's pages; "Follow up in a thread" opens
  a public thread on the answer that holds the conversation: ``/ask`` or an @mention inside it is a
  follow-up of the thread (mentions reach a bot without the privileged Message Content intent).
- ``/sources`` lists the indexed articles a page at a time and ``/help`` explains all this, both only to
  the asker.
- With ``discord_mentions`` on, the bot also answers ``@Newsdesk question`` and any reply to one of its
  answers, which is read as a follow-up of that answer's question.
- Every send passes ``AllowedMentions.none()``: nothing a question or an article holds pings anyone.
- A per-user cooldown, an optional channel allowlist (ids or names) and a DM policy come from Settings.
- Answering runs off the event loop (:meth:`bot.chat.ChatCore.areply`); an exception while answering is a
  one-line apology to the user and a traceback in the log, and the bot keeps serving.
- The token comes from Settings (``DISCORD_TOKEN``) and is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bot.chat import APOLOGY, AskOptions, ChatCore, ChatReply, ChatTurn, Conversation
from bot.discord_views import AnswerView, PagedView
from bot.render_discord import (
    Outgoing,
    help_embed,
    passage_embed,
    render_reply,
    retry_at,
    sources_pages,
    truncate,
)
from index import ConfigError, Coverage, NewsdeskError, Settings, parse_day

logger = logging.getLogger("newsdesk.discord")

NO_MENTIONS = discord.AllowedMentions.none()
# Exactly what the bot uses: read and answer in channels (replies need the history), embeds for
# answers, and the threads its "Follow up in a thread" button opens and answers in.
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    read_message_history=True,
    create_public_threads=True,
    send_messages_in_threads=True,
).value
# Discord's own limits: a string option of a slash command, a thread name, autocomplete choices.
OPTION_MAX_LENGTH = 6000
THREAD_NAME_LIMIT = 100
MAX_CHOICES = 25
THREAD_WELCOME = (
    "Follow-ups go here: `/ask` or mention me (“who said that?”, “what about …?”, “and in 2020?”). "
    "This thread keeps the first question's filters and as-of date."
)
# How many answers are remembered so that replying to them continues the conversation.
REMEMBERED_ANSWERS = 5000
DM_REFUSAL = "I only answer questions in servers. Please ask me there."


@dataclass
class Cooldown:
    """At most one question per user every ``seconds``."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    _last: dict[int, float] = field(default_factory=dict)

    def wait(self, user_id: int) -> float:
        """Seconds ``user_id`` must still wait (0: may ask now, and the clock starts again)."""
        if self.seconds <= 0:
            return 0.0
        now = self.clock()
        left = self.seconds - (now - self._last.get(user_id, -float("inf")))
        if left > 0:
            return left
        self._last[user_id] = now
        if len(self._last) > 10 * REMEMBERED_ANSWERS:  # forget users whose cooldown is long over
            self._last = {u: t for u, t in self._last.items() if now - t < self.seconds}
        return 0.0


def cooldown_message(seconds: float) -> str:
    whole = max(1, int(seconds + 0.999))
    unit = "second" if whole == 1 else "seconds"
    return f"One question at a time, please: you can ask again in {whole} {unit} ({retry_at(seconds)})."


def parse_guild(value: str) -> discord.Object | None:
    if not value.strip():
        return None
    if not value.strip().isdigit():
        raise ConfigError(f"setting 'discord_guild' must be a server id (digits), got {value!r}")
    return discord.Object(id=int(value.strip()))


def invite_url(application_id: int) -> str:
    return (
        f"https://discord.com/oauth2/authorize?client_id={application_id}"
        f"&scope=bot+applications.commands&permissions={INVITE_PERMISSIONS}"
    )


class NewsdeskBot(discord.Client):
    """The Discord front end: receives questions, asks the chat core, renders replies."""

    def __init__(
        self,
        core: ChatCore,
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
        intents: discord.Intents | None = None,
    ) -> None:
        if intents is None:
            intents = discord.Intents.default()
            # Message content is a privileged intent: asked for only when mention/reply mode is on.
            intents.message_content = settings.discord_mentions
        # Newsdesk never joins voice: the warnings about missing voice libraries are noise in its log.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(intents=intents, allowed_mentions=NO_MENTIONS)
        self.core = core
        self.settings = settings
        self.guild = parse_guild(settings.discord_guild)
        self.cooldown = Cooldown(settings.discord_cooldown_s, clock)
        self.channels = {c.strip().lstrip("#").lower() for c in settings.discord_channels if c.strip()}
        # Answer message id -> the turn it answered, so a reply to it is a follow-up.
        self.answers: OrderedDict[int, ChatTurn] = OrderedDict()
        self.dm_conversations: OrderedDict[int, Conversation] = OrderedDict()
        # Answer message id -> its buttons, while they answer (the view store holds them too).
        self.views: OrderedDict[int, AnswerView] = OrderedDict()
        # Thread id -> the conversation it holds (opened by the "Follow up in a thread" button).
        self.threads: OrderedDict[int, Conversation] = OrderedDict()
        self.tree = app_commands.CommandTree(self)
        self._add_commands()

    # -- start-up ---------------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        if self.guild is not None:  # a test server: commands appear at once
            self.tree.copy_global_to(guild=self.guild)
            synced = await self.tree.sync(guild=self.guild)
            logger.info("synced %d commands to server %s", len(synced), self.guild.id)
        else:  # everywhere: Discord may take up to an hour to show them
            synced = await self.tree.sync()
            logger.info("synced %d commands globally", len(synced))

    async def on_ready(self) -> None:
        if self.user is not None:
            logger.info("connected as %s to %d servers", self.user, len(self.guilds))
            logger.info("invite link: %s", invite_url(self.application_id or self.user.id))

    # -- where and who may ask --------------------------------------------------------------------

    def channel_allowed(self, channel: object) -> bool:
        """Whether the allowlist (ids or names; empty: all) admits ``channel``. DMs are the DM policy's."""
        if not self.channels or isinstance(channel, discord.DMChannel | discord.GroupChannel):
            return True
        names = {str(getattr(channel, "id", "")), str(getattr(channel, "name", "")).lower()}
        parent = getattr(channel, "parent", None)  # a thread follows its channel
        if parent is not None:
            names |= {str(parent.id), str(parent.name).lower()}
        return bool(names & self.channels)

    def refusal(self, channel: object, user_id: int) -> str | None:
        """Why ``user_id`` may not ask in ``channel`` now, as a polite line (None: may ask)."""
        if isinstance(channel, discord.DMChannel) and self.settings.discord_dm_policy == "deny":
            return DM_REFUSAL
        if not self.channel_allowed(channel):
            allowed = ", ".join(f"#{c}" if not c.isdigit() else f"<#{c}>" for c in sorted(self.channels))
            return f"I only answer in {allowed}."
        wait = self.cooldown.wait(user_id)
        return cooldown_message(wait) if wait > 0 else None

    # -- mentions and replies ---------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None:
            return
        thread = self.threads.get(message.channel.id)
        # In a thread it opened the bot answers mentions, which need no privileged intent; elsewhere
        # mention and reply mode is the setting's (replies need the Message Content intent).
        if not self.settings.discord_mentions and thread is None:
            return
        previous = self.replied_turn(message) if self.settings.discord_mentions else None
        # ``raw_mentions`` holds explicit user mentions only: @everyone does not address the bot. People
        # often pick the bot's own role from the mention list instead of the bot: that addresses it too.
        own_role = message.guild.self_role if message.guild is not None else None
        addressed = (
            self.user.id in message.raw_mentions
            or (own_role is not None and own_role.id in message.raw_role_mentions)
            or previous is not None
        )
        if not addressed and message.guild is not None:
            return
        if message.guild is not None and not self.channel_allowed(message.channel):
            return  # stay silent where the bot was not invited to speak
        refused = self.refusal(message.channel, message.author.id)
        if refused is not None:
            await message.reply(refused, mention_author=False, allowed_mentions=NO_MENTIONS)
            return
        if thread is not None and previous is None:
            conversation = thread
        elif message.guild is None and previous is None:
            # A direct message is a conversation of its own: the next DM follows up on the last one.
            conversation = self.dm_conversations.pop(message.author.id, Conversation())
            self.dm_conversations[message.author.id] = conversation
            while len(self.dm_conversations) > REMEMBERED_ANSWERS:
                self.dm_conversations.popitem(last=False)
        else:
            conversation = Conversation(turns=[previous] if previous else [])
        try:
            with contextlib.suppress(discord.HTTPException):  # "typing…" is a nicety; never fail on it
                await message.channel.typing()  # shown for 10 s or until the answer arrives
            reply = await self.core.areply(message.content, conversation)
            in_thread = isinstance(message.channel, discord.Thread)
            sent = await self.send_reply(reply, lambda out, view: self._reply_to(message, out, view), not in_thread)
            self.remember(sent, reply)
        except Exception:  # noqa: BLE001 - the bot keeps serving whatever one answer did
            logger.exception("answering a message failed")
            await self.apologise(lambda out, view: self._reply_to(message, out, view))

    def replied_turn(self, message: discord.Message) -> ChatTurn | None:
        """The turn of the bot's answer that ``message`` replies to, if it replies to one."""
        ref = message.reference
        if ref is None or ref.message_id is None:
            return None
        return self.answers.get(ref.message_id)

    async def _reply_to(self, message: discord.Message, out: Outgoing, view: discord.ui.View | None) -> discord.Message:
        return await message.reply(content=out.content, mention_author=False, **_send_options(out, view))

    # -- slash commands ---------------------------------------------------------------------------

    def _add_commands(self) -> None:
        @app_commands.command(name="ask", description="Ask the news articles a question; every claim is cited.")
        @app_commands.describe(
            question="Your question, e.g. How many German troops will be deployed to Afghanistan?",
            since="Only articles from this date on: YYYY-MM-DD, e.g. 2020-01-01",
            until="Only articles up to this date: YYYY-MM-DD, e.g. 2021-12-31",
            outlet="Only articles of this outlet (suggested as you type)",
            as_of="Answer as if asked on this date (YYYY-MM-DD): later articles are not used. Default: today",
        )
        async def ask(
            interaction: discord.Interaction,
            question: str,
            since: str | None = None,
            until: str | None = None,
            outlet: str | None = None,
            as_of: str | None = None,
        ) -> None:
            await self.handle_ask(interaction, question, since, until, outlet, as_of)

        # Discord's client refuses a longer question before sending it, instead of after "thinking…".
        # (discord.py keeps a string option's length limits in min_value / max_value.)
        ask._params["question"].min_value = 1
        ask._params["question"].max_value = min(self.settings.max_question_chars, OPTION_MAX_LENGTH)

        @ask.autocomplete("outlet")
        async def outlet_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return self.outlet_choices(current)

        @ask.autocomplete("since")
        @ask.autocomplete("until")
        @ask.autocomplete("as_of")
        async def date_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return self.date_choices(current)

        @app_commands.command(name="sources", description="List the articles Newsdesk answers from.")
        async def sources(interaction: discord.Interaction) -> None:
            await self.handle_sources(interaction)

        @app_commands.command(name="help", description="How to ask Newsdesk, follow up, and see sources.")
        async def help_command(interaction: discord.Interaction) -> None:
            await self.handle_help(interaction)

        self.tree.add_command(ask)
        self.tree.add_command(sources)
        self.tree.add_command(help_command)

    def outlet_choices(self, current: str) -> list[app_commands.Choice[str]]:
        """The corpus's outlets containing what was typed, most articles first."""
        typed = current.strip().casefold()
        outlets = Coverage.of(self.core.sources()).outlets
        names = [name for name, _ in outlets if typed in name.casefold()]
        counts = dict(outlets)
        return [
            app_commands.Choice(name=truncate(f"{name} ({counts[name]} articles)", 100), value=name[:100])
            for name in names[:MAX_CHOICES]
        ]

    def date_choices(self, current: str) -> list[app_commands.Choice[str]]:
        """What was typed, when it is a date; else the format, with the corpus's first and last dates."""
        choices: list[app_commands.Choice[str]] = []
        try:
            day = parse_day(current, "`date`")
        except NewsdeskError:
            day = None
        if day is not None:
            choices.append(app_commands.Choice(name=day.isoformat(), value=day.isoformat()))
        coverage = Coverage.of(self.core.sources())
        for label, known in (("first article", coverage.first), ("last article", coverage.last)):
            if known is not None and known != day and known.isoformat().startswith(current.strip()):
                choices.append(app_commands.Choice(name=f"{known.isoformat()} ({label})", value=known.isoformat()))
        return choices

    async def handle_ask(
        self,
        interaction: discord.Interaction,
        question: str,
        since: str | None = None,
        until: str | None = None,
        outlet: str | None = None,
        as_of: str | None = None,
    ) -> None:
        try:
            options = AskOptions(
                since=parse_day(since, "`since`"),
                until=parse_day(until, "`until`"),
                outlet=outlet,
                as_of=parse_day(as_of, "`as_of`"),
            )
        except NewsdeskError as err:
            await interaction.response.send_message(str(err), ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        refused = self.refusal(interaction.channel, interaction.user.id)
        if refused is not None:
            await interaction.response.send_message(refused, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.defer(thinking=True)
        # Inside a thread the bot opened, /ask continues that thread's conversation.
        conversation = self.threads.get(interaction.channel_id or 0) or Conversation()
        in_thread = isinstance(interaction.channel, discord.Thread)
        try:
            reply = await self.core.areply(question, conversation, options)
            sent = await self.send_reply(
                reply, lambda out, view: self._follow_up(interaction, out, view), not in_thread
            )
            self.remember(sent, reply)
        except Exception:  # noqa: BLE001 - the bot keeps serving whatever one answer did
            logger.exception("answering /ask failed")
            await self.apologise(lambda out, view: self._follow_up(interaction, out, view))

    async def _follow_up(
        self, interaction: discord.Interaction, out: Outgoing, view: discord.ui.View | None
    ) -> discord.Message:
        return await interaction.followup.send(content=out.content or "", wait=True, **_send_options(out, view))

    async def handle_sources(self, interaction: discord.Interaction) -> None:
        """The indexed articles, a page at a time, only to the asker."""
        pages = sources_pages(self.core.sources())
        view = PagedView(pages)
        shown = view if len(pages) > 1 else discord.utils.MISSING
        await interaction.response.send_message(
            embed=pages[0], ephemeral=True, allowed_mentions=NO_MENTIONS, view=shown
        )

    async def handle_help(self, interaction: discord.Interaction) -> None:
        coverage = Coverage.of(self.core.sources())
        embed = help_embed(coverage.articles, coverage.outlets_text() or "no outlet", coverage.dates_text())
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    # -- buttons ----------------------------------------------------------------------------------

    async def show_source(self, interaction: discord.Interaction, turn: ChatTurn, number: int) -> None:
        """The whole passage of source ``number`` of ``turn``'s answer, only to the one who clicked."""
        citation = next((c for c in turn.answer.citations if c.number == number), None)
        if citation is None:
            await interaction.response.send_message("That source is gone.", ephemeral=True)
            return
        await interaction.response.send_message(
            embed=passage_embed(citation), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def open_thread(self, interaction: discord.Interaction, turn: ChatTurn) -> None:
        """A public thread on the answer, holding its conversation: follow-ups there continue it."""
        message = interaction.message
        if message is None or isinstance(interaction.channel, discord.Thread):
            await interaction.response.send_message("We are already in a thread: ask follow-ups here.", ephemeral=True)
            return
        existing = next((t for t, c in self.threads.items() if any(x is turn for x in c.turns)), None)
        if existing is not None:
            await interaction.response.send_message(f"This conversation continues in <#{existing}>.", ephemeral=True)
            return
        try:
            thread = await message.create_thread(name=truncate(turn.text, THREAD_NAME_LIMIT) or "Newsdesk")
        except discord.Forbidden:
            await interaction.response.send_message(
                "I may not open threads here: a server admin can give me Create Public Threads and "
                "Send Messages in Threads.",
                ephemeral=True,
            )
            return
        self.threads[thread.id] = Conversation(turns=[turn])
        while len(self.threads) > REMEMBERED_ANSWERS:
            self.threads.popitem(last=False)
        await thread.send(THREAD_WELCOME, allowed_mentions=NO_MENTIONS)
        await interaction.response.send_message(f"Follow up in {thread.mention}.", ephemeral=True)

    # -- sending ----------------------------------------------------------------------------------

    async def send_reply(
        self,
        reply: ChatReply,
        send: Callable[[Outgoing, discord.ui.View | None], object],
        thread_button: bool = True,
    ) -> list[discord.Message]:
        """Send ``reply`` with ``send``; returns what was sent (first: the answer).

        An answer goes out as one message with its buttons (sources, pages, thread); anything else
        (a refusal, an abstention) as plain messages."""
        outs = render_reply(reply)
        turn = reply.turn
        if turn is not None and reply.answer is not None and not reply.answer.abstained and outs[0].embed is not None:
            pages = [out.embed for out in outs if out.embed is not None]
            view = AnswerView(turn, pages, self.show_source, self.open_thread if thread_button else None)
            message = await send(outs[0], view)  # type: ignore[misc]
            if not isinstance(message, discord.Message):
                return []
            self.views[message.id] = view
            while len(self.views) > REMEMBERED_ANSWERS:
                self.views.popitem(last=False)
            return [message]
        sent: list[discord.Message] = []
        for out in outs:
            message = await send(out, None)  # type: ignore[misc]
            if isinstance(message, discord.Message):
                sent.append(message)
        return sent

    async def apologise(self, send: Callable[[Outgoing, discord.ui.View | None], object]) -> None:
        try:
            await send(Outgoing(content=APOLOGY), None)  # type: ignore[misc]
        except Exception:  # noqa: BLE001 - Discord itself may be what failed; the log has it
            logger.exception("could not send the apology")

    def remember(self, sent: list[discord.Message], reply: ChatReply) -> None:
        if reply.turn is None:
            return
        for message in sent:
            self.answers[message.id] = reply.turn
        while len(self.answers) > REMEMBERED_ANSWERS:
            self.answers.popitem(last=False)


def _send_options(out: Outgoing, view: discord.ui.View | None) -> dict[str, Any]:
    """What every message the bot sends carries: no mentions, its embed and buttons when it has them."""
    shown = view if view is not None else discord.utils.MISSING
    options: dict[str, Any] = {"allowed_mentions": NO_MENTIONS, "view": shown}
    if out.embed is not None:
        options["embed"] = out.embed
    return options


def run(settings: Settings) -> None:
    """Load the model and index once, connect, serve until SIGINT/SIGTERM. User errors: ConfigError."""
    token = settings.discord_token.strip()
    if not token:
        raise ConfigError(
            "no Discord bot token: set DISCORD_TOKEN (or discord_token in newsdesk.toml); README, 'Discord'"
        )
    parse_guild(settings.discord_guild)  # fail before the slow start-up
    from index import Newsdesk, update_message

    started = time.perf_counter()
    desk = Newsdesk.open(settings)
    core = ChatCore(desk, settings.max_question_chars)
    core.warm_up()  # the first question pays for lazy loading; do it before anyone asks
    logger.info(
        "model and index loaded in %.1f s (%d articles, %s)",
        time.perf_counter() - started,
        len(desk.sources()),
        settings.resolved_index_dir(),
    )
    # New, changed and removed articles are picked up in the background (index.watch).
    watcher = desk.watch(lambda report, change: logger.info("%s", update_message(report, change)))
    try:
        asyncio.run(serve(NewsdeskBot(core, settings), token))
    finally:
        watcher.stop()


async def serve(bot: NewsdeskBot, token: str) -> None:
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    def stop(name: str) -> None:
        logger.info("%s received: shutting down", name)
        stopping.append(asyncio.ensure_future(bot.close()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig.name)
    try:
        async with bot:
            await bot.start(token)
    except discord.LoginFailure:
        raise ConfigError(
            "Discord rejected the bot token: copy it again from the Developer Portal (Bot, Reset Token)"
        ) from None
    except (aiohttp.ClientConnectionError, OSError) as err:
        raise NewsdeskError(f"cannot reach Discord ({type(err).__name__}): check the network and try again") from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigError(
            "Discord refused the Message Content intent: enable it in the Developer Portal (Bot, Privileged "
            "Gateway Intents) or set discord_mentions = false to use slash commands only"
        ) from None
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    logger.info("stopped")
