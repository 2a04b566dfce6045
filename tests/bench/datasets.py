"""Loaders for the evaluation collections under ``$NEWSDESK_DATA`` (default ``../shared/data``).

Each loader returns a :class:`Collection`: articles to index (written as a JSONL corpus, so the
benchmark goes through the same loading, cleaning and chunking as a user's corpus) and queries with
the ids of the articles that answer them. Nothing is copied into the repository.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_ENV = "NEWSDESK_DATA"


class DatasetMissing(Exception):
    """A collection is not on this machine; the message says where it was looked for."""


@dataclass(frozen=True)
class BenchArticle:
    id: str
    title: str
    text: str
    date: str = ""
    outlet: str = ""

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "text": self.text, "date": self.date, "outlet": self.outlet}


@dataclass(frozen=True)
class BenchQuery:
    id: str
    question: str
    relevant: frozenset[str]
    # Gold answer strings (xquad); empty when the collection only judges documents (TIME).
    answers: tuple[str, ...] = ()


@dataclass
class Collection:
    name: str
    articles: list[BenchArticle]
    queries: list[BenchQuery]
    notes: dict[str, str] = field(default_factory=dict)

    def write_corpus(self, folder: Path) -> Path:
        return write_corpus(self.articles, folder)


def write_corpus(articles: list[BenchArticle], folder: Path) -> Path:
    """Write ``articles`` as ``folder/corpus.jsonl`` (only when they changed, so the index is reused)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "corpus.jsonl"
    text = "".join(json.dumps(a.to_json(), ensure_ascii=False) + "\n" for a in articles)
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return folder


def data_root(env: Mapping[str, str] | None = None) -> Path:
    """``$NEWSDESK_DATA`` (relative paths are taken from the repository root) or ``../shared/data``."""
    env = os.environ if env is None else env
    root = Path(env.get(DATA_ENV) or "../shared/data").expanduser()
    return root if root.is_absolute() else (REPO_ROOT / root).resolve()


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise DatasetMissing(f"{what} not found at {path}: set {DATA_ENV} to the folder holding it")
    return path


def load_xquad(root: Path, titles: bool = True) -> Collection:
    """xquad-en: every paragraph an article (240), every question a query (1,190) with its paragraph.

    ``titles``: give each paragraph its Wikipedia article title (shared by 5 paragraphs); without, the
    loader's fallback title (the paragraph's opening words) is used, as for any untitled article."""
    path = _require(root / "xquad-en" / "xquad.en.json", "xquad-en")
    data = json.loads(path.read_text(encoding="utf-8"))
    articles: list[BenchArticle] = []
    queries: list[BenchQuery] = []
    for a, entry in enumerate(data["data"]):
        title = entry["title"].replace("_", " ")
        for p, paragraph in enumerate(entry["paragraphs"]):
            article_id = f"xq{a:02d}-{p}"
            articles.append(BenchArticle(article_id, title if titles else "", paragraph["context"]))
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(ans["text"] for ans in qa["answers"]))
                queries.append(BenchQuery(qa["id"], qa["question"], frozenset({article_id}), answers))
    return Collection("xquad-en", articles, queries, {"titles": "wikipedia" if titles else "none"})


# One header of the file reads "08/30 63": allow a space for the second slash.
_TIME_DOC = re.compile(r"^\*TEXT\s+(\d+)\s+(\d\d)/(\d\d)(?:/|\s+)(\d\d)\b.*$", re.M)
_TIME_QUERY = re.compile(r"^\*FIND\s+(\d+)\s*$", re.M)


def _time_position(number: int) -> int:
    """The index into the parsed articles of document ``number`` of TIME.REL.

    TIME.REL numbers documents by their 1-based position in TIME.ALL (425 documents), not by their
    ``*TEXT`` number. Documents 371 and 372 (TEXT 499 and 500) lost their headers and are part of the
    text of TEXT 498 (position 370), so from 373 on the parsed list is 2 behind. Checked by reading:
    query 4 (U.S. policy toward the regime that overthrew Diem) judges 370, 378, 385, 409, 421, which
    map to TEXT 498 "South Viet Nam: the new regime", 508, 518, 545 and 559, all about South Viet Nam."""
    if number <= 370:
        return number - 1
    return 369 if number <= 372 else number - 3


def load_time(root: Path) -> Collection:
    """The TIME collection (1963 TIME magazine world news): 423 articles, 83 queries with judgments."""
    folder = _require(root / "time-collection", "the TIME collection")
    raw = (folder / "TIME.ALL").read_text(encoding="latin-1")
    articles: list[BenchArticle] = []
    marks = list(_TIME_DOC.finditer(raw))
    for n, mark in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(raw)
        body = raw[mark.end() : end].split("*STOP", 1)[0]
        # Every line of the file is followed by a blank line: join them into one paragraph.
        text = " ".join(body.split())
        month, day, year = int(mark.group(2)), int(mark.group(3)), 1900 + int(mark.group(4))
        date = dt.date(year, month, day).isoformat()
        articles.append(BenchArticle(f"time-{int(mark.group(1)):03d}", "", text, date, "TIME"))
    query_raw = (folder / "TIME.QUE").read_text(encoding="latin-1")
    texts: dict[str, str] = {}
    q_marks = list(_TIME_QUERY.finditer(query_raw))
    for n, mark in enumerate(q_marks):
        end = q_marks[n + 1].start() if n + 1 < len(q_marks) else len(query_raw)
        texts[mark.group(1)] = " ".join(query_raw[mark.end() : end].replace("*STOP", " ").split())
    judged: dict[str, set[str]] = {}
    for line in (folder / "TIME.REL").read_text(encoding="latin-1").splitlines():
        numbers = line.split()
        if len(numbers) >= 2:
            judged.setdefault(numbers[0], set()).update(articles[_time_position(int(d))].id for d in numbers[1:])
    queries = [BenchQuery(f"time-q{qid}", texts[qid], frozenset(judged[qid])) for qid in sorted(texts, key=int)]
    return Collection("time", articles, queries)
