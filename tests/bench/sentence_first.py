"""Sentence-first chunk vectors' retrieval, without rebuilding an index (issue 14; docs/QUALITY.md).

    python -m tests.bench.sentence_first                 # xquad-en, squad-long and news-long (test split)
    python -m tests.bench.sentence_first --reuters 500   # also the encoder's time on 500 Reuters stories

The product builds them with ``chunk_vectors = "from-sentences"`` (index.chunk_vectors, whose derivation
this script calls); this swaps them into cached indexes of encoded chunks, for retrieval alone.
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
from index.chunk_vectors import ArticleUnits, article_units, pooled_chunk_vectors
from index.chunking import ChunkingConfig, chunk_article, embedding_text, title_prefix
from index.embedding import DocumentEmbedder, Embedder, make_embedder, make_query_embedder
from index.loading import load_corpus
from index.search import SearchFilters, SearchOptions, retrieve
from index.sentence_index import article_sentences
from index.settings import DEFAULT_MODEL, DOCUMENT_BACKENDS
from index.store import StoredIndex
from tests.bench.datasets import REPO_ROOT, data_root

REPORT = REPO_ROOT / "reports" / "sentence_first.json"
BENCHMARKS = ("xquad-en", "squad-long", "news-long")
# The cheap fix tried for the lost context (the chunk pass lets every token see the title, a sentence pass does
# not), weighting the title's tokens 2x, 3x or 5x, was worse at each and is no longer measured here.


@dataclass(frozen=True)
class Question:
    text: str
    gold: frozenset[str]
    filters: SearchFilters | None = None


@dataclass
class Units:
    """The texts of one sentence pass over a stored index, and for each chunk which of them make it up."""

    texts: list[str]
    titles: list[int | None]  # per chunk: its title prefix's position in ``texts`` (None: no title)
    members: list[list[int]]  # per chunk: its sentences' (or sentence pieces') positions in ``texts``


def chunk_units(stored: StoredIndex, count_tokens: Callable[[list[str]], list[int]]) -> Units:
    """Each chunk's title prefix and sentence pieces, as the product makes them
    (:func:`index.chunk_vectors.article_units`), each text once per article."""
    units = Units([], [], [])
    by_article: dict[str, list[Any]] = {}
    for chunk in stored.chunks:
        by_article.setdefault(chunk.article_id, []).append(chunk)
    for article_id, chunks in by_article.items():
        article = stored.articles[article_id]
        made = article_units(article.text, title_prefix(article.title, count_tokens), chunks, [])
        first = len(units.texts)
        units.texts += made.texts
        units.titles += [None if made.title is None else first + made.title] * len(chunks)
        units.members += [[first + m for m in members] for members in made.members]
    return units


def unit_token_sums(documents: DocumentEmbedder, texts: list[str], batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each text's content-token embedding sum and token count, from one pass of ``documents``."""
    passages = documents.encode_passages(texts, [[(0, len(t))] for t in texts], batch_size)
    return np.concatenate(passages.span_sums), np.concatenate(passages.span_tokens)


def derive_chunk_vectors(units: Units, sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per chunk of the stored index: the product's derivation (:func:`index.chunk_vectors.pooled_chunk_vectors`),
    each chunk's title folded into its members (the titles of several articles are in one ``texts``)."""
    members = [m + ([t] if t is not None else []) for m, t in zip(units.members, units.titles, strict=True)]
    return pooled_chunk_vectors(ArticleUnits(members=members), sums, counts)[0]


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
    kinds = {"encoded": encoded, "from-sentences": derive_chunk_vectors(units, sums, counts)}
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
        texts["units"] += article_units(article.text, prefix, chunks, article_sentences(article)).texts
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
