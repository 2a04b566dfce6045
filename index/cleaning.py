"""Remove page furniture from article text by general rules (never by line numbers).

What goes: navigation ("Skip to content"), site chrome ("Accessibility links", "Breaking News"),
image captions and credits ("Image: Reuters/...", "16x9 Image", "... (file photo)" and the caption line
right before a credit), agency sign-offs ("ksb/sb (Reuters, AFP)", a closing " REUTER"), reporting credits
("With reporting by AP", "(Reporting by ...; Editing by ...)"), newsletter calls ("Sign up for ...
newsletter") and outlet self-promotion ("... journalists report the news in 27 languages ...").
What stays: every paragraph of the story, headings included.
"""

from __future__ import annotations

import re
import unicodedata

from index.paragraphs import unwrap_paragraphs

_AGENCIES = r"(?:AP|AFP|Reuters|dpa|KNA|epd|EFE|ANSA|Xinhua|TASS|Interfax|UPI|Bloomberg|DW|RFE/RL|[A-Z]{2,6})"

# A whole line that is furniture, matched case-insensitively after white space is folded.
_FURNITURE_LINES = [
    r"(?:\d+\.\s*|[-*•]\s*)?skip to (?:content|main (?:menu|content|navigation)|navigation|search|footer"
    r"|more [\w ]+ sites?)",
    r"accessibility links",
    r"breaking news",
    r"(?:[-*•]\s*)?\d+x\d+ image",
    r"(?:[-*•]\s*)?(?:image|photo|picture|video|audio|graphic)s?",
    r"(?:image|photo|picture|foto|credit)s?\s*:\s*.{1,150}",
    r"(?:with )?(?:additional )?reporting by .{1,120}",
    # Wire credits: "(Reporting by Jane Doe; Editing by John Roe)", "Our Standards: The Thomson Reuters ...".
    r"\((?:additional )?(?:reporting|writing|editing|compiled) by [^()]{1,200}\)",
    r"our standards:.{0,80}",
    r".{0,150}\bcontributed (?:to )?(?:this|the) (?:report|story)\.?",
    r"contributing:.{1,150}",
    # Links to other stories set in the text: "Read more: Library board approves 2023 budget".
    r"(?:read more|read also|also read|related|see also|more on this(?: story)?)\s*:\s*[^.!?]{0,150}",
    # Rules and the wire's slug and transmission lines ("AP-Rail-Strike,0412", "AP-DS-11-21-22 1547EST").
    r"[_=*~\-]{3,}",
    r"[A-Z]{2,5}-[\w'-]+,\s*\d{2,5}",
    r"[A-Z]{2,5}-[A-Z]{2}-\d{2}-\d{2}-\d{2}\s+\d{4}\s*[A-Z]{2,4}",
    r"compiled by .{1,80}",
    r"(?:subscribe|sign up)(?: now| for free| today| here)?",
    # AFP's closing initials: "burs/ah/rl", "sst/jj".
    r"(?:burs?-)?[a-z]{2,5}(?:/[a-z]{2,5}){1,4}",
    r"(?:share|print|email|advertisement|subscribe|follow us|read more|related(?: topics| articles)?"
    r"|listen to this article|sign up|newsletter|copy link|comments?)",
    r"(?:©|copyright\b).{0,120}",
    r"all rights reserved\.?",
]
_FURNITURE = re.compile(r"^(?:" + "|".join(_FURNITURE_LINES) + r")\W*$", re.IGNORECASE)

# "ksb/sb (Reuters, AFP)", "wd/dj (AP, dpa)": editors' initials, then the agencies used.
_SIGN_OFF = re.compile(
    r"^[a-z]{1,4}(?:/[a-z]{1,4})+\s*\(\s*" + _AGENCIES + r"(?:\s*[,/&]\s*" + _AGENCIES + r")*\s*\)\s*$"
)
# A caption ends with its credit: "... Kabul, AfghanistanImage: Hoshang Hashimi/AP Photo/picture alliance"
_TRAILING_CREDIT = re.compile(r"(?:Image|Photo|Picture|Foto)\s*:\s*[^.!?]{2,120}$")
_FILE_PHOTO = re.compile(r"\((?:file|archive|stock)\s+(?:photo|image|picture)\)\s*$", re.IGNORECASE)

# Paragraphs in which an outlet describes itself rather than the news.
_SELF_PROMOTION = re.compile(
    r"journalists report the news in \d+ languages"
    r"|we provide what many people cannot get locally"
    r"|(?:support|donate to) (?:our|independent) journalism"
    r"|subscribe to (?:our|the) newsletter"
    r"|subscribe (?:for free|now) to (?:receive|get|support)"
    r"|download (?:our|the) app"
    r"|follow (?:us|[\w ]+) on (?:twitter|facebook|instagram|telegram|x)\b"
    r"|^(?:sign up|subscribe|get (?:our|the)|join)\b.{0,120}\bnewsletters?\b",
    re.IGNORECASE,
)

_CAPTION_MAX_CHARS = 160
# The wire's end-of-story mark: " REUTER" (Reuters until the 1990s), "Reuters", "-- AP", and the ETX byte.
_WIRE_SIGN_OFF = re.compile(
    r"(?:(?<=[.!?\"\u201d'])|\n|^)\s*(?:-{1,2}\s*)?(?:REUTERS?|Reuters?|AP|AFP|UPI)\s*(?:\x03|&#3;)?\s*\Z"
)


def normalize_whitespace(text: str) -> str:
    """NFC, unify line endings and odd spaces, and fold runs of spaces inside each line."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u2009", " ").replace("\u202f", " ").replace("\t", " ")
    text = re.sub(r"[\u200b\u200c\u200d\u2060\ufeff]", "", text)
    return "\n".join(re.sub(r" {2,}", " ", line).strip() for line in text.split("\n"))


def is_furniture(line: str) -> bool:
    """True for a line that belongs to the page, not to the story."""
    return bool(
        _FURNITURE.match(line)
        or _SIGN_OFF.match(line)
        or _SELF_PROMOTION.search(line)
        or (_is_caption_like(line) and (_TRAILING_CREDIT.search(line) or _FILE_PHOTO.search(line)))
    )


def _is_caption_like(line: str) -> bool:
    # Captions are short and are not sentences of the story (no closing full stop).
    return len(line) <= _CAPTION_MAX_CHARS * 2 and not line.rstrip().endswith((".", "!", "?", '"', "”"))


def _is_credit(line: str) -> bool:
    return bool(re.match(r"^(?:image|photo|picture|foto|credit)s?\s*:", line, re.IGNORECASE)) or bool(
        _TRAILING_CREDIT.search(line) and _is_caption_like(line)
    )


def clean_text(raw: str, unwrap: bool = True) -> str:
    """Return the story text of ``raw``: paragraphs separated by one blank line, furniture removed.

    ``unwrap``: join hard-wrapped lines into paragraphs (:mod:`index.paragraphs`); off for text whose
    lines are paragraphs already (extracted from HTML)."""
    if unwrap:
        raw = unwrap_paragraphs(raw.replace("\x03", "").replace("&#3;", ""))
    raw = _WIRE_SIGN_OFF.sub("", raw.rstrip())
    lines = [line for line in normalize_whitespace(raw).split("\n") if line]
    keep = [not is_furniture(line) for line in lines]
    for i, line in enumerate(lines):
        # The caption title printed just above a photo credit ("Afghanistan NATO ceremony").
        followed_by_credit = i + 1 < len(lines) and _is_credit(lines[i + 1])
        if followed_by_credit and len(line) <= _CAPTION_MAX_CHARS and _is_caption_like(line):
            keep[i] = False
    return "\n\n".join(line for line, kept in zip(lines, keep, strict=True) if kept)
