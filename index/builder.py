"""Bring the index in line with the corpus: embed only what is new or changed, prune what is gone."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.ann import build_ann, choose_index_type
from index.answer_model import load_answer_model
from index.chunk_vectors import CHUNK_VECTORS_FROM_SENTENCES, article_units, pooled_chunk_vectors
from index.chunking import ChunkingConfig, chunk_articles, embedding_offset, embedding_text
from index.embedding import DocumentEmbedder, Embedder, IndexEmbedder, model_weights_sha256
from index.errors import ConfigError, IndexUnusableError
from index.lexical import LexicalIndex
from index.loading import SUPPORTED_SUFFIXES, load_corpus, text_hash
from index.manifest import FORMAT_VERSION, ArticleEntry, IndexManifest
from index.progress import Progress, Stage
from index.records import Article, Chunk
from index.sentence_index import SentenceIndex, article_sentences, sentence_pieces
from index.sentences import Span
from index.settings import Settings
from index.store import (
    StoredIndex,
    build_lock,
    generation_vector_store,
    index_lock_holder,
    live_generation,
    live_placement,
    read_manifest,
    write_index,
)
from index.token_encoder import unit_rows
from index.vector_store import FAISS, VectorStore, normalised_store, store_kind
from index.word_vectors import WORD_BATCH, StoredWords, article_words

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
    embedded_words: int = 0  # single words embedded by the question encoder (StoredWords)
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


def _recipe(settings: Settings, embedder: IndexEmbedder) -> IndexManifest:
    tokens = isinstance(embedder, DocumentEmbedder)
    if settings.chunk_vectors == CHUNK_VECTORS_FROM_SENTENCES and not tokens:
        raise ConfigError(
            "chunk_vectors = 'from-sentences' needs the encoder's token embeddings, which Ray's embedder does not "
            "return: index without --ray, or set chunk_vectors = 'encoded' (NEWSDESK_CHUNK_VECTORS=encoded)"
        )
    return IndexManifest(
        format_version=FORMAT_VERSION,
        model_id=settings.model,
        model_sha256=model_weights_sha256(embedder),
        dimension=embedder.dimension,
        model_max_tokens=embedder.max_tokens,
        chunking={"chunk_tokens": settings.chunk_tokens, "overlap_tokens": settings.chunk_overlap_tokens},
        index_type=settings.index_type,
        corpus_dir=str(settings.corpus_dir.resolve()),
        corpus_fingerprint=corpus_fingerprint(settings.corpus_dir),
        articles=[],
        chunk_count=0,
        encoder=embedder.describe(),
        # An embedder that returns no token embeddings (index.ray_embedding) cannot pool: it encodes.
        sentence_vectors=settings.sentence_vectors if tokens else "encoded",
        chunk_vectors=settings.chunk_vectors,
        answer_model=_answer_model_entry(settings),
    )


def _answer_model_entry(settings: Settings) -> dict[str, str]:
    """The installed answer model and the threshold it answers at (the settings' when they set one)."""
    if settings.answerer != "learned":
        return {}
    model = load_answer_model()
    threshold = model.threshold if settings.abstain_threshold is None else settings.abstain_threshold
    return {"name": model.name, "sha256": model.sha256, "threshold": str(threshold)}


def open_index(
    settings: Settings,
    embedder: IndexEmbedder,
    rebuild: bool = False,
    wait_for_build: bool = False,
    held: StoredIndex | None = None,
    words: Embedder | None = None,
) -> tuple[StoredIndex, BuildReport]:
    """The index for ``settings.corpus_dir``, updated first if the corpus or the recipe changed.

    ``wait_for_build``: when another process holds the build lock, wait for it and then update, rather
    than answer from the previous index (what a background refresh wants). ``held``: the generation
    the caller already holds (checked when it was read): while it is live it is used as it is, not read
    and checked again. ``words``: the question encoder; an update then also embeds the corpus's new
    words with it (:class:`StoredWords`)."""
    index_dir = settings.resolved_index_dir()
    store = normalised_store(settings.vector_store)  # a store this install cannot use fails here, not after embedding
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
            same_store = generation_vector_store(index_dir, current) == store
            # Another encoder of the same model (say, OpenVINO missing on this machine) or another way of
            # making sentence vectors is no reason to re-embed an up-to-date index: its vectors answer
            # the same questions. Only an update re-embeds everything then (_reusable), so that no index
            # mixes two encoders' vectors; --rebuild applies new settings at once.
            same = (
                current.same_recipe(recipe, encoder=False) and current.corpus_fingerprint == recipe.corpus_fingerprint
            )
            if same_type and same_store and same:
                stored = live_generation(index_dir, held)
                if stored is not None:
                    return stored, BuildReport(articles=len(stored.articles), total_chunks=len(stored.chunks))
    if not rebuild and not wait_for_build:
        with build_lock(index_dir, wait=False) as locked:
            if not locked:
                stored = _read_index_or_none(index_dir, held)
                if stored is not None and stored.manifest.same_model(recipe):
                    log.warning(
                        "%s is updating this index; answering from the previous one", index_lock_holder(index_dir)
                    )
                    return stored, BuildReport(articles=len(stored.articles), total_chunks=len(stored.chunks))
    with build_lock(index_dir, wait=True):
        return _update(settings, embedder, recipe, index_dir, rebuild, held, words)


def _check_model(current: IndexManifest, recipe: IndexManifest, index_dir: Path) -> None:
    """Vectors of another model cannot answer this model's queries; say so rather than re-embed."""
    if current.same_model(recipe):
        return
    rebuild = f"re-embed the corpus with 'newsdesk index --rebuild --index-dir {index_dir}'"
    if current.model_id == recipe.model_id and current.dimension == recipe.dimension:
        # The same name, other weights: most likely another release of the model's package.
        raise ConfigError(
            f"the index at {index_dir} was embedded with another weights file of model '{current.model_id}' "
            f"(sha256 {current.model_sha256[:12]}…; the installed file's is {recipe.model_sha256[:12]}…): "
            f"{rebuild}, or install the release of the model package the index was built with"
        )
    raise ConfigError(
        f"the index at {index_dir} was embedded with model '{current.model_id}' but the settings ask for "
        f"'{recipe.model_id}': set model = '{current.model_id}' (NEWSDESK_MODEL) to use it, or {rebuild}"
    )


def _read_index_or_none(index_dir: Path, held: StoredIndex | None) -> StoredIndex | None:
    try:
        return live_generation(index_dir, held)
    except IndexUnusableError:
        return None


def _update(
    settings: Settings,
    embedder: IndexEmbedder,
    recipe: IndexManifest,
    index_dir: Path,
    rebuild: bool,
    held: StoredIndex | None,
    words: Embedder | None = None,
) -> tuple[StoredIndex, BuildReport]:
    started = time.perf_counter()
    progress = Progress(bars=settings.show_progress, log_every_s=settings.progress_log_s)
    loaded = load_corpus(settings.corpus_dir, progress)
    report = BuildReport(articles=len(loaded.articles), warnings=loaded.warnings)
    old = None if rebuild else _reusable(index_dir, recipe, held)
    report.rebuilt = old is None
    old_chunks = _chunks_by_article(old) if old else {}
    old_hashes = {e.id: e.content_hash for e in old.manifest.articles} if old else {}
    old_sentences = old.sentences.spans_by_article() if old and old.sentences is not None else {}
    config = ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap_tokens, embedder.max_tokens)

    chunks: list[Chunk] = []
    rows: list[np.ndarray | None] = []
    fresh: list[FreshArticle] = []
    sentence_parts: list[tuple[str, list[Span], np.ndarray | None]] = []
    entries: list[ArticleEntry] = []
    digests = [article_hash(a) for a in loaded.articles]
    # Chunked lazily, in order, a group of articles' token counts at a time (index.chunking.chunk_articles).
    chunked = chunk_articles(
        (a for a, d in zip(loaded.articles, digests, strict=True) if old_hashes.get(a.id) != d),
        config,
        embedder.count_tokens,
    )
    for article, digest in progress.iterate(zip(loaded.articles, digests, strict=True), "chunking", len(digests)):
        if old_hashes.get(article.id) == digest:
            kept = old_chunks[article.id]
            chunks.extend(c for c, _ in kept)
            rows.extend(v for _, v in kept)
            # An article without sentences (headings only) has no rows to keep.
            sentence_parts.append((article.id, *old_sentences.get(article.id, ([], np.zeros((0, 1))))))
            entries.append(ArticleEntry(article.id, digest, len(kept)))
            continue
        (report.changed if article.id in old_hashes else report.added).append(article.id)
        piece = next(chunked)
        article_chunks = piece.chunks
        item = FreshArticle(article, piece.prefix, len(chunks), article_chunks, article_sentences(article))
        fresh.append(item)
        sentence_parts.append((article.id, item.sentences, None))
        chunks.extend(article_chunks)
        rows.extend([None] * len(article_chunks))
        entries.append(ArticleEntry(article.id, digest, len(article_chunks)))
    report.removed = sorted(set(old_hashes) - {a.id for a in loaded.articles})
    report.total_chunks = len(chunks)
    report.embedded_chunks = sum(len(f.chunks) for f in fresh)

    with progress.stage("embedding", len(fresh)) as stage:
        embedded = _embed(fresh, embedder, settings, recipe, stage)
    for item, (chunk_vectors, _) in zip(fresh, embedded, strict=True):
        rows[item.first_row : item.first_row + len(item.chunks)] = list(chunk_vectors)
    filled = [r for r in rows if r is not None]
    assert len(filled) == len(rows)  # every fresh chunk got its vector above
    vectors = np.stack(filled).astype(np.float32) if filled else np.zeros((0, recipe.dimension), dtype=np.float32)
    fresh_sentences = iter([s for _, s in embedded])
    complete = [(aid, spans, next(fresh_sentences) if kept is None else kept) for aid, spans, kept in sentence_parts]
    sentences = SentenceIndex.assemble(complete, recipe.dimension)
    report.embedded_sentences = sum(len(f.sentences) for f in fresh)
    stored_words = None
    if words is not None and hasattr(words, "describe"):
        stored_words, report.embedded_words = _embed_words(
            _word_encoder(words, embedder), old.words if old else None, loaded.articles, [f.article for f in fresh]
        )
    recipe.articles = entries
    recipe.chunk_count = len(chunks)
    lexical = build_lexical(loaded.articles, chunks)
    searcher, dense = _build_dense(index_dir, recipe, loaded.articles, chunks, vectors, settings.vector_store, report)
    stored = write_index(
        index_dir, recipe, loaded.articles, chunks, vectors, lexical, sentences, dense, words=stored_words
    )
    if searcher is not None:  # Milvus: the alias follows the generation now live, for other tools
        from index.milvus_store import publish_alias

        stored.dense = searcher
        publish_alias(searcher.client, dense.alias, dense.collection)  # type: ignore[attr-defined]
    report.wrote = True
    report.seconds = time.perf_counter() - started
    return stored, report


def build_lexical(articles: list[Article], chunks: list[Chunk]) -> LexicalIndex:
    """BM25 over what the dense side embeds for each chunk: its article's title, then its text.

    Its statistics (IDF, average length) depend on every chunk, so it is built whole for every
    generation; it needs no embedding, which is what makes an update expensive."""
    titles = {a.id: a.title for a in articles}
    return LexicalIndex.build([embedding_text(titles[c.article_id], c.text) for c in chunks])


def _build_dense(
    index_dir: Path,
    recipe: IndexManifest,
    articles: list[Article],
    chunks: list[Chunk],
    vectors: np.ndarray,
    vector_store: str,
    report: BuildReport,
) -> tuple[VectorStore | None, Any]:
    """The new generation's dense side: (None, a FAISS index over ``vectors``), or, with a Milvus
    ``vector_store``, (its store, its placement): the collection the live generation does not use,
    synced before CURRENT moves (a rebuild keeps nothing of it). Fixes ``recipe.index_type``."""
    requested = recipe.index_type
    recipe.index_type = choose_index_type(requested, len(vectors))
    if store_kind(vector_store) == FAISS:
        return None, build_ann(vectors, recipe.index_type)
    from index.milvus_store import sync_generation

    live = live_placement(index_dir)
    return sync_generation(index_dir, vector_store, recipe, requested, articles, chunks, vectors, report.rebuilt, live)


def _word_encoder(questions: Embedder, documents: IndexEmbedder) -> Embedder:
    """What embeds the corpus's words for the question encoder ``questions``: the document encoder when it is
    the same runtime over the same weights (same ``describe()``), differing only in its threads (every core;
    a question gets Settings.query_threads), which changes no vector (OpenVINO's bit for bit:
    tests/index/test_embedding.py); else ``questions`` itself."""
    same = type(documents) is type(questions) and documents.describe() == questions.describe()
    return documents if same else questions


def _embed_words(
    encoder: Embedder, previous: StoredWords | None, articles: list[Article], fresh: list[Article]
) -> tuple[StoredWords, int]:
    """The previous generation's word vectors plus those of the new articles' words (every article's
    when there are none to keep, or another encoder made them)."""
    describe: dict[str, str] = encoder.describe()  # type: ignore[attr-defined]
    reusable = previous is not None and previous.encoder == describe
    texts = [text for a in (fresh if reusable else articles) for text in (a.title, a.text)]
    return StoredWords.extend(previous, article_words(texts), lambda new: encoder.encode(new, WORD_BATCH), describe)


def _reusable(index_dir: Path, recipe: IndexManifest, held: StoredIndex | None) -> StoredIndex | None:
    stored = live_generation(index_dir, held)  # raises when damaged: the user chooses to rebuild, we do not
    if stored is None:
        return None
    _check_model(stored.manifest, recipe, index_dir)
    if not stored.manifest.same_recipe(recipe):
        # Same model, other chunking or encoder: the old vectors are of no use for the new chunks, and an
        # index mixed from two encoders' vectors is never written.
        old = stored.manifest
        what = "chunking settings" if old.chunking != recipe.chunking else "encoder or the kind of vectors"
        log.warning("the %s changed since the index was built; re-embedding every article", what)
        return None
    return stored


def _chunks_by_article(stored: StoredIndex) -> dict[str, list[tuple[Chunk, np.ndarray]]]:
    grouped: dict[str, list[tuple[Chunk, np.ndarray]]] = {}
    for chunk, vector in zip(stored.chunks, stored.vectors, strict=True):
        grouped.setdefault(chunk.article_id, []).append((chunk, vector))
    return grouped


@dataclass
class FreshArticle:
    """An article to embed: its chunks (rows ``first_row...`` of the index) and its sentences."""

    article: Article
    prefix: str
    first_row: int
    chunks: list[Chunk]
    sentences: list[Span]

    def texts(self) -> list[str]:
        return [embedding_text(self.prefix, c.text) for c in self.chunks]


def _embed(
    fresh: list[FreshArticle], embedder: IndexEmbedder, settings: Settings, recipe: IndexManifest, stage: Stage
) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`_embed_group` over groups of articles of about ``_steps`` batches each, advancing ``stage``
    by the articles done (a group is big enough that length-sorted batches stay full)."""
    out: list[tuple[np.ndarray, np.ndarray]] = []
    step = settings.batch_size * _steps(embedder)
    group: list[FreshArticle] = []
    for n, item in enumerate(fresh):
        group.append(item)
        if sum(len(f.chunks) for f in group) >= step or n == len(fresh) - 1:
            if recipe.chunk_vectors == CHUNK_VECTORS_FROM_SENTENCES:
                assert isinstance(embedder, DocumentEmbedder)  # _recipe refuses the others
                out += _embed_from_sentences(group, embedder, settings)
            else:
                out += _embed_group(group, embedder, settings, recipe.sentence_vectors)
            stage.advance(len(group))
            group = []
    return out


def _steps(embedder: IndexEmbedder) -> int:
    """Batches per progress step: 16 for a local encoder; a distributed embedder (Ray) gets everything in
    one call, since each call has a fixed cost there (it reports its own progress)."""
    return 16 if isinstance(embedder, DocumentEmbedder) else 1_000_000


def _embed_group(
    fresh: list[FreshArticle], embedder: IndexEmbedder, settings: Settings, mode: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Chunk vectors and sentence vectors of each fresh article, in one batched encoder call.

    ``sentence_vectors = "pooled"``: a sentence's vector pools its tokens from the chunk pass
    (:func:`index.sentence_index.sentence_pieces`); only a sentence that yields no token at all (say,
    nothing but characters the tokenizer drops) is embedded on its own. ``"encoded"``: every sentence is
    embedded on its own, a second pass."""
    texts = [t for f in fresh for t in f.texts()]
    if mode == "encoded" or not isinstance(embedder, DocumentEmbedder):
        chunk_vectors = _split(embedder.encode(texts, settings.batch_size), fresh)
        sentence_texts = [f.article.text[s.start : s.end] for f in fresh for s in f.sentences]
        encoded = embedder.encode(sentence_texts, settings.batch_size)
        bounds = np.cumsum([0, *(len(f.sentences) for f in fresh)])
        return [(c, encoded[a:b]) for c, a, b in zip(chunk_vectors, bounds[:-1], bounds[1:], strict=True)]
    pieces = [sentence_pieces(f.sentences, f.chunks, embedding_offset(f.prefix)) for f in fresh]
    spans = [chunk_spans for per_chunk, _ in pieces for chunk_spans in per_chunk]
    passages = embedder.encode_passages(texts, spans, settings.batch_size)
    out: list[tuple[np.ndarray, np.ndarray]] = []
    row = 0
    for item, (_, owners) in zip(fresh, pieces, strict=True):
        sums = np.zeros((len(item.sentences), embedder.dimension), dtype=np.float32)
        counts = np.zeros(len(item.sentences), dtype=np.int64)
        for chunk_owners in owners:
            np.add.at(sums, chunk_owners, passages.span_sums[row])
            np.add.at(counts, chunk_owners, passages.span_tokens[row])
            row += 1
        first = row - len(item.chunks)
        out.append((passages.vectors[first:row], sums))
        _fill_empty(item, sums, counts, embedder, settings)
    for _, sums in out:  # the mean of a span's tokens, normalised, is its normalised sum
        unit_rows(sums)
    return out


def _embed_from_sentences(
    fresh: list[FreshArticle], embedder: DocumentEmbedder, settings: Settings
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Chunk vectors and sentence vectors of each fresh article from one encoder pass over its title prefix
    and sentences (:mod:`index.chunk_vectors`): a sentence's vector is its unit's, a chunk's pools its
    units' tokens. A chunk that holds no token at all (nothing the tokenizer keeps, no title) is encoded on
    its own, as the chunk pass would."""
    units = [article_units(f.article.text, f.prefix, f.chunks, f.sentences) for f in fresh]
    texts = [t for u in units for t in u.texts]
    if not texts:
        nothing = np.zeros((0, embedder.dimension), dtype=np.float32)
        return [(nothing, nothing) for _ in fresh]
    passages = embedder.encode_passages(texts, [[(0, len(t))] for t in texts], settings.batch_size)
    sums, counts = np.concatenate(passages.span_sums), np.concatenate(passages.span_tokens)
    out: list[tuple[np.ndarray, np.ndarray]] = []
    first = 0
    for item, unit in zip(fresh, units, strict=True):
        rows = slice(first, first + len(unit.texts))
        chunk_vectors, holds_tokens = pooled_chunk_vectors(unit, sums[rows], counts[rows])
        empty = np.flatnonzero(~holds_tokens)
        if len(empty):
            chunk_vectors[empty] = embedder.encode([item.texts()[n] for n in empty], settings.batch_size)
        out.append((chunk_vectors, passages.vectors[rows][unit.sentences]))
        first = rows.stop
    return out


def _fill_empty(
    item: FreshArticle, sums: np.ndarray, counts: np.ndarray, embedder: IndexEmbedder, settings: Settings
) -> None:
    empty = np.flatnonzero(counts == 0)
    if len(empty):
        texts = [item.article.text[item.sentences[n].start : item.sentences[n].end] for n in empty]
        sums[empty] = embedder.encode(texts, settings.batch_size)


def _split(vectors: np.ndarray, fresh: list[FreshArticle]) -> list[np.ndarray]:
    bounds = np.cumsum([0, *(len(f.chunks) for f in fresh)])
    return [vectors[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
