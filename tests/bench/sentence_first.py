"""Sentence-first chunk vectors, measured before building them (issue 14; tried and dropped, docs/QUALITY.md).

    python -m tests.bench.sentence_first                 # xquad-en, squad-long and news-long (test split)
    python -m tests.bench.sentence_first --reuters 500   # also the encoder's time on 500 Reuters stories

The idea: one encoder pass over the sentences (the "encoded" sentence vectors the answer stage already
uses), and each chunk's vector derived from that pass's token embeddings instead of a chunk pass of its
own: the mean over every token of the chunk, that is the sum of each of its units' token embeddings over
their count, normalised. A chunk's units are its article's title prefix (what ``embedding_text`` puts in
front of every chunk) and each sentence of ``split_sentences`` that falls in it (cut to the chunk where a
long sentence was cut; headings included, as they are in the chunk text). Only content tokens are
pooled: adding each unit's [CLS]/[SEP], or one pair (the title's) as the chunk pass has, moved recall@1 by
0.001 or less in the probe that preceded this script.

Each benchmark's cached index of "encoded" sentence vectors (the same folders as tests.bench.quality and
tests.bench.answer_bench) is opened, its chunk vectors are replaced by derived ones (the dense side is
rebuilt over them; chunks, BM25 and sentences stay), and the same questions, embedded as Newsdesk.open
embeds them, are retrieved dense and hybrid. An article's rank is that of its best chunk; recall@1 is the
share of questions whose first article is a gold one; "paired" counts the questions only one side got.
Writes ``reports/sentence_first.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.ann import build_ann
from index.chunking import ChunkingConfig, chunk_article, embedding_text, title_prefix
from index.embedding import DocumentEmbedder, Embedder, make_embedder, make_query_embedder
from index.loading import load_corpus
from index.search import SearchFilters, SearchOptions, retrieve
from index.sentence_index import article_sentences
from index.sentences import split_sentences
from index.settings import DEFAULT_MODEL, DOCUMENT_BACKENDS
from index.store import StoredIndex
from tests.bench.datasets import REPO_ROOT, data_root

REPORT = REPO_ROOT / "reports" / "sentence_first.json"
BENCHMARKS = ("xquad-en", "squad-long", "news-long")
# Variant name -> weight of the title's tokens (the cheap fix tried: the chunk pass lets every token see the
# title, a sentence pass does not; weighting the title up was worse at 2x, 3x and 5x).
VARIANTS = {"sentence-first": 1.0, "sentence-first, title x2": 2.0}


@dataclass(frozen=True)
class Question:
    text: str
    gold: frozenset[str]
    filters: SearchFilters | None = None


@dataclass
class Units:
    """The texts of one sentence pass, and for each chunk which of them make it up."""

    texts: list[str]
    titles: list[int | None]  # per chunk: its title prefix's position in ``texts`` (None: no title)
    members: list[list[int]]  # per chunk: its sentences' (or sentence pieces') positions in ``texts``


def chunk_units(stored: StoredIndex, count_tokens: Callable[[list[str]], list[int]]) -> Units:
    """Each chunk's title prefix and the pieces of ``split_sentences`` inside it, each text once per article
    (chunks overlap by whole sentences, so an overlapped sentence is one unit of two chunks)."""
    units = Units([], [], [])
    positions: dict[tuple[str, int, int], int] = {}

    def unit(key: tuple[str, int, int], text: str) -> int:
        if key not in positions:
            positions[key] = len(units.texts)
            units.texts.append(text)
        return positions[key]

    sentences: dict[str, tuple[list[Any], str]] = {}
    for chunk in stored.chunks:
        article = stored.articles[chunk.article_id]
        if article.id not in sentences:
            sentences[article.id] = (split_sentences(article.text), title_prefix(article.title, count_tokens))
        spans, prefix = sentences[article.id]
        units.titles.append(unit((article.id, -1, -1), prefix) if prefix else None)
        pieces = [(max(s.start, chunk.start), min(s.end, chunk.end)) for s in spans]
        units.members.append([unit((article.id, b, e), article.text[b:e]) for b, e in pieces if b < e])
    return units


def unit_token_sums(documents: DocumentEmbedder, texts: list[str], batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each text's content-token embedding sum and token count, from one pass of ``documents``."""
    passages = documents.encode_passages(texts, [[(0, len(t))] for t in texts], batch_size)
    return np.concatenate(passages.span_sums), np.concatenate(passages.span_tokens)


def derive_chunk_vectors(units: Units, sums: np.ndarray, title_weight: float = 1.0) -> np.ndarray:
    """Per chunk: the mean of its units' tokens (the title's counted ``title_weight`` times), normalised; the
    mean of tokens, normalised, is their normalised sum."""
    out = np.zeros((len(units.members), sums.shape[1]), dtype=np.float32)
    for row, (title, members) in enumerate(zip(units.titles, units.members, strict=True)):
        out[row] = sums[members].sum(axis=0) + (title_weight * sums[title] if title is not None else 0.0)
    return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)


def with_chunk_vectors(stored: StoredIndex, vectors: np.ndarray) -> None:
    """Search ``stored`` over ``vectors`` from now on (exact search, as the benchmark indexes are flat)."""
    stored.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    stored.ann = build_ann(stored.vectors, "flat")
    stored.dense = None


def first_hits(stored: StoredIndex, questions: Sequence[Question], vectors: np.ndarray, retriever: str) -> list[bool]:
    """Per question: is its first retrieved article a gold one."""
    out = []
    for question, vector in zip(questions, vectors, strict=True):
        hits = retrieve(stored, question.text, vector, 10, question.filters, SearchOptions(retriever=retriever))
        out.append(bool(hits) and hits[0].chunk.article_id in question.gold)
    return out


def compare(
    name: str, stored: StoredIndex, documents: DocumentEmbedder, queries: Embedder, questions: list[Question]
) -> dict[str, Any]:
    started = time.perf_counter()
    units = chunk_units(stored, documents.count_tokens)
    sums, counts = unit_token_sums(documents, units.texts, 32)
    encoded = stored.vectors.copy()
    kinds = {"encoded": encoded} | {v: derive_chunk_vectors(units, sums, w) for v, w in VARIANTS.items()}
    vectors = queries.encode([q.text for q in questions], batch_size=64)
    result: dict[str, Any] = {
        "articles": len(stored.articles), "chunks": len(stored.chunks), "questions": len(questions),
        "units": len(units.texts), "unit_tokens": int(counts.sum()), "pass_s": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    baseline: dict[str, list[bool]] = {}
    for kind, chunk_vectors in kinds.items():
        with_chunk_vectors(stored, chunk_vectors)
        row: dict[str, Any] = {"cosine_to_encoded_mean": round(float((chunk_vectors * encoded).sum(1).mean()), 4)}
        for retriever in ("dense", "hybrid"):
            hits = first_hits(stored, questions, vectors, retriever)
            baseline.setdefault(retriever, hits)
            row[f"{retriever} recall@1"] = round(statistics.fmean(hits), 4)
            gained = sum(h and not b for h, b in zip(hits, baseline[retriever], strict=True))
            lost = sum(b and not h for h, b in zip(hits, baseline[retriever], strict=True))
            row[f"{retriever} paired (only this / only encoded)"] = [gained, lost]
        result[kind] = row
        print(f"[{name}] {kind}: {row}", file=sys.stderr)
    with_chunk_vectors(stored, encoded)
    return result


def benchmark(name: str, documents: DocumentEmbedder, backend: str) -> dict[str, Any]:
    queries = make_query_embedder(DEFAULT_MODEL, "auto", documents=documents)
    if name == "xquad-en":
        from tests.bench.datasets import load_xquad
        from tests.bench.quality import desk_for as xquad_desk

        collection = load_xquad(data_root())
        overrides = {"document_backend": backend, "sentence_vectors": "encoded"}
        stored = xquad_desk(collection, documents, f"-{backend}-encoded", overrides, queries).stored
        questions = [Question(q.question, q.relevant) for q in collection.queries]
    else:
        from tests.bench.answer_bench import Case
        from tests.bench.answer_bench import desk_for as dev_desk
        from tests.bench.bench_index import IndexVariant
        from tests.bench.devsets import load_news_long, load_squad_long

        devset = {"squad-long": load_squad_long, "news-long": load_news_long}[name]()
        stored = dev_desk(devset, IndexVariant(backend, documents, "encoded")).stored
        answerable = [q for q in devset.split("test") if q.answerable]
        questions = [Question(q.question, q.gold, Case(q).filters()) for q in answerable]
    return compare(name, stored, documents, queries, questions)


def encoder_time(documents: DocumentEmbedder, stories: int, rounds: int = 2) -> dict[str, Any]:
    """Seconds to encode the chunk texts, the sentences and the sentence-first units of the first ``stories``
    Reuters stories, in turns, best of ``rounds``."""
    import tempfile
    from pathlib import Path

    from tests.bench.reuters import load_stories, write_corpus

    with tempfile.TemporaryDirectory() as folder:
        articles = load_corpus(write_corpus(load_stories(data_root())[:stories], Path(folder))).articles
    config = ChunkingConfig(200, 40, documents.max_tokens)
    texts: dict[str, list[str]] = {"chunks": [], "sentences": [], "units": []}
    for article in articles:
        prefix = title_prefix(article.title, documents.count_tokens)
        chunks = chunk_article(article, config, documents.count_tokens)
        texts["chunks"] += [embedding_text(prefix, c.text) for c in chunks]
        texts["sentences"] += [article.text[s.start : s.end] for s in article_sentences(article)]
        pieces = {(max(s.start, c.start), min(s.end, c.end)) for c in chunks for s in split_sentences(article.text)}
        texts["units"] += [prefix] if prefix else []
        texts["units"] += [article.text[b:e] for b, e in sorted(pieces) if b < e]
    documents.encode(texts["chunks"][:64])  # first-use costs (compilation) are not the encoder's speed
    seconds: dict[str, list[float]] = {kind: [] for kind in texts}
    for _ in range(rounds):
        for kind, batch in texts.items():
            started = time.perf_counter()
            documents.encode(batch)
            seconds[kind].append(time.perf_counter() - started)
    return {
        "articles": len(articles),
        "encoder": documents.describe(),
        **{kind: {"texts": len(batch), "tokens": sum(documents.count_tokens(batch)) + 2 * len(batch),
                  "best_s": round(min(seconds[kind]), 2), "all_s": [round(s, 2) for s in seconds[kind]]}
           for kind, batch in texts.items()},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--benchmarks", nargs="*", default=list(BENCHMARKS), choices=BENCHMARKS)
    parser.add_argument("--document-backend", default="auto", choices=DOCUMENT_BACKENDS)
    parser.add_argument("--reuters", type=int, default=0, help="also time the encoder on the first N Reuters stories")
    args = parser.parse_args(argv)
    documents = make_embedder(DEFAULT_MODEL, args.document_backend)
    report: dict[str, Any] = {"encoder": documents.describe()}
    report |= {name: benchmark(name, documents, args.document_backend) for name in args.benchmarks}
    if args.reuters:
        report["reuters_encoder_time"] = encoder_time(documents, args.reuters)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
