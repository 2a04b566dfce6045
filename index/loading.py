"""Read a corpus directory into clean :class:`Article` records.

Supported files: ``.txt``/``.md`` (optional YAML front matter between ``---`` lines), ``.html``/``.htm``
(main text through trafilatura) and ``.jsonl`` (one article per line: id, title, text, date, outlet,
url). A file that cannot be read is skipped with a one-line warning; the rest is still loaded.
"""

from __future__ import annotations

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
from index.dates import find_date, is_date_line, parse_date
from index.errors import CorpusError
from index.records import Article

log = logging.getLogger("newsdesk.loading")

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES
# A single article beyond this is almost certainly a dump or a wrong file, not a news story.
MAX_ARTICLE_CHARS = 1_000_000
MAX_FILE_BYTES = 200_000_000
_TITLE_MAX_CHARS = 200
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_META_KEYS = {"id", "title", "outlet", "date", "url", "text", "source", "author", "authors", "tags"}


class SkipFile(Exception):
    """Raised inside the loader for a file (or JSONL line) that is skipped; the message says why."""


@dataclass
class CorpusLoad:
    """The articles read from a corpus and a one-line reason for each thing skipped."""

    articles: list[Article]
    warnings: list[str] = field(default_factory=list)


def load_corpus(corpus_dir: Path) -> CorpusLoad:
    """Read every supported file under ``corpus_dir`` (recursively, hidden files ignored).

    Raises :class:`CorpusError` when the directory is missing or holds no readable article."""
    if not corpus_dir.exists():
        raise CorpusError(f"corpus directory {corpus_dir} does not exist: pass --corpus DIR or create it")
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus {corpus_dir} is a file, not a directory: pass the folder that holds it")
    result = CorpusLoad(articles=[])
    seen_ids: set[str] = set()
    seen_text: dict[str, str] = {}
    for path in _corpus_files(corpus_dir, result.warnings):
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
    try:
        raw = _read_text(path)
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            return _load_jsonl(raw, relative, warnings)
        if suffix in HTML_SUFFIXES:
            return [_article_from_html(raw, path.stem, relative)]
        return [_article_from_text(raw, path.stem, relative)]
    except SkipFile as reason:
        _warn(warnings, f"skipped {relative}: {reason}")
    except Exception as err:  # noqa: BLE001 - one bad file must never stop the corpus from loading
        _warn(warnings, f"skipped {relative}: could not be read ({type(err).__name__}: {err})"[:300])
    return []


def _read_text(path: Path) -> str:
    size = path.stat().st_size
    if size == 0:
        raise SkipFile("the file is empty")
    if size > MAX_FILE_BYTES:
        raise SkipFile(f"the file is {size / 1e6:.0f} MB, over the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise SkipFile("binary file (it holds NUL bytes); save articles as UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SkipFile(f"not UTF-8 text (bad byte at offset {err.start}); re-save it as UTF-8") from None


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


def _article_from_text(raw: str, stem: str, relative: str) -> Article:
    meta, body = _split_front_matter(raw)
    return _make_article(meta, clean_text(body), stem, relative)


def _article_from_html(raw: str, stem: str, relative: str) -> Article:
    try:
        import trafilatura
    except ImportError as err:  # pragma: no cover - a dependency of the package
        raise SkipFile(f"reading HTML needs trafilatura ({err}); pip install trafilatura lxml_html_clean") from None
    doc = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False, favor_recall=True)
    if doc is None:
        raise SkipFile("no article text found in the HTML")
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    meta = {
        "title": data.get("title") or "",
        "date": data.get("date") or "",
        "outlet": data.get("sitename") or data.get("hostname") or "",
        "url": data.get("url") or "",
    }
    return _make_article(meta, clean_text(data.get("text") or ""), stem, relative)


def _load_jsonl(raw: str, relative: str, warnings: list[str]) -> list[Article]:
    articles: list[Article] = []
    stem = Path(relative).stem
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise SkipFile("a line must be a JSON object with at least 'text'")
            text = record.get("text")
            if not isinstance(text, str):
                raise SkipFile("'text' must be a string")
            meta = {k: v for k, v in record.items() if k != "text"}
            articles.append(_make_article(meta, clean_text(text), f"{stem}-{number}", f"{relative}:{number}"))
        except json.JSONDecodeError as err:
            _warn(warnings, f"skipped {relative}:{number}: not valid JSON ({err.msg})")
        except SkipFile as reason:
            _warn(warnings, f"skipped {relative}:{number}: {reason}")
    return articles


def _meta_str(meta: dict[str, Any], key: str) -> str:
    value = meta.get(key)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise SkipFile(f"'{key}' must be a single value, not {type(value).__name__}")
    return normalize_whitespace(str(value)).replace("\n", " ").strip()


def _make_article(meta: dict[str, Any], text: str, stem: str, relative: str) -> Article:
    title = _meta_str(meta, "title")
    try:
        date = parse_date(meta.get("date"))
    except ValueError as err:
        raise SkipFile(f"'date' {err}") from None
    lines = text.split("\n\n") if text else []
    # The headline and dateline printed above the story are metadata, not story.
    if lines and title and _same_words(lines[0], title):
        lines.pop(0)
    elif lines and not title and _looks_like_title(lines[0]) and len(lines) > 1:
        title = lines.pop(0)
    for i in range(min(3, len(lines))):
        if is_date_line(lines[i]):
            date = date or find_date(lines[i])
            lines.pop(i)
            break
    body = "\n\n".join(lines).strip()
    if len(body) > MAX_ARTICLE_CHARS:
        raise SkipFile(f"the article is {len(body):,} characters, over {MAX_ARTICLE_CHARS:,}; split it")
    if len(re.findall(r"\w+", body)) < 3:
        raise SkipFile("no article text after cleaning")
    if date is None:
        date = find_date(body[:500])
    article_id = _meta_str(meta, "id") or stem
    return Article(
        id=article_id,
        title=title or _fallback_title(body),
        text=body,
        outlet=_meta_str(meta, "outlet") or _meta_str(meta, "source"),
        date=date,
        url=_meta_str(meta, "url"),
        source_path=relative,
    )


def _same_words(a: str, b: str) -> bool:
    def words(s: str) -> list[str]:
        return re.findall(r"\w+", s.lower())

    return words(a) == words(b)


def _looks_like_title(line: str) -> bool:
    return 0 < len(line) <= _TITLE_MAX_CHARS and "\n" not in line and not line.rstrip().endswith(".")


def _fallback_title(body: str) -> str:
    first = body.split("\n", 1)[0]
    return first if len(first) <= 80 else first[:77].rsplit(" ", 1)[0] + "..."
