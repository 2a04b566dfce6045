"""Reuters-21578 stories as a Newsdesk corpus, for the tests that need a corpus of realistic size.

Reads the SGML files under ``$NEWSDESK_DATA/reuters21578`` (default ``../shared/data``) in place and
writes the stories as one JSONL file in a temporary folder; nothing is copied into the repository.
When the data is not on this machine, :func:`synthetic_stories` makes articles of similar shape.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

_STORY = re.compile(r"<REUTERS[^>]*NEWID=\"(\d+)\"[^>]*>(.*?)</REUTERS>", re.DOTALL)
_DATE = re.compile(r"<DATE>\s*(\d{1,2})-([A-Z]{3})-(\d{4})")
_TITLE = re.compile(r"<TITLE>(.*?)</TITLE>", re.DOTALL)
_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.DOTALL)
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, start=1)}


@dataclass(frozen=True)
class Story:
    id: str
    title: str
    text: str
    date: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "text": self.text, "date": self.date, "outlet": "Reuters"}


def reuters_dir() -> Path | None:
    """The Reuters-21578 folder, or None when it is not on this machine."""
    root = Path(os.environ.get("NEWSDESK_DATA") or "../shared/data").expanduser()
    folder = (root if root.is_absolute() else REPO_ROOT / root).resolve() / "reuters21578"
    return folder if any(folder.glob("reut2-*.sgm")) else None


def reuters_stories(limit: int | None = None) -> list[Story]:
    """Titled stories with a body, in file order (empty when the data is absent)."""
    folder = reuters_dir()
    if folder is None:
        return []
    stories: list[Story] = []
    for file in sorted(folder.glob("reut2-*.sgm")):
        # The files are Latin-1 with a few stray control bytes (the wire's &#3; end marks).
        for match in _STORY.finditer(file.read_text(encoding="latin-1")):
            story = _parse(match.group(1), match.group(2))
            if story is not None:
                stories.append(story)
                if limit is not None and len(stories) >= limit:
                    return stories
    return stories


def _parse(new_id: str, block: str) -> Story | None:
    title, body, date = _TITLE.search(block), _BODY.search(block), _DATE.search(block)
    if not (title and body):
        return None
    text = html.unescape(body.group(1))
    text = re.sub(r"[\x00-\x08\x0b-\x1f]", "", text).replace(" Reuter\n", "\n")
    # Paragraphs in the wire copy start with an indented line.
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s{3,}", text)]
    day = ""
    if date:
        day = dt.date(int(date.group(3)), _MONTHS[date.group(2)], int(date.group(1))).isoformat()
    return Story(f"reuters-{new_id}", " ".join(html.unescape(title.group(1)).split()), "\n\n".join(paragraphs), day)


def synthetic_stories(count: int, seed: int = 0) -> list[Story]:
    """Articles of news-like length made of random words, for when the Reuters data is absent."""
    rng = random.Random(seed)
    words = ["market", "bank", "minister", "said", "company", "shares", "percent", "trade", "oil", "price", "talks"]
    stories = []
    for i in range(count):
        sentences = [" ".join(rng.choices(words, k=rng.randint(8, 20))).capitalize() + "." for _ in range(12)]
        text = "\n\n".join(" ".join(sentences[j : j + 3]) for j in range(0, 12, 3))
        stories.append(Story(f"story-{i}", f"Story number {i}", text, "1987-03-03"))
    return stories


def write_jsonl_corpus(folder: Path, stories: list[Story], name: str = "reuters.jsonl") -> Path:
    """Write ``stories`` as ``folder/name`` and return the file."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_text("".join(json.dumps(s.to_json(), ensure_ascii=False) + "\n" for s in stories), encoding="utf-8")
    return target
