"""The buttons under Newsdesk's Discord messages: sources, pages, threads (discord.py ``ui.View``).

Views hold what their buttons need (the answer, its pages) and call back into the bot, which does the
work; they live in memory for as long as Discord shows the buttons (``timeout``), so a click after a
restart gets Discord's own "This interaction failed" rather than a wrong answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from bot.chat import ChatTurn

# Discord allows 5 rows of 5 buttons: at most 20 source buttons, the last row for pages and the thread.
MAX_SOURCE_BUTTONS = 20
# How long buttons answer: a day covers a conversation; older answers keep their text, not their buttons.
VIEW_TIMEOUT_S = 24 * 3600.0

Click = Callable[[discord.Interaction], Awaitable[None]]


class _Button(discord.ui.Button["discord.ui.View"]):
    """A button whose click runs ``on_click``."""

    def __init__(self, label: str, on_click: Click, row: int, style: discord.ButtonStyle) -> None:
        super().__init__(label=label, style=style, row=row)
        self.on_click = on_click

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.on_click(interaction)


class PagedView(discord.ui.View):
    """Previous / Next buttons over ``pages`` (embeds), editing the message in place."""

    def __init__(self, pages: list[discord.Embed], timeout: float | None = VIEW_TIMEOUT_S) -> None:
        super().__init__(timeout=timeout)
        self.pages = pages
        self.page = 0
        self.previous: _Button | None = None
        self.next: _Button | None = None
        if len(pages) > 1:
            self.previous = _Button("Previous page", self._previous, 4, discord.ButtonStyle.secondary)
            self.next = _Button("Next page", self._next, 4, discord.ButtonStyle.primary)
            self.add_item(self.previous)
            self.add_item(self.next)
            self._update()

    def _update(self) -> None:
        if self.previous is not None and self.next is not None:
            self.previous.disabled = self.page == 0
            self.next.disabled = self.page == len(self.pages) - 1

    async def turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = max(0, min(len(self.pages) - 1, self.page + step))
        self._update()
        await interaction.response.edit_message(embed=self.pages[self.page], view=self)

    def button(self, label: str) -> discord.ui.Button[discord.ui.View]:
        """The button labelled ``label``."""
        for item in self.children:
            if isinstance(item, discord.ui.Button) and item.label == label:
                return item
        raise KeyError(label)

    async def _previous(self, interaction: discord.Interaction) -> None:
        await self.turn(interaction, -1)

    async def _next(self, interaction: discord.Interaction) -> None:
        await self.turn(interaction, 1)


class AnswerView(PagedView):
    """Under an answer: one "Source n" button per citation, the pages, and "Follow up in a thread"."""

    def __init__(
        self,
        turn: ChatTurn,
        pages: list[discord.Embed],
        show_source: Callable[[discord.Interaction, ChatTurn, int], Awaitable[None]],
        open_thread: Callable[[discord.Interaction, ChatTurn], Awaitable[None]] | None,
    ) -> None:
        super().__init__(pages)
        self.turn_answered = turn
        for citation in turn.answer.citations[:MAX_SOURCE_BUTTONS]:
            number = citation.number

            async def show(interaction: discord.Interaction, number: int = number) -> None:
                await show_source(interaction, self.turn_answered, number)

            row = (number - 1) // 5
            self.add_item(_Button(f"Source {number}", show, row, discord.ButtonStyle.secondary))
        if open_thread is not None:

            async def thread(interaction: discord.Interaction) -> None:
                await open_thread(interaction, self.turn_answered)

            self.add_item(_Button("Follow up in a thread", thread, 4, discord.ButtonStyle.success))
