"""Adding articles to a corpus folder: local files are copied in, web pages are fetched and saved.

A fetched page is saved as it came (``.html``), so the loader reads it like any other page: the story
through trafilatura, the metadata from its JSON-LD and ``<meta>`` tags. When the page does not say its own
address, the address it was fetched from is written into it (``og:url``) so that citations can link to it.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from index.errors import CorpusError
from index.loading import SUPPORTED_SUFFIXES

_USER_AGENT = "Newsdesk/0.1 (+https://github.com/newsdesk; offline news question answering)"
_MAX_PAGE_BYTES = 20_000_000


@dataclass(frozen=True)
class AddedFile:
    source: str  # the path or URL as given
    path: Path  # where it now lives in the corpus


def is_url(item: str) -> bool:
    return urlparse(item).scheme in ("http", "https")


def add_to_corpus(items: list[str], corpus_dir: Path, timeout_s: float = 20.0) -> list[AddedFile]:
    """Copy files and fetch URLs into ``corpus_dir``. Raises :class:`CorpusError` (nothing added) when an
    item cannot be added: a missing or unsupported file, a page that cannot be fetched."""
    # Everything is checked and fetched before anything is written: all or nothing.
    for item in items:
        if not is_url(item):
            _check_file(Path(item))
    pages = {item: fetch_page(item, timeout_s) for item in items if is_url(item)}
    corpus_dir.mkdir(parents=True, exist_ok=True)
    added: list[AddedFile] = []
    for item in items:
        if item in pages:
            target = _free_name(corpus_dir, _slug_for(item), ".html")
            target.write_bytes(pages[item])
        else:
            source = Path(item)
            target = _free_name(corpus_dir, source.stem, source.suffix.lower(), same_as=source)
            if not target.exists():
                shutil.copyfile(source, target)
        added.append(AddedFile(item, target))
    return added


def fetch_page(url: str, timeout_s: float) -> bytes:
    """The page at ``url`` (following redirects), with its address written in when it does not carry one."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT, "Accept": "text/html,*/*;q=0.5"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            kind = response.headers.get_content_type()
            data = response.read(_MAX_PAGE_BYTES + 1)
            final_url = response.geturl() or url
    except urllib.error.HTTPError as err:
        raise CorpusError(f"could not fetch {url}: the server answered {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise CorpusError(f"could not fetch {url} ({reason}): check the address and the network") from None
    if kind not in ("text/html", "application/xhtml+xml"):
        raise CorpusError(f"{url} is not a web page ({kind}); download it and add the file instead")
    if len(data) > _MAX_PAGE_BYTES:
        raise CorpusError(f"{url} is over {_MAX_PAGE_BYTES // 1_000_000} MB: not a news article")
    return _with_own_address(data, final_url)


def _with_own_address(data: bytes, url: str) -> bytes:
    from index.decoding import decode_bytes
    from index.html_metadata import page_metadata, parse_page

    try:
        text = decode_bytes(data).text
        if page_metadata(parse_page(text)).url:
            return data
    except ValueError:
        return data
    tag = f'<meta property="og:url" content="{_escape(url)}">'
    head = re.search(r"<head[^>]*>", text, re.IGNORECASE)
    at = head.end() if head else 0
    return (text[:at] + tag + text[at:]).encode("utf-8")


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise CorpusError(f"{path} is not a file (give article files or http(s) URLs)")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise CorpusError(f"{path}: unsupported file type (use {', '.join(sorted(SUPPORTED_SUFFIXES))})")


def _slug_for(url: str) -> str:
    parsed = urlparse(url)
    words = re.findall(r"[a-z0-9]+", f"{parsed.netloc} {parsed.path}".lower())
    digest = hashlib.sha1(url.encode()).hexdigest()[:8]
    return "-".join(words)[-80:].strip("-") + f"-{digest}"


def _free_name(folder: Path, stem: str, suffix: str, same_as: Path | None = None) -> Path:
    """``folder/stem+suffix``, or with ``-2``, ``-3``... when that name holds another file."""
    stem = re.sub(r"[^\w.-]+", "-", stem).strip("-.") or "article"
    for number in range(1, 10_000):
        candidate = folder / (stem + (f"-{number}" if number > 1 else "") + suffix)
        if not candidate.exists():
            return candidate
        if same_as is not None and candidate.read_bytes() == same_as.read_bytes():
            return candidate  # already in the corpus: adding it again changes nothing
    raise CorpusError(f"too many files named {stem}{suffix} in {folder}")
