"""The index on disk: generations written atomically, checked on open, updated incrementally.

Layout of an index directory::

    <index_dir>/CURRENT        name of the live generation (replaced atomically)
    <index_dir>/gen-<stamp>/   manifest.json (+ manifest.sha256), articles.jsonl, chunks.jsonl, vectors.npy,
                               dense.faiss, lexical.npz (BM25 over the same chunks, rebuilt whole on every write),
                               sentences.npz (every sentence's span and embedding, for answer extraction),
                               words.npz (optional: the corpus's single-word vectors, for answer extraction)
    <index_dir>/.lock          held while a build runs

With a Milvus vector store (``Settings.vector_store``), a generation holds ``vector_store.json`` (which
collection on which Milvus holds its chunk vectors; :mod:`index.milvus_store`) instead of
``dense.faiss``; everything else stays in the files.

This module only reads and writes generations: what goes into one (chunks, BM25, the FAISS index or
the synced Milvus collection) is built by :mod:`index.builder`.

A build writes a new generation into a temporary folder, renames it into place and only then points
CURRENT at it, so a crash at any moment leaves the previous index intact. The previous generation is
kept one build longer so that readers that just read CURRENT can still open it.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import errno
import fcntl
import functools
import hashlib
import json
import logging
import os
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.ann import read_ann, write_ann
from index.dates import parse_date
from index.durable import fsync_dir
from index.errors import IndexUnusableError
from index.lexical import LEXICAL_NAME, LexicalIndex
from index.manifest import MANIFEST_NAME, IndexManifest, file_sha256
from index.milvus_store import VECTOR_STORE_NAME, MilvusPlacement
from index.records import Article, Chunk
from index.sentence_index import SENTENCES_NAME, SentenceIndex
from index.vector_store import FAISS, FaissVectorStore, VectorStore
from index.word_vectors import WORDS_NAME, StoredWords

log = logging.getLogger("newsdesk.store")

CURRENT_NAME = "CURRENT"
ARTICLES_NAME = "articles.jsonl"
CHUNKS_NAME = "chunks.jsonl"
VECTORS_NAME = "vectors.npy"
ANN_NAME = "dense.faiss"
DATA_FILES = (ARTICLES_NAME, CHUNKS_NAME, VECTORS_NAME, ANN_NAME, LEXICAL_NAME, SENTENCES_NAME)
# A generation whose chunk vectors are searched in Milvus: the placement file instead of dense.faiss.
MILVUS_DATA_FILES = (ARTICLES_NAME, CHUNKS_NAME, VECTORS_NAME, VECTOR_STORE_NAME, LEXICAL_NAME, SENTENCES_NAME)
MANIFEST_DIGEST_NAME = "manifest.sha256"


@dataclass
class StoredIndex:
    """An index loaded in memory. ``vectors[i]`` is the embedding of ``chunks[i]``; position ``i`` of
    ``lexical`` is ``chunks[i]`` too."""

    manifest: IndexManifest
    articles: dict[str, Article]
    chunks: list[Chunk]
    vectors: np.ndarray
    ann: Any
    path: Path
    lexical: LexicalIndex
    sentences: SentenceIndex | None = None
    # The dense side: FAISS over ``ann`` unless a Milvus collection was opened for this generation.
    dense: VectorStore | None = None
    # Single-word vectors made at index time (None: an index written without them; words are then
    # embedded as questions need them).
    words: StoredWords | None = None
    # Per outlet filter, the dates of its articles (newest_date), made the first time a question uses it.
    _dates_by_outlet: dict[str, tuple[dt.date, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @functools.cached_property
    def article_years(self) -> frozenset[int]:
        """The years the articles are dated in (what an abstention checks before saying no article speaks
        of a year, index.answering)."""
        return frozenset(a.date.year for a in self.articles.values() if a.date is not None)

    @functools.cached_property
    def article_dates(self) -> tuple[dt.date, ...]:
        """The articles' dates, oldest first (undated articles left out)."""
        return tuple(sorted(a.date for a in self.articles.values() if a.date is not None))

    def newest_date(self, on_or_before: dt.date, outlet: str | None = None) -> dt.date | None:
        """The date of the newest article published on or before ``on_or_before`` (None: none was); with
        ``outlet``, of the articles that pass that outlet filter (``Article.from_outlet``)."""
        dates = self.article_dates if outlet is None else self._outlet_dates(outlet)
        position = bisect.bisect_right(dates, on_or_before)
        return dates[position - 1] if position else None

    def _outlet_dates(self, outlet: str) -> tuple[dt.date, ...]:
        if outlet not in self._dates_by_outlet:
            self._dates_by_outlet[outlet] = tuple(
                sorted(a.date for a in self.articles.values() if a.date is not None and a.from_outlet(outlet))
            )
        return self._dates_by_outlet[outlet]

    def vector_store(self) -> VectorStore:
        """What dense search runs on (see :mod:`index.vector_store`)."""
        if self.dense is None:
            self.dense = FaissVectorStore(self.ann, self.vectors, [c.article_id for c in self.chunks])
        return self.dense

    def lexical_index(self) -> LexicalIndex:
        """The BM25 index over ``chunks``."""
        return self.lexical


def rebuild_hint(index_dir: Path) -> str:
    return f"rebuild it with {_rebuild_command(index_dir)}"


def _rebuild_command(index_dir: Path) -> str:
    return f"'newsdesk index --rebuild --index-dir {index_dir}'"


def current_generation(index_dir: Path) -> Path | None:
    pointer = index_dir / CURRENT_NAME
    try:
        name = pointer.read_bytes().decode("ascii").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None  # no index yet (or a path that cannot hold one: writing it will say so)
    except OSError as err:
        raise IndexUnusableError(f"cannot read {pointer} ({err.strerror}): check its permissions") from None
    except UnicodeDecodeError:
        name = ""  # a damaged pointer: generation names are plain ASCII
    generation = index_dir / name
    if not name.startswith("gen-") or "/" in name or not generation.is_dir():
        raise IndexUnusableError(f"the index at {index_dir} points at a missing generation: {rebuild_hint(index_dir)}")
    return generation


def read_manifest(index_dir: Path) -> IndexManifest | None:
    generation = current_generation(index_dir)
    if generation is None:
        return None
    return _read_generation_manifest(generation, index_dir)


def _read_generation_manifest(generation: Path, index_dir: Path) -> IndexManifest:
    try:
        data = (generation / MANIFEST_NAME).read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        raise IndexUnusableError(
            f"the index manifest at {generation} is unreadable: {rebuild_hint(index_dir)}"
        ) from None
    # The manifest holds the checksums of the other files, so it has its own: a flipped byte in it could
    # otherwise still parse (a changed date, id or checksum) and go unnoticed. Generations written before
    # this file existed have none and are read as they are.
    digest_file = generation / MANIFEST_DIGEST_NAME
    if digest_file.exists():
        try:
            expected = digest_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            expected = ""
        if hashlib.sha256(data).hexdigest() != expected:
            raise IndexUnusableError(
                f"the index manifest at {generation} is damaged (checksum mismatch): {rebuild_hint(index_dir)}"
            )
    try:
        return IndexManifest.from_json(text, str(generation))
    except IndexUnusableError as err:
        # from_json's hint cannot know the folder; name it so the command can be pasted as it is.
        raise IndexUnusableError(str(err).replace("'newsdesk index --rebuild'", _rebuild_command(index_dir))) from None


def read_index(index_dir: Path) -> StoredIndex | None:
    """Load the live generation, checking every file against the manifest's checksums.

    Returns ``None`` when there is no index yet; raises :class:`IndexUnusableError` when it is damaged."""
    # CURRENT is resolved once: a build may swap it while we read, and the manifest and the data
    # files must come from the same generation.
    generation = current_generation(index_dir)
    if generation is None:
        return None
    manifest = _read_generation_manifest(generation, index_dir)
    optional = (WORDS_NAME,) if WORDS_NAME in manifest.files else ()
    for name in (*data_files(manifest), *optional):
        file = generation / name
        if not file.is_file() or file_sha256(file) != manifest.files.get(name):
            raise IndexUnusableError(
                f"the index file {file} is missing or damaged (checksum mismatch): {rebuild_hint(index_dir)}"
            )
    try:
        articles = {a.id: a for a in map(_article_from_json, _read_jsonl(generation / ARTICLES_NAME))}
        chunks = [Chunk(**c) for c in _read_jsonl(generation / CHUNKS_NAME)]
        vectors = np.load(generation / VECTORS_NAME, allow_pickle=False)
        placement = _read_placement(generation)
        ann = read_ann(generation / ANN_NAME) if placement is None else None
        lexical = LexicalIndex.load(generation / LEXICAL_NAME)
        sentences = SentenceIndex.load(generation / SENTENCES_NAME)
        words = StoredWords.load(generation / WORDS_NAME) if optional else None
    except (ValueError, TypeError, KeyError, OSError, RuntimeError) as err:
        raise IndexUnusableError(
            f"the index at {generation} cannot be read ({err}): {rebuild_hint(index_dir)}"
        ) from None
    dense_count = placement.count if placement is not None else ann.ntotal  # type: ignore[union-attr]
    if (
        len(chunks) != len(vectors)
        or dense_count != len(chunks)
        or lexical.doc_count != len(chunks)
        or sentences.vectors.shape[1:] != vectors.shape[1:]
    ):
        raise IndexUnusableError(f"the index at {generation} is inconsistent: {rebuild_hint(index_dir)}")
    stored = StoredIndex(manifest, articles, chunks, vectors, ann, generation, lexical, sentences, words=words)
    if placement is not None:
        from index.milvus_store import open_placement, positions_of

        contents = {e.id: e.content_hash for e in manifest.articles}
        positions = positions_of((c.article_id for c in chunks), (c.ordinal for c in chunks), contents)
        stored.dense = open_placement(placement, positions, str(index_dir))
    return stored


def data_files(manifest: IndexManifest) -> tuple[str, ...]:
    """The data files of a generation: its vectors are in FAISS or, with a placement file, in Milvus."""
    return MILVUS_DATA_FILES if VECTOR_STORE_NAME in manifest.files else DATA_FILES


def generation_vector_store(index_dir: Path, manifest: IndexManifest) -> str:
    """``faiss`` or the Milvus URI the live generation's vectors are in."""
    if VECTOR_STORE_NAME not in manifest.files:
        return FAISS
    placement = live_placement(index_dir)
    return FAISS if placement is None else placement.uri


def live_placement(index_dir: Path) -> MilvusPlacement | None:
    """The Milvus collection the live generation's vectors are in (``None``: FAISS, or no index yet)."""
    generation = current_generation(index_dir)
    return None if generation is None else _read_placement(generation)


def live_generation(index_dir: Path, held: StoredIndex | None) -> StoredIndex | None:
    """``held`` when it is still the live generation (generations never change once written, so it needs
    no second check against its checksums), else the live one read and checked (:func:`read_index`)."""
    if held is not None and current_generation(index_dir) == held.path:
        return held
    return read_index(index_dir)


def _read_placement(generation: Path) -> MilvusPlacement | None:
    file = generation / VECTOR_STORE_NAME
    if not file.is_file():
        return None
    return MilvusPlacement.from_json(file.read_text(encoding="utf-8"))


def write_index(
    index_dir: Path,
    manifest: IndexManifest,
    articles: list[Article],
    chunks: list[Chunk],
    vectors: np.ndarray,
    lexical: LexicalIndex,
    sentences: SentenceIndex,
    dense: Any,
    words: StoredWords | None = None,
) -> StoredIndex:
    """Write a new generation and make it live atomically. Call with :func:`build_lock` held.

    ``dense``: the FAISS index over ``vectors``, or the :class:`MilvusPlacement` of the collection
    already synced with them (:func:`index.milvus_store.sync_generation`)."""
    _ensure_writable(index_dir)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = index_dir / f"gen-{stamp}"
    staging = index_dir / f"tmp-{stamp}-{os.getpid()}"
    try:
        staging.mkdir()
        _write_jsonl(staging / ARTICLES_NAME, (_article_to_json(a) for a in articles))
        _write_jsonl(staging / CHUNKS_NAME, (c.__dict__ for c in chunks))
        np.save(staging / VECTORS_NAME, vectors, allow_pickle=False)
        milvus = isinstance(dense, MilvusPlacement)
        if milvus:
            (staging / VECTOR_STORE_NAME).write_text(dense.to_json(), encoding="utf-8")
        else:
            write_ann(dense, staging / ANN_NAME)
        lexical.save(staging / LEXICAL_NAME)
        sentences.save(staging / SENTENCES_NAME)
        names: tuple[str, ...] = MILVUS_DATA_FILES if milvus else DATA_FILES
        if words is not None:
            words.save(staging / WORDS_NAME)
            names = (*names, WORDS_NAME)
        manifest.files = {name: file_sha256(staging / name) for name in names}
        manifest_bytes = manifest.to_json().encode("utf-8")
        (staging / MANIFEST_NAME).write_bytes(manifest_bytes)
        (staging / MANIFEST_DIGEST_NAME).write_text(hashlib.sha256(manifest_bytes).hexdigest() + "\n")
        fsync_dir(staging)
        previous = _current_name(index_dir)
        staging.rename(final)
        _replace_text(index_dir / CURRENT_NAME, final.name)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise IndexUnusableError(
            f"cannot write the index in {index_dir} ({err.strerror or err}): pass --index-dir to a writable folder"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _prune_generations(index_dir, keep={final.name, previous})
    ann = None if milvus else dense
    return StoredIndex(
        manifest, {a.id: a for a in articles}, chunks, vectors, ann, final, lexical, sentences, words=words
    )


@contextlib.contextmanager
def build_lock(index_dir: Path, wait: bool = True) -> Iterator[bool]:
    """Hold the index's build lock. Yields False (without the lock) if ``wait`` is off and it is taken."""
    _ensure_writable(index_dir)
    with open(index_dir / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield False
                return
            # Say at once who holds it: a build can take an hour, and silence looks like a hang.
            log.warning("waiting for the index lock of %s, held by %s", index_dir, lock_holder(handle))
            fcntl.flock(handle, fcntl.LOCK_EX)
        _write_lock_holder(handle)
        try:
            # Anything left in staging by a crashed build is garbage now that we own the lock.
            for stale in index_dir.glob("tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def lock_holder(handle: Any) -> str:
    """Who holds the build lock, as its holder wrote it: "pid 4242 on host-a (newsdesk index) since 13:05:09"."""
    try:
        handle.seek(0)
        holder = json.loads(handle.read() or "{}")
        return f"pid {holder['pid']} on {holder['host']} ({holder['command']}) since {holder['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (it did not say which)"


def index_lock_holder(index_dir: Path) -> str:
    """Who holds (or last held) the build lock of ``index_dir``."""
    try:
        with open(index_dir / ".lock") as handle:
            return lock_holder(handle)
    except OSError:
        return "another process (it did not say which)"


def _write_lock_holder(handle: Any) -> None:
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:200] if sys.argv else "python",
        "since": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    with contextlib.suppress(OSError):
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(holder))
        handle.flush()


def _ensure_writable(index_dir: Path) -> None:
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        probe = index_dir / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        reason = "it is not a folder" if err.errno in (errno.ENOTDIR, errno.EEXIST) else err.strerror
        raise IndexUnusableError(
            f"cannot write the index directory {index_dir} ({reason}): pass --index-dir to a writable folder"
        ) from None


def _current_name(index_dir: Path) -> str:
    try:
        return (index_dir / CURRENT_NAME).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _prune_generations(index_dir: Path, keep: set[str]) -> None:
    """Delete every generation but ``keep``: the live one and the one that was live until now (a
    reader may have just resolved CURRENT to it). Choosing by name order instead would keep a
    generation orphaned by a crash between its rename and the CURRENT swap, and delete the one
    readers are using."""
    for old in index_dir.glob("gen-*"):
        if old.is_dir() and old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def _replace_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}")
    with open(temporary, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    fsync_dir(path.parent)


def _write_jsonl(path: Path, rows: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _article_to_json(article: Article) -> dict[str, Any]:
    return article.__dict__ | {"date": article.date_iso}


def _article_from_json(row: dict[str, Any]) -> Article:
    return Article(**(row | {"date": parse_date(row.get("date"))}))
