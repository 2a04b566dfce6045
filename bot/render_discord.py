"""A :class:`bot.chat.ChatReply` as Discord messages, always within Discord's limits.

An answer is an embed: the question as its title, the answer text (with its ``[n]`` markers) as the
description, one field per source (name ``[n] outlet · date``, value the title linked to the url and
the quoted sentence), and a footer with the time taken. When it does not fit, quotes are shortened
first (each keeps its opening words and ends with "…"); only an answer text that is itself too long is
split into several embeds, at sentence boundaries (at word boundaries only for a single sentence longer
than a whole embed): the pages of one answer, which the bot shows one at a time behind "Next page".

An abstention or a refusal is a short plain message. Each :class:`Outgoing` is one Discord message
(Discord counts the 6,000-character embed limit over all embeds of one message). Also here: a source's
whole passage (the "Source n" button), the pages of ``/sources`` and the ``/help`` embed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import discord
from discord.utils import escape_markdown

from bot.chat import ChatReply
from bot.quoting import in_quotes, nested
from bot.render_text import article_head, citation_head, nearest_label
from index import Answer, Article, Citation, split_sentences

MESSAGE_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
TITLE_LIMIT = 256
EMBED_LIMIT = 6000
FIELD_COUNT_LIMIT = 25
# The shortest a quote is cut to before the answer text itself is split over several embeds.
MIN_QUOTE_CHARS = 80
ELLIPSIS = "…"
COLOUR = discord.Colour.blurple()


@dataclass(frozen=True)
class Outgoing:
    """One Discord message: plain ``content``, an ``embed``, or both."""

    content: str | None = None
    embed: discord.Embed | None = None


def render_reply(reply: ChatReply) -> list[Outgoing]:
    """The messages that show ``reply``; the first one is the reply itself, the rest continue it."""
    if reply.answer is None:
        return [Outgoing(content=piece) for piece in split_text(reply.message or reply.text, MESSAGE_LIMIT)]
    answer = reply.answer
    if answer.abstained:
        return [Outgoing(content=piece) for piece in split_text(abstention_text(answer), MESSAGE_LIMIT)]
    return [Outgoing(embed=embed) for embed in answer_embeds(answer, footer_text(reply), reply.text)]


def abstention_text(answer: Answer) -> str:
    """A short, polite "not in my articles", with the passage that came closest (labelled: never an answer) and
    the closest article titles to look at instead."""
    lines = [f"Sorry — {lower_first(answer.text)}" if answer.text else "Sorry — I found nothing on this."]
    if answer.nearest is not None:
        lines.append(nearest_label(answer))
        lines.append(f"> {escape_markdown(in_quotes(answer.nearest.quote))}")
        lines.append(f"> — {escape_markdown(citation_head(answer.nearest))}")
    if answer.closest_matches:
        lines.append("Closest matches:")
        lines += [f"• {escape_markdown(title)}" for title in answer.closest_matches]
    return "\n".join(lines)


def footer_text(reply: ChatReply) -> str:
    text = f"Answered in {duration(reply.elapsed_s)}"
    if reply.followup_of:
        text += f" · follow-up to: {reply.followup_of}"
    return truncate(text, FOOTER_LIMIT)


def duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def answer_embeds(answer: Answer, footer: str, question: str = "") -> list[discord.Embed]:
    """The answer as one embed when it fits (quotes shortened as needed), else several (pages).

    Each page repeats ``question`` as its title, so a reader sees what was asked next to the answer."""
    title = truncate(question, TITLE_LIMIT) if question else None
    embeds = _answer_embeds(answer, footer, len(title or ""))
    for number, embed in enumerate(embeds, 1):
        embed.title = title
        if len(embeds) > 1:
            embed.set_author(name=f"Page {number} of {len(embeds)}")
    return embeds


def _answer_embeds(answer: Answer, footer: str, title_size: int) -> list[discord.Embed]:
    fields = [source_field(c) for c in answer.citations[:FIELD_COUNT_LIMIT]]
    # The title and the page label count towards every embed's 6,000.
    fixed = len(footer) + title_size + len("Page 99 of 99") + sum(len(name) + len(link) for name, link, _ in fields)
    while fields and fixed > EMBED_LIMIT // 2:  # only an absurd number of sources: keep the best ones
        name, link, _ = fields.pop()
        fixed -= len(name) + len(link)
    description = answer.text
    if len(description) <= DESCRIPTION_LIMIT:
        quote_budget = EMBED_LIMIT - fixed - len(description)
        quotes = fit_quotes([q for _, _, q in fields], fields, quote_budget)
        if quotes is not None:
            embed = new_embed(description)
            add_sources(embed, fields, quotes)
            embed.set_footer(text=footer)
            return [embed]
    # Too long for one embed: the text over as many embeds as needed, the sources on the last one
    # (or on an embed of their own when even the shortest quotes leave no room for text).
    quotes = fit_quotes([q for _, _, q in fields], fields, EMBED_LIMIT - fixed) or ["" for _ in fields]
    sources_size = fixed + sum(len(q) for q in quotes)
    pieces = split_text(description, DESCRIPTION_LIMIT)
    embeds = [new_embed(piece) for piece in pieces]
    for embed in embeds[:-1]:
        embed.set_footer(text=truncate("Continued on the next page · " + footer, FOOTER_LIMIT))
    last = embeds[-1]
    if len(last.description or "") + sources_size > EMBED_LIMIT:
        last = new_embed(None)
        embeds.append(last)
    add_sources(last, fields, quotes)
    last.set_footer(text=footer)
    return embeds


def new_embed(description: str | None) -> discord.Embed:
    return discord.Embed(description=description, colour=COLOUR)


def source_field(citation: Citation) -> tuple[str, str, str]:
    """(field name, linked title line, quote) of one source."""
    head = " · ".join(p for p in (citation.outlet, citation.date) if p) or "source"
    name = truncate(f"[{citation.number}] {head}", FIELD_NAME_LIMIT)
    title = link_text(citation.title or citation.doc_id)
    url = web_url(citation.url)
    link = f"[{title}]({url})" if url else f"**{title}**"
    if len(link) > FIELD_VALUE_LIMIT // 2:  # an absurd title or url must not crowd out the quote
        link = f"**{truncate(title, FIELD_VALUE_LIMIT // 2 - 4)}**"
    return name, link, escape_markdown(nested(citation.quote))


def fit_quotes(quotes: list[str], fields: list[tuple[str, str, str]], budget: int) -> list[str] | None:
    """The quotes shortened (longest first) so each field fits 1,024 and all together fit ``budget``.

    ``None`` when even :data:`MIN_QUOTE_CHARS` a quote does not fit."""
    fitted = []
    for quote, (_, link, _) in zip(quotes, fields, strict=True):
        room = FIELD_VALUE_LIMIT - len(link) - len("\n> “”")
        fitted.append(truncate(quote, max(room, 0)))
    overflow = sum(len(q) for q in fitted) + len(fitted) * len("\n> “”") - budget
    while overflow > 0:
        longest = max(range(len(fitted)), key=lambda i: len(fitted[i]))
        current = len(fitted[longest])
        if current <= MIN_QUOTE_CHARS:
            return None
        target = max(MIN_QUOTE_CHARS, current - overflow)
        fitted[longest] = truncate(fitted[longest], target)
        overflow -= current - len(fitted[longest])
    return fitted


def add_sources(embed: discord.Embed, fields: list[tuple[str, str, str]], quotes: list[str]) -> None:
    for (name, link, _), quote in zip(fields, quotes, strict=True):
        value = f"{link}\n> “{quote}”" if quote else link
        embed.add_field(name=name, value=value, inline=False)


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut between sentences (or lines).

    A single sentence longer than ``limit`` is cut between words, and a word longer than it anywhere."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    units: list[str] = []
    for line in text.splitlines():
        spans = split_sentences(line)
        units += [line[s.start : s.end] for s in spans] if spans else [line]
    return [p for p in _pack([part for unit in units for part in _cut(unit.strip(), limit)], limit) if p]


def _cut(sentence: str, limit: int) -> list[str]:
    """``sentence`` in pieces of at most ``limit`` between words; a longer word in ``limit``-sized bits."""
    if len(sentence) <= limit:
        return [sentence]
    bits = [word[i : i + limit] for word in sentence.split(" ") for i in range(0, max(len(word), 1), limit)]
    return _pack(bits, limit)


def _pack(parts: list[str], limit: int) -> list[str]:
    """``parts`` joined by spaces into as few pieces of at most ``limit`` characters as their order allows."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        joined = f"{current} {part}" if current else part
        if len(joined) <= limit:
            current = joined
        else:
            pieces.append(current)
            current = part
    if current:
        pieces.append(current)
    return pieces


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return text[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + ELLIPSIS


def link_text(title: str) -> str:
    """A title safe inside ``[...](url)``: brackets would end the link early."""
    return escape_markdown(title.replace("[", "(").replace("]", ")"))


def web_url(url: str) -> str | None:
    """``url`` when Discord can link to it (http or https), else ``None``."""
    return url if url.startswith(("http://", "https://")) else None


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def retry_at(seconds: float) -> str:
    """A Discord timestamp that each reader's client shows as "in 7 seconds"."""
    return f"<t:{int(time.time() + seconds + 0.999)}:R>"


def passage_embed(citation: Citation) -> discord.Embed:
    """Source ``citation``'s whole passage, the quoted sentence in bold: what a "Source n" button shows."""
    passage = citation.passage or citation.quote
    quote = citation.quote.strip()
    at = passage.find(quote) if quote else -1
    if at >= 0:
        before, after = passage[:at], passage[at + len(quote) :]
        text = f"{escape_markdown(before)}**{escape_markdown(quote)}**{escape_markdown(after)}"
    else:
        text = escape_markdown(passage)
    if len(text) > DESCRIPTION_LIMIT:  # never cut inside the bold markers: drop them instead
        text = truncate(escape_markdown(passage), DESCRIPTION_LIMIT)
    head = " · ".join(p for p in (citation.outlet, citation.date) if p)
    embed = discord.Embed(
        title=truncate(f"[{citation.number}] {citation.title or citation.doc_id}", TITLE_LIMIT),
        description=text,
        colour=COLOUR,
        url=web_url(citation.url),
    )
    embed.set_footer(text=truncate(f"{head} · the passage the answer cites; the quoted sentence in bold", FOOTER_LIMIT))
    return embed


# One page of /sources: few enough lines to read on a phone.
SOURCES_PER_PAGE = 10


def sources_pages(articles: list[Article], per_page: int = SOURCES_PER_PAGE) -> list[discord.Embed]:
    """The indexed articles, newest first, as pages of ``per_page`` lines each."""
    lines = []
    for article in articles:
        title = link_text(article.title or article.id)
        url = web_url(article.url)
        linked = f"[{title}]({url})" if url else title
        lines.append(truncate(f"• {article_head(article)} · {linked}", 380))
    if not lines:
        return [discord.Embed(title="No articles are indexed yet", colour=COLOUR)]
    chunks = [lines[i : i + per_page] for i in range(0, len(lines), per_page)]
    pages = []
    for number, chunk in enumerate(chunks, 1):
        embed = discord.Embed(title=f"{len(articles)} indexed articles", description="\n".join(chunk), colour=COLOUR)
        embed.set_footer(text=f"Page {number} of {len(chunks)} · newest first")
        pages.append(embed)
    return pages


HELP_TEXT = """\
**/ask** `question` — answers from the news articles; every claim is cited to its source.
Options: `outlet` (suggested as you type), `since` / `until` (dates, YYYY-MM-DD: only articles in that range), \
`as_of` (a date: answer as if asked that day; later articles are not used).

Under each answer:
• **Source n** shows the whole passage the answer cites, only to you.
• **Next page** / **Previous page** turn the pages of a long answer.
• **Follow up in a thread** opens a thread for the conversation: in it, `/ask` or @mention me with \
follow-ups such as “who said that?”, “what about the Taliban?” or “and in 2020?”. The thread keeps the \
filters and the as-of date of its first question.

**/sources** lists the indexed articles, page by page, only to you.
**/help** shows this."""


def help_embed(articles: int, outlets: str, dates: str) -> discord.Embed:
    """What the bot does and how to use it, with what the corpus holds."""
    embed = discord.Embed(title="Newsdesk", description=HELP_TEXT, colour=COLOUR)
    embed.add_field(name="Articles", value=truncate(f"{articles} articles from {outlets}; {dates}.", FIELD_VALUE_LIMIT))
    return embed
