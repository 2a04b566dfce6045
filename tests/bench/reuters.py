"""Reuters-21578 (5,000 dated 1987 newswire stories) as a Newsdesk corpus for the benchmarks.

The SGML files are read in place from ``$NEWSDESK_DATA/reuters21578`` and written as one JSONL file
(id, title, date, outlet, text) into a folder of the caller's choosing, which then goes through the
normal corpus loader like any user's corpus. Nothing is copied into the repository.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

_STORY = re.compile(r"<REUTERS[^>]*NEWID=\"(\d+)\"[^>]*>(.*?)</REUTERS>", re.DOTALL)
_DATE = re.compile(r"<DATE>\s*(\d{1,2})-([A-Z]{3})-(\d{4})")
_TITLE = re.compile(r"<TITLE>(.*?)</TITLE>", re.DOTALL)
_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.DOTALL)
_CONTROL = re.compile(r"&#\d+;|[\x00-\x08\x0b-\x1f]")
_MONTHS = {
    m: i
    for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)
}


@dataclass(frozen=True)
class Story:
    id: str
    title: str
    date: dt.date | None
    text: str

    def to_json(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date.isoformat() if self.date else None,
            "outlet": "Reuters",
            "text": self.text,
        }


def parse_sgml(raw: str) -> list[Story]:
    """The stories of one ``reut2-*.sgm`` file that have a body (about 9 in 10 do)."""
    stories = []
    for new_id, block in _STORY.findall(raw):
        body = _BODY.search(block)
        if not body:
            continue
        text = _clean(body.group(1))
        # Wire stories end with a "Reuter" sign-off that is not story.
        text = re.sub(r"\s*Reuter\s*$", "", text).strip()
        if len(text.split()) < 5:
            continue
        title_match = _TITLE.search(block)
        title = " ".join(_clean(title_match.group(1)).split()) if title_match else ""
        stories.append(Story(f"reuters-{new_id}", title, _date(block), _paragraphs(text)))
    return stories


def _clean(text: str) -> str:
    return html.unescape(_CONTROL.sub("", text))


def _paragraphs(text: str) -> str:
    # Paragraphs in the SGML start with an indented line; other line breaks are only wrapping.
    paragraphs = re.split(r"\n\s{2,}", text)
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _date(block: str) -> dt.date | None:
    found = _DATE.search(block)
    if not found:
        return None
    day, month, year = found.groups()
    return dt.date(int(year), _MONTHS[month], int(day))


def load_stories(data_dir: Path) -> list[Story]:
    """Every story with a body under ``data_dir/reuters21578`` (empty list when the data is absent)."""
    folder = data_dir / "reuters21578"
    stories: list[Story] = []
    for path in sorted(folder.glob("reut2-*.sgm")):
        stories.extend(parse_sgml(path.read_text(encoding="latin-1")))
    return stories


def write_corpus(stories: list[Story], corpus_dir: Path) -> Path:
    """The stories as ``corpus_dir/reuters.jsonl`` (one article per line); returns ``corpus_dir``."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    with open(corpus_dir / "reuters.jsonl", "w", encoding="utf-8") as handle:
        for story in stories:
            handle.write(json.dumps(story.to_json(), ensure_ascii=False) + "\n")
    return corpus_dir


def headline_questions(stories: list[Story], count: int) -> list[str]:
    """Questions a reader might type, made from headlines of stories spread over the collection.

    Wire headlines are upper case and terse ("SANDOZ PLANS WEEDKILLER JOINT VENTURE IN USSR"); a
    lower-cased "What about ...?" around them reads like a user's short query and shares words with
    exactly one story, which is what a latency run needs (real retrieval work, varied questions)."""
    titled = [s for s in stories if len(s.title.split()) >= 3]
    if not titled:
        return []
    step = max(1, len(titled) // count)
    return [f"What about {s.title.lower()}?" for s in titled[::step][:count]]
