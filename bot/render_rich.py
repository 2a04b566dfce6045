"""Rich rendering for the terminal REPL: the answer, then numbered sources (outlet, date, title, quote)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.text import Text

from bot.chat import ChatReply
from bot.quoting import in_quotes
from bot.render_text import article_head, citation_head, nearest_label
from index import Answer, Article, Citation


def render_reply(reply: ChatReply) -> RenderableType:
    if reply.answer is None:
        style = "red" if reply.kind == "failed" else "yellow"
        return Text(reply.message, style=style)
    parts: list[RenderableType] = []
    if reply.followup_of:
        parts.append(Text(f"(follow-up to: {reply.followup_of})", style="dim"))
    parts.append(render_answer(reply.answer))
    return Group(*parts)


def render_answer(answer: Answer) -> RenderableType:
    if answer.abstained:
        parts: list[RenderableType] = [Text(answer.text, style="yellow")]
        if answer.nearest is not None:
            parts.append(Text(nearest_label(answer), style="dim"))
            parts.append(Padding(Text(in_quotes(answer.nearest.quote), style="italic dim"), (0, 0, 0, 4)))
            parts.append(Padding(Text(citation_head(answer.nearest), style="dim"), (0, 0, 0, 4)))
        if answer.closest_matches:
            parts.append(Text("Closest matches:", style="dim"))
            parts += [Text(f"  • {title}", style="dim") for title in answer.closest_matches]
        return Group(*parts)
    parts = [answer_text(answer), Text("")]
    parts += [source(c) for c in answer.citations]
    total = answer.timings_ms.get("total")
    if total is not None:
        parts.append(Text(f"{total:.0f} ms · :show N for a source's full passage", style="dim"))
    return Group(*parts)


def answer_text(answer: Answer) -> Text:
    """The answer with its ``[n]`` markers highlighted."""
    text = Text(answer.text)
    text.highlight_regex(r"\[\d+\]", "bold cyan")
    return text


def source(citation: Citation) -> RenderableType:
    head = Text.assemble(
        (f"[{citation.number}] ", "bold cyan"),
        (" · ".join(p for p in (citation.outlet, citation.date) if p), "bold"),
        (" · " if citation.outlet or citation.date else "", ""),
        (citation.title, "bold"),
    )
    lines: list[RenderableType] = [head]
    if citation.url:
        lines.append(Padding(Text(citation.url, style="blue underline"), (0, 0, 0, 4)))
    lines.append(Padding(Text(in_quotes(citation.quote), style="italic"), (0, 0, 0, 4)))
    return Group(*lines)


def passage(citation: Citation) -> RenderableType:
    """The full passage of a citation with the quoted sentence highlighted (``:show N``)."""
    body = Text(citation.passage)
    at = citation.passage.find(citation.quote)
    if at >= 0:
        body.stylize("bold reverse", at, at + len(citation.quote))
    return Group(source_head(citation), Padding(body, (0, 0, 0, 4)))


def source_head(citation: Citation) -> Text:
    parts = [p for p in (citation.outlet, citation.date, citation.title) if p]
    return Text.assemble((f"[{citation.number}] ", "bold cyan"), (" · ".join(parts), "bold"))


def sources_table(articles: list[Article]) -> RenderableType:
    lines = [Text(f"{len(articles)} indexed articles, newest first:", style="dim")]
    for article in articles:
        lines.append(Text.from_markup(f"  [bold]{escape(article_head(article))}[/bold] · {escape(article.title)}"))
    return Group(*lines)
