"""Bring the index in line with the corpus: embed only what is new or changed, prune what is gone."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.ann import choose_index_type
from index.chunking import ChunkingConfig, chunk_article, embedding_text, title_prefix
from index.embedding import Embedder, SentenceTransformerEmbedder
from index.errors import ConfigError, IndexUnusableError
from index.loading import SUPPORTED_SUFFIXES, load_corpus, text_hash
from index.manifest import FORMAT_VERSION, ArticleEntry, IndexManifest
from index.progress import Progress, Stage, encode_with_progress
from index.records import Article, Chunk
from index.sentence_index import SentenceIndex, article_sentences
from index.sentences import Span
from index.settings import Settings
from index.store import (
    StoredIndex,
    build_lock,
    generation_vector_store,
    index_lock_holder,
    read_index,
    read_manifest,
    write_index,
)
from index.vector_store import normalised_store

log = logging.getLogger("newsdesk.builder")


@dataclass
class BuildReport:
    """What an update did, for the command line and the tests."""

    articles: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    embedded_chunks: int = 0
    embedded_sentences: int = 0
    total_chunks: int = 0
    rebuilt: bool = False
    wrote: bool = False
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.wrote:
            return f"index up to date: {self.articles} articles, {self.total_chunks} chunks"
        what = "rebuilt" if self.rebuilt else "updated"
        return (
            f"index {what} in {self.seconds:.1f} s: {self.articles} articles, {self.total_chunks} chunks "
            f"({len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{self.embedded_chunks} chunks and {self.embedded_sentences} sentences embedded)"
        )


def corpus_fingerprint(corpus_dir: Path) -> str:
    """A cheap signature of the corpus files (names, sizes, modification times)."""
    digest = hashlib.sha256()
    if corpus_dir.is_dir():
        for path in sorted(corpus_dir.rglob("*")):
            if path.suffix.lower() in SUPPORTED_SUFFIXES and path.is_file():
                stat = path.stat()
                digest.update(f"{path.relative_to(corpus_dir)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def article_hash(article: Article) -> str:
    """Changes when what is embedded for the article changes (its title prefix or its text)."""
    return text_hash(f"{article.title}\0{article.text}")


def _recipe(settings: Settings, embedder: Embedder) -> IndexManifest:
    return IndexManifest(
        format_version=FORMAT_VERSION,
        model_id=settings.model,
        dimension=embedder.dimension,
        model_max_tokens=embedder.max_tokens,
        chunking={"chunk_tokens": settings.chunk_tokens, "overlap_tokens": settings.chunk_overlap_tokens},
        index_type=settings.index_type,
        corpus_dir=str(settings.corpus_dir.resolve()),
        corpus_fingerprint=corpus_fingerprint(settings.corpus_dir),
        articles=[],
        chunk_count=0,
    )


def open_index(
    settings: Settings, embedder: Embedder, rebuild: bool = False, wait_for_build: bool = False
) -> tuple[StoredIndex, BuildReport]:
    """The index for ``settings.corpus_dir``, updated first if the corpus or the recipe changed.

    ``wait_for_build``: when another process holds the build lock, wait for it and then update, rather
    than answer from the previous index (what a background refresh wants)."""
    index_dir = settings.resolved_index_dir()
    recipe = _recipe(settings, embedder)
    if not rebuild:
        # A damaged index, one of another format version or one embedded by another model raises here
        # with a line that says what to do: it is never served, and never thrown away unasked (a rebuild
        # can take hours on a big corpus; the user decides).
        current = read_manifest(index_dir)
        if current is not None:
            _check_model(current, recipe, index_dir)
            # An explicitly asked index type (settings, --index-type) other than the stored one rebuilds only
            # the vector index: nothing is re-embedded. "auto" keeps what is there until the corpus changes.
            same_type = settings.index_type == "auto" or current.index_type == choose_index_type(
                settings.index_type, current.chunk_count
            )
            # Another vector store (faiss <-> Milvus, another Milvus) re-embeds nothing either.
            same_store = generation_vector_store(index_dir, current) == normalised_store(settings.vector_store)
            same = current.same_recipe(recipe) and current.corpus_fingerprint == recipe.corpus_fingerprint
            if same_type and same_store and same:
                stored = read_index(index_dir)
                if stored is not None:
                    return stored, BuildReport(articles=len(stored.articles), total_chunks=len(stored.chunks))
    if not rebuild and not wait_for_build:
        with build_lock(index_dir, wait=False) as locked:
            if not locked:
                stored = _read_index_or_none(index_dir)
                if stored is not None and _same_model(stored.manifest, recipe):
                    log.warning(
                        "%s is updating this index; answering from the previous one", index_lock_holder(index_dir)
                    )
                    return stored, BuildReport(articles=len(stored.articles), total_chunks=len(stored.chunks))
    with build_lock(index_dir, wait=True):
        return _update(settings, embedder, recipe, index_dir, rebuild)


def _same_model(current: IndexManifest, recipe: IndexManifest) -> bool:
    return current.model_id == recipe.model_id and current.dimension == recipe.dimension


def _check_model(current: IndexManifest, recipe: IndexManifest, index_dir: Path) -> None:
    """Vectors of another model cannot answer this model's queries; say so rather than re-embed."""
    if not _same_model(current, recipe):
        raise ConfigError(
            f"the index at {index_dir} was embedded with model '{current.model_id}' but the settings ask for "
            f"'{recipe.model_id}': set model = '{current.model_id}' (NEWSDESK_MODEL) to use it, or re-embed "
            f"the corpus with 'newsdesk index --rebuild --index-dir {index_dir}'"
        )


def _read_index_or_none(index_dir: Path) -> StoredIndex | None:
    try:
        return read_index(index_dir)
    except IndexUnusableError:
        return None


def _update(
    settings: Settings, embedder: Embedder, recipe: IndexManifest, index_dir: Path, rebuild: bool
) -> tuple[StoredIndex, BuildReport]:
    started = time.perf_counter()
    progress = Progress(bars=settings.show_progress, log_every_s=settings.progress_log_s)
    loaded = load_corpus(settings.corpus_dir, progress)
    report = BuildReport(articles=len(loaded.articles), warnings=loaded.warnings)
    old = None if rebuild else _reusable(index_dir, recipe)
    report.rebuilt = old is None
    old_chunks = _chunks_by_article(old) if old else {}
    old_hashes = {e.id: e.content_hash for e in old.manifest.articles} if old else {}
    old_sentences = old.sentences.spans_by_article() if old and old.sentences is not None else {}
    config = ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap_tokens, embedder.max_tokens)

    chunks: list[Chunk] = []
    rows: list[np.ndarray | None] = []
    fresh: list[tuple[int, str]] = []  # (position in chunks, text to embed)
    sentence_parts: list[tuple[str, list[Span], np.ndarray | None]] = []
    entries: list[ArticleEntry] = []
    for article in progress.iterate(loaded.articles, "chunking", len(loaded.articles)):
        digest = article_hash(article)
        if old_hashes.get(article.id) == digest:
            kept = old_chunks[article.id]
            chunks.extend(c for c, _ in kept)
            rows.extend(v for _, v in kept)
            # An article without sentences (headings only) has no rows to keep.
            sentence_parts.append((article.id, *old_sentences.get(article.id, ([], np.zeros((0, 1))))))
        else:
            sentence_parts.append((article.id, article_sentences(article), None))
            (report.changed if article.id in old_hashes else report.added).append(article.id)
            prefix = title_prefix(article.title, embedder.count_tokens)
            for chunk in chunk_article(article, config, embedder.count_tokens):
                fresh.append((len(chunks), embedding_text(prefix, chunk.text)))
                chunks.append(chunk)
                rows.append(None)
        entries.append(ArticleEntry(article.id, digest, sum(1 for c in chunks if c.article_id == article.id)))
    report.removed = sorted(set(old_hashes) - {a.id for a in loaded.articles})
    report.total_chunks = len(chunks)
    report.embedded_chunks = len(fresh)

    owners = [chunks[i].article_id for i, _ in fresh]
    with progress.stage("embedding chunks", len(set(owners))) as stage:
        vectors = _assemble_vectors(rows, fresh, embedder, settings, recipe.dimension, owners, stage)
    with progress.stage("embedding sentences", sum(1 for _, spans, kept in sentence_parts if kept is None)) as stage:
        sentences, report.embedded_sentences = _assemble_sentences(
            sentence_parts, {a.id: a for a in loaded.articles}, embedder, settings, recipe.dimension, stage
        )
    recipe.articles = entries
    recipe.chunk_count = len(chunks)
    stored = write_index(
        index_dir, recipe, loaded.articles, chunks, vectors, sentences, settings.vector_store, fresh=report.rebuilt
    )
    report.wrote = True
    report.seconds = time.perf_counter() - started
    return stored, report


def _reusable(index_dir: Path, recipe: IndexManifest) -> StoredIndex | None:
    stored = read_index(index_dir)  # raises when damaged: the user chooses to rebuild, we do not
    if stored is None:
        return None
    _check_model(stored.manifest, recipe, index_dir)
    if not stored.manifest.same_recipe(recipe):
        # Same model, other chunking: the old vectors are of no use for the new chunks.
        log.warning("the chunking settings changed since the index was built; re-embedding every article")
        return None
    return stored


def _chunks_by_article(stored: StoredIndex) -> dict[str, list[tuple[Chunk, np.ndarray]]]:
    grouped: dict[str, list[tuple[Chunk, np.ndarray]]] = {}
    for chunk, vector in zip(stored.chunks, stored.vectors, strict=True):
        grouped.setdefault(chunk.article_id, []).append((chunk, vector))
    return grouped


def _assemble_vectors(
    rows: list[np.ndarray | None],
    fresh: list[tuple[int, str]],
    embedder: Embedder,
    settings: Settings,
    dimension: int,
    owners: list[str],
    stage: Stage,
) -> np.ndarray:
    vectors = np.zeros((len(rows), dimension), dtype=np.float32)
    for i, row in enumerate(rows):
        if row is not None:
            vectors[i] = row
    if fresh:
        texts = [t for _, t in fresh]
        embedded = encode_with_progress(embedder.encode, texts, owners, settings.batch_size, stage, _steps(embedder))
        vectors[[i for i, _ in fresh]] = embedded
    return vectors


def _steps(embedder: Embedder) -> int:
    """Batches per progress step: 16 for the local model; a distributed embedder (Ray) gets everything in
    one call, since each call has a fixed cost there (it reports its own progress)."""
    return 16 if isinstance(embedder, SentenceTransformerEmbedder) else 1_000_000


def _assemble_sentences(
    parts: list[tuple[str, list[Span], np.ndarray | None]],
    articles: dict[str, Article],
    embedder: Embedder,
    settings: Settings,
    dimension: int,
    stage: Stage,
) -> tuple[SentenceIndex, int]:
    """Sentence vectors of every article: kept ones reused, new ones embedded in one batched call."""
    texts = [articles[aid].text[s.start : s.end] for aid, spans, kept in parts if kept is None for s in spans]
    owners = [aid for aid, spans, kept in parts if kept is None for _ in spans]
    embedded = (
        encode_with_progress(embedder.encode, texts, owners, settings.batch_size, stage, _steps(embedder))
        if texts
        else np.zeros((0, dimension), dtype=np.float32)
    )
    complete: list[tuple[str, list[Span], np.ndarray]] = []
    used = 0
    for aid, spans, kept in parts:
        if kept is None:
            kept = embedded[used : used + len(spans)]
            used += len(spans)
        complete.append((aid, spans, kept))
    return SentenceIndex.assemble(complete, dimension), len(texts)
