"""Quotation marks around a quoted sentence, for every front end.

A news sentence often holds a quotation of its own ('"It's time to end America's longest war," Biden
said'). Wrapped as it is, it would open with two marks (“"It's time ...); as in print, the quotation
inside a quotation takes single marks: “‘It's time to end America's longest war,’ Biden said.”
The words are untouched; ``--json`` keeps the quote exactly as the article has it.
"""

from __future__ import annotations

import re

# A straight double quote that opens a quotation: at the start, or after a space, bracket or dash.
_OPENING = re.compile(r"(^|[\s(\[—–-])\"")


def nested(text: str) -> str:
    """``text`` with its double quotation marks made single (opening and closing kept apart)."""
    text = text.replace("“", "‘").replace("”", "’")
    return _OPENING.sub(r"\1‘", text).replace('"', "’")


def in_quotes(text: str) -> str:
    """``text`` between double quotation marks, its own quotations in single ones."""
    return f"“{nested(text)}”"
