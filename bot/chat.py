"""The chat core shared by every front end: a message and its conversation in, a :class:`ChatReply` out.

Front ends (Discord, the REPL) only render replies; what a message means is decided here, once:

- **Hostile input.** Chat mentions (``@everyone``, ``<@123>``, ``<#123>``) are removed from the question,
  control characters are folded to spaces, and a question over ``Settings.max_question_chars`` is refused
  with a one-line message saying the limit. A message is never echoed back with its mentions intact.
- **Follow-ups** (rules in :mod:`bot.followups`), understood against the previous turn:

  * "who said that?" names the speaker of each sentence the last answer quoted, as the article gives it
    (the sentence or its neighbours: "..., Stoltenberg told reporters"; :func:`index.speaker_of`), or
    says the article names none. Nothing is searched: the answer is about the quotation shown.
  * "what about X?" asks the thread's question again with X in place of its subject ("What did
    NATO's secretary-general say ..." -> "What did the Taliban say ..."), which starts a new thread.
  * any other short message that opens with a continuation word ("and", "what about") or leans on a
    pronoun with few words of its own is asked together with the question that started the thread; one
    that names only a year ("and in 2021?") also restricts the search to that year's articles.

  Follow-ups keep the thread's filters and as-of date unless the message sets its own.
- **Not a question.** A message that neither asks (no "?", no question or request word) nor names two
  things to search for, such as a stray "clear", gets a one-line hint instead of an answer.
- **Filters that leave nothing.** When the outlet or dates match no article, the reply says so and names
  the outlets and the date range that exist (:func:`index.empty_filter_message`).
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

from bot.followups import asks_for_speaker, is_question_like, new_subject, substitute_subject
from index import (
    YEAR,
    Answer,
    Article,
    Citation,
    NewsdeskError,
    SearchFilters,
    answer_matches,
    empty_filter_message,
    speaker_of,
    years,
)

logger = logging.getLogger("newsdesk.chat")

APOLOGY = "Sorry, something went wrong while answering that. Please try again in a moment."
# A message this many times over the question limit is refused before any other work is done on it.
_RAW_LIMIT_FACTOR = 8

# Discord's mention syntaxes: users <@1>, <@!1>, roles <@&1>, channels <#1>, slash commands </a b:1>,
# and the two mass mentions. Other chat front ends that get mentions use the same shapes.
_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|</[^<>:]{1,64}:\d+>|@(?:everyone|here)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_YEAR = re.compile(YEAR)

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
        *,
        k: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        outlet: str | None = None,
        as_of: dt.date | None = None,
    ) -> Answer: ...


@dataclass(frozen=True)
class AskOptions:
    """Search options a user can set for one question or a whole session (``None``: the default).

    ``as_of``: answer as if asked on that day (``None``: today): later articles are not used."""

    k: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    outlet: str | None = None
    as_of: dt.date | None = None

    def filters(self) -> SearchFilters:
        """The article filters these options amount to (the as-of date bounds ``until``)."""
        return SearchFilters(self.since, as_of_until(self.until, self.as_of), self.outlet)


def as_of_until(until: dt.date | None, as_of: dt.date | None) -> dt.date | None:
    """The latest article date a question may use: ``until``, or the as-of date when earlier."""
    return min(d for d in (until, as_of) if d is not None) if (until or as_of) else None


def ask_desk(desk: Desk, question: str, options: AskOptions, today: dt.date | None = None) -> Answer:
    """The one place a front end's options reach :meth:`index.Newsdesk.ask`; the as-of date defaults to today."""
    as_of = options.as_of or today or dt.date.today()
    return desk.ask(question, k=options.k, since=options.since, until=options.until, outlet=options.outlet, as_of=as_of)


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
NOT_A_QUESTION = "“{text}” is not a question. Ask one in a full sentence, e.g. “What do the articles say about {text}?”"
NO_QUOTE_YET = "There is no quotation to attribute yet: ask a question first, then “who said that?”."


@dataclass(frozen=True)
class ChatReply:
    """What a front end renders.

    kind ``answer``: ``answer`` holds the cited (or abstaining) answer and ``turn`` the turn to continue
    from; kind ``refused`` (the user can fix it: a bad question, a filter that leaves nothing, a message
    that is not a question) and ``failed`` (our fault): ``message`` is one line."""

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
    """A message read against its conversation: what to ask, with which options.

    ``speaker``: the message asks who said what the previous answer quoted (nothing is searched)."""

    asked: str
    topic: str
    options: AskOptions
    followup_of: str | None = None
    speaker: bool = False
    subject: str | None = None  # X of "what about X?", when X replaced the previous question's subject


def strip_mentions(text: str) -> str:
    """``text`` without chat mentions, so a question can never make the bot ping anyone."""
    return _MENTION.sub(" ", text)


def clean_message(text: str, max_chars: int) -> str:
    """The message as a question: mentions removed, control characters folded, length checked.

    Raises :class:`index.QuestionError` (one line, says what to do) when nothing is left or it is too long."""
    from index import QuestionError, clean_question

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
    found = years(text)
    words = [w.lower() for w in _WORD.findall(text)]
    topic_words = [w for w in words if w not in _FUNCTION_WORDS and not _YEAR.fullmatch(w)]
    if len(found) != 1 or topic_words or options.since or options.until:
        return options
    year = found.pop()
    return replace(options, since=dt.date(year, 1, 1), until=dt.date(year, 12, 31))


def inherit(options: AskOptions, before: AskOptions) -> AskOptions:
    """A follow-up keeps the thread's filters and as-of date, except those the user set for it."""
    return AskOptions(
        k=options.k or before.k,
        since=options.since or before.since,
        until=options.until or before.until,
        outlet=options.outlet or before.outlet,
        as_of=options.as_of or before.as_of,
    )


def topic_word_count(text: str) -> int:
    """How many words of ``text`` name something (not question words, pronouns, prepositions or years)."""
    words = [w.lower() for w in _WORD.findall(text)]
    return sum(w not in _FUNCTION_WORDS and not _YEAR.fullmatch(w) for w in words)


def resolve(text: str, previous: ChatTurn | None, options: AskOptions) -> ResolvedQuestion:
    """What to ask of the articles for ``text`` said after ``previous`` (see the module docstring)."""
    if previous is not None and asks_for_speaker(text):
        return ResolvedQuestion(text, previous.topic, inherit(options, previous.options), previous.topic, speaker=True)
    subject = new_subject(text) if previous is not None else None
    if previous is not None and subject is not None:
        swapped = substitute_subject(previous.topic, subject)
        if swapped is not None:  # the same question about someone else: a thread of its own
            options = inherit(options, previous.options)
            return ResolvedQuestion(swapped, swapped, options, previous.topic, subject=subject)
    if previous is None or not is_followup(text):
        return ResolvedQuestion(asked=text, topic=text, options=options)
    asked = f"{text} {previous.topic}"
    # A follow-up keeps the previous turn's filters unless the user set their own (or names a year).
    inherited = inherit(options, previous.options)
    narrowed = year_only_filter(text, options)
    if narrowed is not options:
        inherited = replace(inherited, since=narrowed.since, until=narrowed.until)
    return ResolvedQuestion(asked=asked, topic=previous.topic, options=inherited, followup_of=previous.topic)


def _recorded(reply: ChatReply, conversation: Conversation | None) -> ChatReply:
    """``reply``, its turn added to ``conversation`` when it has one."""
    if conversation is not None and reply.turn is not None:
        conversation.add(reply.turn)
    return reply


class ChatCore:
    """Turns messages into replies through :class:`index.Newsdesk`'s public API. Safe to share."""

    def __init__(self, desk: Desk, max_question_chars: int = 2000, clock: Callable[[], float] = time.perf_counter):
        self.desk = desk
        self.max_question_chars = max_question_chars
        self.clock = clock

    def sources(self) -> list[Article]:
        """The indexed articles, newest first."""
        return self.desk.sources()

    def warm_up(self) -> None:
        """Ask one throw-away question, so the first real one does not pay for lazy loading."""
        self.desk.ask("Who said what, and when?")

    def reply(
        self, text: str, conversation: Conversation | None = None, options: AskOptions | None = None
    ) -> ChatReply:
        """Answer ``text`` in ``conversation`` (which gains the turn when answered). Blocks: see :meth:`areply`."""
        started = self.clock()
        prepared = self._prepare(text, conversation, options or AskOptions(), started)
        # A ChatReply already: answered without searching ("who said that?") or refused.
        reply = prepared if isinstance(prepared, ChatReply) else self._answer(*prepared, started)
        return _recorded(reply, conversation)

    async def areply(
        self, text: str, conversation: Conversation | None = None, options: AskOptions | None = None
    ) -> ChatReply:
        """:meth:`reply` for event loops: embedding and search run in a worker thread."""
        started = self.clock()
        prepared = self._prepare(text, conversation, options or AskOptions(), started)
        if isinstance(prepared, ChatReply):  # answered without searching ("who said that?") or refused
            return _recorded(prepared, conversation)
        reply = await asyncio.to_thread(self._answer, *prepared, started)
        # The conversation changes on the loop's thread only, so concurrent questions never race on it.
        return _recorded(reply, conversation)

    def _prepare(
        self, text: str, conversation: Conversation | None, options: AskOptions, started: float
    ) -> ChatReply | tuple[str, ResolvedQuestion]:
        try:
            cleaned = clean_message(text, self.max_question_chars)
        except NewsdeskError as err:
            return ChatReply(kind="refused", text="", message=_sentence(str(err)))
        previous = conversation.last if conversation is not None else None
        resolved = resolve(cleaned, previous, options)
        if resolved.speaker and previous is not None:
            return self._speaker_reply(cleaned, previous, resolved, started)
        if asks_for_speaker(cleaned):
            return ChatReply(kind="refused", text=cleaned, message=NO_QUOTE_YET)
        if resolved.followup_of is None and not is_question_like(cleaned, topic_word_count(cleaned)):
            return ChatReply(kind="refused", text=cleaned, message=NOT_A_QUESTION.format(text=cleaned[:80]))
        return cleaned, resolved

    def _speaker_reply(self, cleaned: str, previous: ChatTurn, resolved: ResolvedQuestion, started: float) -> ChatReply:
        """Who said the sentences the previous answer quoted, as their articles name them."""
        citations = previous.answer.citations
        if previous.answer.abstained or not citations:
            return ChatReply(kind="refused", text=cleaned, message=NO_QUOTE_YET)
        if previous.answer.overview:  # the articles' first sentences: each outlet's own report, no one's words
            sources = ", ".join(f"{c.outlet or 'the source'} [{c.number}]" for c in citations)
            text = f"These are the articles' own opening sentences, in the words of their outlets: {sources}."
        else:
            articles = {a.id: a for a in self.desk.sources()}
            text = " ".join(_speaker_sentence(c, articles.get(c.doc_id), len(citations) > 1) for c in citations)
        answer = Answer(question=cleaned, text=text, citations=list(citations), abstained=False)
        turn = ChatTurn(text=cleaned, asked=cleaned, topic=previous.topic, options=resolved.options, answer=answer)
        return ChatReply(
            kind="answer",
            text=cleaned,
            asked=cleaned,
            answer=answer,
            turn=turn,
            followup_of=previous.topic,
            elapsed_s=self.clock() - started,
        )

    def _answer(self, cleaned: str, resolved: ResolvedQuestion, started: float) -> ChatReply:
        opts = resolved.options
        try:
            if opts.filters().active:
                empty = empty_filter_message(self.desk.sources(), opts.filters())
                if empty is not None:
                    return ChatReply(kind="refused", text=cleaned, asked=resolved.asked, message=empty)
            answer = ask_desk(self.desk, resolved.asked, opts)
            if resolved.subject is not None:
                answer = about_subject(answer, resolved.subject)
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


def about_subject(answer: Answer, subject: str) -> Answer:
    """``answer`` to "what about X?", or an abstention when none of its quotes mentions X.

    Swapping the subject keeps the rest of the question, so retrieval can return the first answer's
    passage again; quoted back, it would answer a question about someone else."""
    words = [w for w in _WORD.findall(subject) if w.lower() not in {"the", "a", "an"}]
    if answer.abstained or not words or any(answer_matches(c.quote, w) for c in answer.citations for w in words):
        return answer
    titles = list(dict.fromkeys(c.title for c in answer.citations))
    text = f"The articles I have do not answer this about {subject}."
    return Answer(answer.question, text, [], True, closest_matches=titles, timings_ms=answer.timings_ms)


def _speaker_sentence(citation: Citation, article: Article | None, several: bool) -> str:
    """ "NAME said it. [1]", quoting where the article names them when that is not the quoted sentence."""
    from bot.quoting import in_quotes

    what = f" {in_quotes(_clip(citation.quote, 90))}" if several else " it"
    found = speaker_of(article.text, citation.quote, citation.start) if article is not None else None
    if found is None:
        return f"The {citation.outlet or 'source'} article does not name who said{what}. [{citation.number}]"
    sentence, quoted = " ".join(found.sentence.split()), " ".join(citation.quote.split())
    if found.distance == 0 or sentence in quoted:
        if sentence in quoted and sentence != quoted and not _opens_or_closes_a_quotation(sentence):
            # One sentence of a quote that spans several (a neighbour, the sentence it leans on) names the
            # speaker: say which, rather than give them the other sentences too. Not when a quotation runs
            # across the quoted sentences ("“We will stay. We will not rush,” X said."): all of it is theirs.
            return f"{found.speaker} said: {in_quotes(_clip(sentence, 160))} [{citation.number}]"
        return f"{found.speaker} said{what}. [{citation.number}]"
    # The words that name the speaker, from the name on: "…Stoltenberg told reporters in Brussels."
    naming = _clip(found.sentence[found.mention :].strip().strip("\"“”'‘’ "), 160)
    where = "goes on" if found.distance > 0 else "says just before"
    return f"{found.speaker} said{what}, as the article {where}: “…{naming}” [{citation.number}]"


def _opens_or_closes_a_quotation(sentence: str) -> bool:
    """Whether a quotation begun or ended in ``sentence`` goes on in the sentence before or after it."""
    return sentence.count("“") != sentence.count("”") or sentence.count('"') % 2 == 1


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,;:") + "…"


def _sentence(message: str) -> str:
    """An error message as a sentence for a chat reply: capitalised, ending with a full stop."""
    message = message.strip()
    if not message:
        return APOLOGY
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
