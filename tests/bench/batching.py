"""Probe: how big a batch the encoder wants, for the short rows of an index build (issue 14).

The default build runs the encoder twice: over each chunk text and over each sentence (~33 tokens a row
against ~130 for a chunk text), both in batches of ``Settings.batch_size`` rows, sorted by length. This
times the sentence pass (and the chunk pass, and the corpus's words) of the first N stories of a JSONL
corpus in other batches: ``ROWSxTOKENS`` = at least ROWS rows a batch, more while rows x padded length stays
within TOKENS (0: ROWS rows, today's rule), the variants taking turns, ``--rounds`` times. The texts and their
grouping are the builder's (``index.builder._embed``: articles in groups of about ``batch_size`` x 16 chunks,
one encoder call per group and pass; the words in one call of ``WORD_BATCH`` rows). Each batch is one
``encode`` call of exactly its texts, so every variant, today's included, goes through the same code.

Vectors of each variant are compared with the first variant's (largest absolute component difference,
lowest cosine, rows changed), beside the same figures for today's rule over another grouping (every sentence
in one call): how much a row's vector already moves with its batch neighbours (bf16 compute).

``python -m tests.bench.batching CORPUS_DIR --stories 1000 --variants 32x0 16x0 64x0 32x4096 --words``
(``--busy``: beside a busy loop on one core, as when another engineer's job shares the machine.)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.chunking import ChunkingConfig, chunk_articles, embedding_text
from index.embedding import DocumentEmbedder, make_embedder
from index.loading import load_corpus
from index.progress import Progress
from index.sentence_index import article_sentences
from index.settings import DEFAULT_MODEL, Settings
from index.token_encoder import TokenEncoder
from index.word_vectors import WORD_BATCH, article_words


def token_batches(lengths: Sequence[int], rows: int, tokens: int = 0) -> Iterator[list[int]]:
    """Positions of texts of ``lengths`` tokens in batches: sorted by length (as index.token_encoder sorts),
    ``rows`` a batch, or, where they are short, as many more as keep rows x the batch's longest length within
    ``tokens``. With ``tokens`` 0 these are exactly the encoder's own batches of ``rows``."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    begin = 0
    while begin < len(order):
        end = min(begin + rows, len(order))
        while end < len(order) and (end + 1 - begin) * lengths[order[end]] <= tokens:
            end += 1
        yield order[begin:end]
        begin = end


@dataclass
class Texts:
    articles: int
    groups: list[dict[str, list[str]]]  # per builder group: "chunks" and "sentences"
    words: list[str]


@dataclass
class Timings:
    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, wall: float, cpu: float) -> None:
        self.wall.setdefault(name, []).append(round(wall, 2))
        self.cpu.setdefault(name, []).append(round(cpu, 2))


def builder_texts(corpus: Path, stories: int, embedder: DocumentEmbedder, settings: Settings) -> Texts:
    """The chunk texts and sentences the builder embeds for the first ``stories`` stories, group by group."""
    with tempfile.TemporaryDirectory() as tmp:
        source = next(corpus.glob("*.jsonl"))
        lines = source.read_text(encoding="utf-8").splitlines()[:stories]
        (Path(tmp) / source.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        articles = load_corpus(Path(tmp), Progress(bars=False, log_every_s=0)).articles
    config = ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap_tokens, embedder.max_tokens)
    step = settings.batch_size * 16  # index.builder._embed: about 16 batches of chunks a group
    groups: list[dict[str, list[str]]] = [{"chunks": [], "sentences": []}]
    for article, piece in zip(articles, chunk_articles(iter(articles), config, embedder.count_tokens), strict=True):
        group = groups[-1]
        group["chunks"] += [embedding_text(piece.prefix, c.text) for c in piece.chunks]
        group["sentences"] += [article.text[s.start : s.end] for s in article_sentences(article)]
        if len(group["chunks"]) >= step:
            groups.append({"chunks": [], "sentences": []})
    words = sorted(article_words(t for a in articles for t in (a.title, a.text)))
    return Texts(len(articles), [g for g in groups if g["chunks"]], words)


def encode_in(embedder: TokenEncoder, texts: list[str], rows: int, tokens: int) -> tuple[np.ndarray, float, float]:
    """``texts`` encoded in :func:`token_batches`, one call per batch; vectors in input order, wall and CPU s."""
    started, cpu = time.perf_counter(), time.process_time()
    lengths = [len(e.ids) for e in embedder._offset_tokenizer.encode_batch(texts)]
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for batch in token_batches(lengths, rows, tokens):
        out[batch] = embedder.encode([texts[i] for i in batch], len(batch))
    return out, time.perf_counter() - started, time.process_time() - cpu


def encode_groups(
    embedder: TokenEncoder, groups: list[dict[str, list[str]]], what: str, rows: int, tokens: int
) -> tuple[np.ndarray, float, float]:
    parts, wall, cpu = [], 0.0, 0.0
    for group in groups:
        vectors, w, c = encode_in(embedder, group[what], rows, tokens)
        parts.append(vectors)
        wall, cpu = wall + w, cpu + c
    return np.concatenate(parts), wall, cpu


def difference(a: np.ndarray, b: np.ndarray) -> str:
    cosines = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    changed = int(np.any(a != b, axis=1).sum())
    return (
        f"max abs difference {np.abs(a - b).max():.2e}, lowest cosine {cosines.min():.6f}, "
        f"rows changed {changed} of {len(a)}"
    )


def variant(text: str) -> tuple[int, int]:
    rows, _, tokens = text.partition("x")
    return int(rows), int(tokens or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a folder holding a JSONL corpus (tests/bench/reuters.py writes one)")
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--variants", nargs="+", default=["32x0", "16x0", "64x0", "32x4096"],
                        help="ROWSxTOKENS for the sentence pass (and words); the first is the reference")  # fmt: skip
    parser.add_argument("--chunk-rows", type=int, nargs="*", default=[32], help="rows a batch for the chunk pass")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--words", action="store_true", help="also the corpus's words (at least WORD_BATCH rows)")
    parser.add_argument("--busy", action="store_true", help="run beside a busy loop on one core")
    parser.add_argument("--document-backend", default="auto")
    args = parser.parse_args(argv)
    settings = Settings()
    embedder = make_embedder(DEFAULT_MODEL, args.document_backend)
    assert isinstance(embedder, TokenEncoder)
    texts = builder_texts(args.corpus, args.stories, embedder, settings)
    chunks = [t for g in texts.groups for t in g["chunks"]]
    sentences = [t for g in texts.groups for t in g["sentences"]]
    tokens_of = lambda rows: sum(len(e.ids) for e in embedder._offset_tokenizer.encode_batch(rows))  # noqa: E731
    print(
        f"{texts.articles} articles: {len(chunks)} chunk texts ({tokens_of(chunks)} tokens), {len(sentences)} "
        f"sentences ({tokens_of(sentences)} tokens), {len(texts.words)} words, {len(texts.groups)} groups; "
        f"encoder {embedder.describe()}",
        flush=True,
    )
    embedder.encode(["warm up the encoder"] * 64)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    timings, vectors = Timings(), dict[str, np.ndarray]()
    try:
        for round_ in range(args.rounds):
            for name in args.variants:
                rows, tokens = variant(name)
                v, wall, cpu = encode_groups(embedder, texts.groups, "sentences", rows, tokens)
                timings.add(f"sentences {name}", wall, cpu)
                vectors.setdefault(f"sentences {name}", v)
                if args.words:
                    v, wall, cpu = encode_in(embedder, texts.words, max(rows, WORD_BATCH), tokens)
                    timings.add(f"words {name}", wall, cpu)
                    vectors.setdefault(f"words {name}", v)
            for rows in args.chunk_rows:
                v, wall, cpu = encode_groups(embedder, texts.groups, "chunks", rows, 0)
                timings.add(f"chunks {rows}x0", wall, cpu)
                if f"chunks {rows}" in vectors and not np.array_equal(vectors[f"chunks {rows}"], v):
                    print(f"round {round_ + 1}: chunk vectors in batches of {rows} differ from round 1's")
                vectors.setdefault(f"chunks {rows}", v)
            print(f"round {round_ + 1} done", flush=True)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    for name, walls in timings.wall.items():
        print(f"{name}: wall {walls} s, CPU {timings.cpu[name]} s")
    first = args.variants[0]
    rows, tokens = variant(first)
    whole, _, _ = encode_in(embedder, sentences, rows, tokens)
    print(f"sentences {first}, one call against the builder's groups (today's noise): "
          f"{difference(vectors[f'sentences {first}'], whole)}")  # fmt: skip
    for name in args.variants[1:]:
        for what in ("sentences", "words"):
            if f"{what} {name}" in vectors:
                change = difference(vectors[f"{what} {first}"], vectors[f"{what} {name}"])
                print(f"{what} {name} against {first}: {change}")
    for rows in args.chunk_rows[1:]:
        print(f"chunks {rows}x0 against {args.chunk_rows[0]}x0: "
              f"{difference(vectors[f'chunks {args.chunk_rows[0]}'], vectors[f'chunks {rows}'])}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
