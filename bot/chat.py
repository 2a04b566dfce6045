"""The chat core shared by every front end: a message and its conversation in, a :class:`ChatReply` out.

Front ends (Discord, the REPL) only render replies; what a message means is decided here, once:

- **Hostile input.** Chat mentions (``@everyone``, ``<@123>``, ``<#123>``) are removed from the question,
  control characters are folded to spaces, and a question over ``Settings.max_question_chars`` is refused
  with a one-line message saying the limit. A message is never echoed back with its mentions intact.
- **Follow-ups.** "and in 2021?" or "who said that?" after an answer is understood against the previous
  turn: when the new message is short, opens with a continuation word ("and", "what about") or leans on a
  pronoun with few words of its own, it is asked together with the question that started the thread. A
  follow-up that names only a year ("and in 2021?") also restricts the search to that year's articles.
- **Failures.** A question the user can fix gets a one-line :class:`ChatReply` of kind ``refused``; any
  other exception is logged with its traceback and becomes a one-line apology (kind ``failed``), so a
  front end keeps serving.

Blocking work (embedding, search) runs in a worker thread through :meth:`ChatCore.areply`, so an event
loop (the Discord client) never freezes on one slow question. The core holds no per-user state:
conversations are plain objects the caller keeps, so many can be answered concurrently.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from index import Answer, Article, NewsdeskError

logger = logging.getLogger("newsdesk.chat")

APOLOGY = "Sorry, something went wrong while answering that. Please try again in a moment."
# A message this many times over the question limit is refused before any other work is done on it.
_RAW_LIMIT_FACTOR = 8

# Discord's mention syntaxes: users <@1>, <@!1>, roles <@&1>, channels <#1>, slash commands </a b:1>,
# and the two mass mentions. Other chat front ends that get mentions use the same shapes.
_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|</[^<>:]{1,64}:\d+>|@(?:everyone|here)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")

# A message opening with one of these continues the previous question ("and in 2021?").
_CONTINUATIONS = ("and ", "but ", "also ", "so ", "what about", "how about", "and what", "then ", "same ")
# Words that point back at the previous turn ("who said that?", "when did they leave?").
_REFERRING = frozenset("that this those these it its they them their he she him her his there then such same".split())  # noqa: SIM905 - a word list reads best as words
# Words that carry no topic of their own: question words, auxiliaries, pronouns, prepositions.
_FUNCTION_WORDS = _REFERRING | frozenset(
    """a an the and or but so also of in on at to for from by with about as into than what which who whom
    whose when where why how is are was were be been being do does did done has have had will would can
    could should may might must shall say said says tell told mean meant about again more else exactly
    year years date time ok okay please i me my you your we our us""".split()  # noqa: SIM905
)
# A message with at most this many topic words of its own, after an answer, is read as a follow-up.
_FOLLOWUP_TOPIC_WORDS = 2
_FOLLOWUP_MAX_WORDS = 8


class Desk(Protocol):
    """What the chat core needs of :class:`index.Newsdesk` (so tests and benchmarks can wrap it)."""

    def check_question(self, question: str) -> str: ...

    def sources(self) -> list[Article]: ...

    def ask(
        self,
        question: str,
        k: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        outlet: str | None = None,
    ) -> Answer: ...


@dataclass(frozen=True)
class AskOptions:
    """Search options a user can set for one question or a whole session (``None``: the default)."""

    k: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    outlet: str | None = None


@dataclass(frozen=True)
class ChatTurn:
    """One answered question of a conversation.

    ``text`` is what the user wrote (cleaned); ``asked`` what was asked of the articles; ``topic`` the
    standalone question that started the thread, which the next follow-up is combined with."""

    text: str
    asked: str
    topic: str
    options: AskOptions
    answer: Answer


@dataclass
class Conversation:
    """The turns of one conversation, oldest first; only the last few are kept."""

    turns: list[ChatTurn] = field(default_factory=list)
    keep: int = 10

    @property
    def last(self) -> ChatTurn | None:
        return self.turns[-1] if self.turns else None

    def add(self, turn: ChatTurn) -> None:
        self.turns.append(turn)
        del self.turns[: -self.keep]


ReplyKind = Literal["answer", "refused", "failed"]


@dataclass(frozen=True)
class ChatReply:
    """What a front end renders.

    kind ``answer``: ``answer`` holds the cited (or abstaining) answer and ``turn`` the turn to continue
    from; kind ``refused`` (the user can fix it) and ``failed`` (our fault): ``message`` is one line."""

    kind: ReplyKind
    text: str
    asked: str = ""
    answer: Answer | None = None
    turn: ChatTurn | None = None
    message: str = ""
    followup_of: str | None = None
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.kind == "answer"


@dataclass(frozen=True)
class ResolvedQuestion:
    """A message read against its conversation: what to ask, with which options."""

    asked: str
    topic: str
    options: AskOptions
    followup_of: str | None = None


def strip_mentions(text: str) -> str:
    """``text`` without chat mentions, so a question can never make the bot ping anyone."""
    return _MENTION.sub(" ", text)


def clean_message(text: str, max_chars: int) -> str:
    """The message as a question: mentions removed, control characters folded, length checked.

    Raises :class:`index.QuestionError` (one line, says what to do) when nothing is left or it is too long."""
    from index.errors import QuestionError
    from index.newsdesk import clean_question

    if len(text) > max_chars * _RAW_LIMIT_FACTOR:  # do no regex work on a megabyte of input
        raise QuestionError(f"the question is {len(text):,} characters long; keep it under {max_chars:,}")
    return clean_question(strip_mentions(text), max_chars)


def is_followup(text: str) -> bool:
    """Whether ``text``, said right after an answer, leans on that answer's question."""
    lowered = text.lower().lstrip("¿¡([\"'“‘ ")
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return False
    if any(lowered.startswith(c) for c in _CONTINUATIONS):
        return len(words) <= _FOLLOWUP_MAX_WORDS * 2
    topic_words = [w for w in words if w not in _FUNCTION_WORDS and not _YEAR.fullmatch(w)]
    refers_back = any(w in _REFERRING for w in words)
    if len(words) > _FOLLOWUP_MAX_WORDS:
        return False
    return len(topic_words) == 0 or (refers_back and len(topic_words) <= _FOLLOWUP_TOPIC_WORDS)


def year_only_filter(text: str, options: AskOptions) -> AskOptions:
    """For a follow-up whose only topic is one year ("and in 2021?"): the search limited to that year.

    Options the user set explicitly win; a year inside a longer follow-up ("what did Biden say in 2021?")
    is left to retrieval, since an article can well discuss a year other than its own date."""
    years = set(_YEAR.findall(text))
    words = [w.lower() for w in _WORD.findall(text)]
    topic_words = [w for w in words if w not in _FUNCTION_WORDS and not _YEAR.fullmatch(w)]
    if len(years) != 1 or topic_words or options.since or options.until:
        return options
    year = int(years.pop())
    return replace(options, since=dt.date(year, 1, 1), until=dt.date(year, 12, 31))


def resolve(text: str, previous: ChatTurn | None, options: AskOptions) -> ResolvedQuestion:
    """What to ask of the articles for ``text`` said after ``previous`` (see the module docstring)."""
    if previous is None or not is_followup(text):
        return ResolvedQuestion(asked=text, topic=text, options=options)
    asked = f"{text} {previous.topic}"
    # A follow-up keeps the previous turn's filters unless the user set their own (or names a year).
    before = previous.options
    inherited = AskOptions(
        k=options.k or before.k,
        since=options.since or before.since,
        until=options.until or before.until,
        outlet=options.outlet or before.outlet,
    )
    narrowed = year_only_filter(text, options)
    if narrowed is not options:
        inherited = replace(inherited, since=narrowed.since, until=narrowed.until)
    return ResolvedQuestion(asked=asked, topic=previous.topic, options=inherited, followup_of=previous.topic)


class ChatCore:
    """Turns messages into replies through :class:`index.Newsdesk`'s public API. Safe to share."""

    def __init__(self, desk: Desk, max_question_chars: int = 2000, clock: Callable[[], float] = time.perf_counter):
        self.desk = desk
        self.max_question_chars = max_question_chars
        self.clock = clock

    def sources(self) -> list[Article]:
        """The indexed articles, newest first."""
        return self.desk.sources()

    def reply(
        self, text: str, conversation: Conversation | None = None, options: AskOptions | None = None
    ) -> ChatReply:
        """Answer ``text`` in ``conversation`` (which gains the turn when answered). Blocks: see :meth:`areply`."""
        started = self.clock()
        prepared = self._prepare(text, conversation, options or AskOptions())
        if isinstance(prepared, ChatReply):
            return prepared
        cleaned, resolved = prepared
        reply = self._answer(cleaned, resolved, started)
        if conversation is not None and reply.turn is not None:
            conversation.add(reply.turn)
        return reply

    async def areply(
        self, text: str, conversation: Conversation | None = None, options: AskOptions | None = None
    ) -> ChatReply:
        """:meth:`reply` for event loops: embedding and search run in a worker thread."""
        started = self.clock()
        prepared = self._prepare(text, conversation, options or AskOptions())
        if isinstance(prepared, ChatReply):
            return prepared
        cleaned, resolved = prepared
        reply = await asyncio.to_thread(self._answer, cleaned, resolved, started)
        # The conversation changes on the loop's thread only, so concurrent questions never race on it.
        if conversation is not None and reply.turn is not None:
            conversation.add(reply.turn)
        return reply

    def _prepare(
        self, text: str, conversation: Conversation | None, options: AskOptions
    ) -> ChatReply | tuple[str, ResolvedQuestion]:
        try:
            cleaned = clean_message(text, self.max_question_chars)
        except NewsdeskError as err:
            return ChatReply(kind="refused", text="", message=_sentence(str(err)))
        previous = conversation.last if conversation is not None else None
        return cleaned, resolve(cleaned, previous, options)

    def _answer(self, cleaned: str, resolved: ResolvedQuestion, started: float) -> ChatReply:
        opts = resolved.options
        try:
            answer = self.desk.ask(resolved.asked, k=opts.k, since=opts.since, until=opts.until, outlet=opts.outlet)
        except NewsdeskError as err:
            return ChatReply(kind="refused", text=cleaned, asked=resolved.asked, message=_sentence(str(err)))
        except Exception:  # noqa: BLE001 - one bad question must not take the front end down
            logger.exception("answering %r failed", resolved.asked[:200])
            return ChatReply(kind="failed", text=cleaned, asked=resolved.asked, message=APOLOGY)
        turn = ChatTurn(text=cleaned, asked=resolved.asked, topic=resolved.topic, options=opts, answer=answer)
        return ChatReply(
            kind="answer",
            text=cleaned,
            asked=resolved.asked,
            answer=answer,
            turn=turn,
            followup_of=resolved.followup_of,
            elapsed_s=self.clock() - started,
        )


def _sentence(message: str) -> str:
    """An error message as a sentence for a chat reply: capitalised, ending with a full stop."""
    message = message.strip()
    if not message:
        return APOLOGY
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
