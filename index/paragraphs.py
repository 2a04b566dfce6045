"""Hard-wrapped text (wire copy, e-mail, old archives) back into the paragraphs the author wrote.

A file is hard-wrapped when most lines that run on into another line are of ordinary typewriter width
(40-100 characters). Then lines are joined into paragraphs, and a paragraph starts after a blank line, at
a line indented deeper than the one before (wire copy indents its paragraphs), at a list item, and after a
short line that ends a sentence. Text that is not hard-wrapped keeps one paragraph per line.
"""

from __future__ import annotations

import re

_MIN_WRAP, _MAX_WRAP = 40, 100
_WRAPPED_SHARE = 0.6
_MIN_RUN_ON_LINES = 3
# List items, markdown headings and quotes start a paragraph of their own.
_LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022]\s+|\d{1,2}[.)]\s+|#{1,6}\s|>)")
_ENDS_SENTENCE = re.compile(r"[.!?:]['\"\u201d\u2019)]*$")
# A line that cannot end a paragraph: it stops mid-phrase ("a subsidiary of", "said,").
_RUNS_ON = re.compile(r"(?:[a-z,;\-\u2013\u2014]|\b(?:of|and|the|a|to|in|for|on|with|by))$")


def unwrap_paragraphs(text: str) -> str:
    """``text`` with paragraphs separated by one blank line and hard-wrapped lines joined."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n")
    blocks = _blocks(lines)
    width = _wrap_width(blocks)
    paragraphs: list[str] = []
    for block in blocks:
        paragraphs.extend(_join_block(block, width) if width else (line.strip() for line in block))
    return "\n\n".join(p for p in paragraphs if p)


def is_hard_wrapped(text: str) -> bool:
    return _wrap_width(_blocks(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))) > 0


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line.rstrip())
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _wrap_width(blocks: list[list[str]]) -> int:
    """The typewriter width of a hard-wrapped text, or 0 when it is not hard-wrapped."""
    run_on = [len(line.strip()) for block in blocks for line in block[:-1]]
    if len(run_on) < _MIN_RUN_ON_LINES:
        return 0
    typed = sorted(n for n in run_on if _MIN_WRAP <= n <= _MAX_WRAP)
    if len(typed) < _WRAPPED_SHARE * len(run_on):
        return 0
    return typed[int(0.8 * (len(typed) - 1))]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _join_block(block: list[str], width: int) -> list[str]:
    paragraphs: list[list[str]] = [[block[0].strip()]]
    for previous, line in zip(block, block[1:], strict=False):
        if _starts_paragraph(previous, line, width):
            paragraphs.append([])
        paragraphs[-1].append(line.strip())
    return [_join_lines(p) for p in paragraphs]


def _starts_paragraph(previous: str, line: str, width: int) -> bool:
    if _indent(line) > _indent(previous) or _LIST_ITEM.match(line):
        return True
    before = previous.strip()
    short = len(before) < 0.75 * width
    return short and not _RUNS_ON.search(before) and (bool(_ENDS_SENTENCE.search(before)) or len(before) < 0.5 * width)


def _join_lines(lines: list[str]) -> str:
    joined = lines[0]
    for line in lines[1:]:
        # "long-\nterm" was one word split by the typewriter; keep the hyphen, drop the break.
        glue = "" if re.search(r"[A-Za-z]-$", joined) and line[:1].islower() else " "
        joined += glue + line
    return joined
