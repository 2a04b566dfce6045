"""Read a corpus directory into clean :class:`Article` records.

Supported files: ``.txt`` and ``.md`` (optional YAML front matter between ``---`` lines; markdown rendered
to plain text), ``.html``/``.htm`` (:mod:`index.html_metadata` and :mod:`index.html_text`) and ``.jsonl``
(one article per line). Bytes that are not UTF-8 are decoded by detection (:mod:`index.decoding`).

Metadata comes from the file's fields first; only what they lack is read from the lines printed above the
story (headline, byline, a date line, a dateline with a year), never from the story's sentences. Metadata
that cannot be read (a date in no known form, a title that is a dateline) is dropped with a warning and the
article is kept. A file that cannot be read at all is skipped with a one-line warning; the rest still loads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from index.cleaning import clean_text, normalize_whitespace
from index.dates import dateline_date, is_date_line, parse_date
from index.decoding import UndecodableError, decode_bytes
from index.errors import CorpusError
from index.progress import Progress
from index.records import Article
from index.titles import byline_of, fallback_title, is_byline_affiliation, is_dateline, is_usable_title

log = logging.getLogger("newsdesk.loading")

MARKDOWN_SUFFIXES = {".md", ".markdown"}
TEXT_SUFFIXES = {".txt"} | MARKDOWN_SUFFIXES
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES
# A single article beyond this is almost certainly a dump or a wrong file, not a news story.
MAX_ARTICLE_CHARS = 1_000_000
MAX_FILE_BYTES = 200_000_000
# A headline printed above the story is shorter than this; a longer first paragraph is story.
_HEADLINE_MAX_CHARS = 200
# The lines above the story (headline, byline, date, dateline) are read from this many first paragraphs.
_HEAD_PARAGRAPHS = 5
_DATELINE_OUTLET = re.compile(r"^[^.!?]{0,50}?\(?\b(Reuters|CNN|AP|AFP|UPI|Bloomberg|dpa)\)?\s*[-\u2013\u2014]{1,2}\s")
# Field names other tools write for the same thing (JSONL exports, front matter of static-site generators).
_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "title": ("title", "headline"),
    "text": ("text", "body", "content", "article"),
    "date": ("date", "published", "published_at", "publish_date", "pubdate", "date_published", "datePublished"),
    "outlet": ("outlet", "source", "publisher", "site_name", "site"),
    "url": ("url", "link", "canonical_url"),
    "byline": ("byline", "author", "authors"),
}
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)


class SkipFile(Exception):
    """Raised inside the loader for a file (or JSONL line) that is skipped; the message says why."""


@dataclass
class CorpusLoad:
    """The articles read from a corpus and a one-line reason for each thing skipped."""

    articles: list[Article]
    warnings: list[str] = field(default_factory=list)


def load_corpus(corpus_dir: Path, progress: Progress | None = None) -> CorpusLoad:
    """Read every supported file under ``corpus_dir`` (recursively, hidden files ignored).

    Raises :class:`CorpusError` when the directory is missing or holds no readable article."""
    if not corpus_dir.exists():
        raise CorpusError(f"corpus directory {corpus_dir} does not exist: pass --corpus DIR or create it")
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus {corpus_dir} is a file, not a directory: pass the folder that holds it")
    result = CorpusLoad(articles=[])
    seen_ids: set[str] = set()
    seen_text: dict[str, str] = {}
    files = list(_corpus_files(corpus_dir, result.warnings))
    for path in progress.iterate(files, "reading", len(files), "files") if progress else files:
        for article in _load_file_safely(path, corpus_dir, result.warnings):
            digest = text_hash(article.text)
            if article.id in seen_ids:
                _warn(result.warnings, f"skipped {article.source_path}: id '{article.id}' is already used")
            elif digest in seen_text:
                _warn(result.warnings, f"skipped {article.source_path}: same text as '{seen_text[digest]}'")
            else:
                seen_ids.add(article.id)
                seen_text[digest] = article.id
                result.articles.append(article)
    if not result.articles:
        raise CorpusError(
            f"corpus directory {corpus_dir} holds no readable article "
            f"(supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"
        )
    return result


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _warn(warnings: list[str], message: str) -> None:
    warnings.append(message)
    log.warning(message)


def _corpus_files(corpus_dir: Path, warnings: list[str]) -> Iterator[Path]:
    for path in sorted(corpus_dir.rglob("*")):
        relative = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield path
        else:
            _warn(warnings, f"skipped {relative}: unsupported file type (use .txt, .md, .html or .jsonl)")


def _load_file_safely(path: Path, corpus_dir: Path, warnings: list[str]) -> list[Article]:
    relative = str(path.relative_to(corpus_dir))
    return load_file(path, relative, warnings)


def load_file(path: Path, relative: str, warnings: list[str]) -> list[Article]:
    """The articles of one file (several for JSONL); a file that cannot be read gives none and a warning."""
    try:
        raw = _read_text(path, relative, warnings)
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            return _load_jsonl(raw, relative, warnings)
        if suffix in HTML_SUFFIXES:
            return [_article_from_html(raw, path.stem, relative, warnings)]
        return [_article_from_text(raw, path.stem, relative, suffix in MARKDOWN_SUFFIXES, warnings)]
    except SkipFile as reason:
        _warn(warnings, f"skipped {relative}: {reason}")
    except Exception as err:  # noqa: BLE001 - one bad file must never stop the corpus from loading
        _warn(warnings, f"skipped {relative}: could not be read ({type(err).__name__}: {err})"[:300])
    return []


def _read_text(path: Path, relative: str, warnings: list[str]) -> str:
    size = path.stat().st_size
    if size == 0:
        raise SkipFile("the file is empty")
    if size > MAX_FILE_BYTES:
        raise SkipFile(f"the file is {size / 1e6:.0f} MB, over the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise SkipFile("binary file (it holds NUL bytes); save articles as UTF-8 text")
    try:
        decoded = decode_bytes(data)
    except UndecodableError as err:
        raise SkipFile(str(err)) from None
    if decoded.detected_encoding:
        _warn(
            warnings,
            f"{relative}: not UTF-8, read as {decoded.detected_encoding} (re-save it as UTF-8 if it reads wrong)",
        )
    return decoded.text


def _split_front_matter(raw: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as err:
        line = getattr(getattr(err, "problem_mark", None), "line", None)
        where = f" (line {line + 2})" if line is not None else ""
        raise SkipFile(f"front matter is not valid YAML{where}; fix it or remove the --- block") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise SkipFile("front matter must be 'key: value' lines (id, title, outlet, date, url)")
    return meta, raw[match.end() :]


def _article_from_text(raw: str, stem: str, relative: str, markdown: bool, warnings: list[str]) -> Article:
    meta, body = _split_front_matter(raw)
    if markdown:
        from index.markdown_text import markdown_to_text  # markdown-it-py: imported when a .md file is read

        rendered = markdown_to_text(body)
        # The document's heading is its title unless the front matter names one.
        meta = {"title": rendered.title} | meta if rendered.title and not _field(meta, "title") else meta
        body = rendered.text
    return _make_article(meta, clean_text(body), stem, relative, warnings)


def _article_from_html(raw: str, stem: str, relative: str, warnings: list[str]) -> Article:
    from index.html_metadata import page_metadata, parse_page  # lxml and trafilatura: only for HTML files
    from index.html_text import story_text

    try:
        tree = parse_page(raw)
    except ValueError as err:
        raise SkipFile(str(err)) from None
    page = page_metadata(tree)
    text = story_text(tree)
    if not text.strip():
        raise SkipFile("no article text found in the HTML")
    meta = {"title": page.title, "date": page.date, "outlet": page.outlet, "url": page.url, "byline": page.byline}
    return _make_article(meta, clean_text(text, unwrap=False), stem, relative, warnings)


def _load_jsonl(raw: str, relative: str, warnings: list[str]) -> list[Article]:
    articles: list[Article] = []
    stem = Path(relative).stem
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{relative}:{number}"
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise SkipFile("a line must be a JSON object with at least 'text'")
            text = _field(record, "text")
            if not isinstance(text, str):
                raise SkipFile("'text' must be a string")
            articles.append(_make_article(record, clean_text(text), f"{stem}-{number}", where, warnings))
        except json.JSONDecodeError as err:
            _warn(warnings, f"skipped {where}: not valid JSON ({err.msg})")
        except SkipFile as reason:
            _warn(warnings, f"skipped {where}: {reason}")
    return articles


def _field(meta: dict[str, Any], name: str) -> Any:
    """The first non-empty value of ``name`` or one of its aliases."""
    for key in _FIELD_ALIASES[name]:
        value = meta.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def _meta_str(meta: dict[str, Any], name: str, where: str, warnings: list[str]) -> str:
    """A metadata field as one line of text; a value of the wrong shape is ignored with a warning."""
    value = _field(meta, name)
    if value is None:
        return ""
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        value = value["name"]  # {"name": "Reuters"}, as schema.org writes publishers and authors
    if name == "byline" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = " and ".join(value)  # authors: ["Jane Doe", "John Roe"]
    if isinstance(value, (dict, list)):
        _warn(warnings, f"{where}: ignored '{name}': it must be a single value, not a {type(value).__name__}")
        return ""
    return " ".join(normalize_whitespace(str(value)).split())


def _make_article(meta: dict[str, Any], text: str, stem: str, where: str, warnings: list[str]) -> Article:
    head = _ArticleHead(
        title=_meta_str(meta, "title", where, warnings),
        date=_metadata_date(meta, where, warnings),
        byline=_meta_str(meta, "byline", where, warnings),
        outlet=_meta_str(meta, "outlet", where, warnings),
    )
    if head.title and not is_usable_title(head.title):
        _warn(warnings, f"{where}: the title {head.title[:60]!r} is not a headline; titled by its first sentence")
        head.title = ""
    paragraphs = _read_head(text.split("\n\n") if text else [], head)
    body = "\n\n".join(paragraphs).strip()
    if len(body) > MAX_ARTICLE_CHARS:
        raise SkipFile(f"the article is {len(body):,} characters, over {MAX_ARTICLE_CHARS:,}; split it")
    if len(re.findall(r"\w+", body)) < 3:
        raise SkipFile("no article text after cleaning")
    return Article(
        id=_meta_str(meta, "id", where, warnings) or stem,
        title=head.title or fallback_title(body),
        text=body,
        outlet=head.outlet,
        date=head.date,
        url=_meta_str(meta, "url", where, warnings),
        source_path=where,
        byline=head.byline,
    )


def _metadata_date(meta: dict[str, Any], where: str, warnings: list[str]) -> dt.date | None:
    value = _field(meta, "date")
    try:
        return parse_date(value)
    except ValueError as err:
        _warn(warnings, f"{where}: 'date' {err}; indexed as undated")
        return None


@dataclass
class _ArticleHead:
    """Metadata of an article, filled from its fields first and then from the lines above its story."""

    title: str
    date: dt.date | None
    byline: str
    outlet: str


def _read_head(paragraphs: list[str], head: _ArticleHead) -> list[str]:
    """Take the headline, byline, date line and dateline printed above the story out of ``paragraphs``
    (they are metadata, not story) and fill what ``head`` lacks from them. Stops at the first paragraph
    of the story: nothing below it is read as metadata."""
    body = list(paragraphs)
    for _ in range(_HEAD_PARAGRAPHS):
        if not body:
            break
        first = body[0]
        if head.title and _same_words(first, head.title):
            body.pop(0)
        elif not head.title and len(body) > 1 and is_usable_title(first) and len(first) <= _HEADLINE_MAX_CHARS:
            head.title = body.pop(0)
        elif (names := byline_of(first)) is not None or (head.byline and is_byline_affiliation(first)):
            # "By JOHN HAMMOND" and the "UPI Science Writer" line under it.
            head.byline = head.byline or names or ""
            head.date = head.date or next(filter(None, map(dateline_date, re.split(r"\s*\|\s*", first))), None)
            body.pop(0)
        elif is_date_line(first):
            head.date = head.date or dateline_date(first)
            body.pop(0)
        elif is_dateline(first) and len(body) > 1:
            # "Washington CNN —" printed on a line of its own opens the first paragraph.
            dateline = body.pop(0)
            body[0] = f"{dateline} {body[0]}"
            head.outlet = head.outlet or _dateline_outlet(body[0])
            break
        else:
            break
    if body:
        head.date = head.date or dateline_date(body[0])
        head.outlet = head.outlet or _dateline_outlet(body[0])
    return body


def _dateline_outlet(paragraph: str) -> str:
    match = _DATELINE_OUTLET.match(paragraph)
    return match.group(1) if match else ""


def _same_words(a: str, b: str) -> bool:
    def words(s: str) -> list[str]:
        return re.findall(r"\w+", s.lower())

    return words(a) == words(b)
