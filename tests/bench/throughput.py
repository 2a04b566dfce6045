"""Indexing throughput: the whole pipeline against a bare ``model.encode`` of the same chunks.

The pipeline is ``open_index(rebuild=True)`` on the Reuters corpus: loading and cleaning the JSONL,
chunking (token counting), embedding, BM25, FAISS, checksums and the atomic write. The bare run is
sentence-transformers' own ``encode`` over exactly the texts the pipeline embedded (title prefix and
chunk, then every sentence: answer extraction reads stored sentence vectors), same batch size, same
process, model already warm for both. The ratio is our overhead; ``sentence_encode_seconds`` is the
part of the bare time spent on sentences, the price of answering without a model call per sentence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from index.builder import open_index
from index.chunking import embedding_text, title_prefix
from index.embedding import SentenceTransformerEmbedder
from index.settings import Settings, load_settings
from index.store import StoredIndex


@dataclass(frozen=True)
class Throughput:
    chunks: int
    articles: int
    pipeline_seconds: float
    encode_seconds: float  # bare encode of everything the pipeline embedded (chunks and sentences)
    sentences: int = 0
    sentence_encode_seconds: float = 0.0  # the sentences' share of encode_seconds

    @property
    def pipeline_chunks_per_s(self) -> float:
        return self.chunks / self.pipeline_seconds

    @property
    def encode_chunks_per_s(self) -> float:
        return self.chunks / self.encode_seconds

    def to_json(self) -> dict[str, float]:
        return {
            "chunks": self.chunks,
            "articles": self.articles,
            "pipeline_seconds": round(self.pipeline_seconds, 2),
            "encode_seconds": round(self.encode_seconds, 2),
            "pipeline_chunks_per_s": round(self.pipeline_chunks_per_s, 1),
            "encode_chunks_per_s": round(self.encode_chunks_per_s, 1),
            "ratio": round(self.pipeline_chunks_per_s / self.encode_chunks_per_s, 3),
            "sentences": self.sentences,
            "sentence_encode_seconds": round(self.sentence_encode_seconds, 2),
        }


def bench_settings(corpus_dir: Path, index_dir: Path) -> Settings:
    return load_settings({"corpus_dir": corpus_dir, "index_dir": index_dir, "show_progress": False}, env={})


def measure_throughput(settings: Settings, embedder: SentenceTransformerEmbedder) -> tuple[Throughput, StoredIndex]:
    """Rebuild the index of ``settings`` from scratch, then encode the same texts bare."""
    embedder.encode(["warm up the model before either clock starts"])
    started = time.perf_counter()
    stored, report = open_index(settings, embedder, rebuild=True)
    pipeline = time.perf_counter() - started
    prefixes = {a.id: title_prefix(a.title, embedder.count_tokens) for a in stored.articles.values()}
    texts = [embedding_text(prefixes[c.article_id], c.text) for c in stored.chunks]
    sentences = stored.sentences
    assert sentences is not None
    sentence_texts = [
        stored.articles[sentences.article_ids[int(owner)]].text[int(start) : int(end)]
        for owner, start, end in zip(sentences.owners, sentences.starts, sentences.ends, strict=True)
    ]
    timings = []
    for batch in (texts, sentence_texts):
        started = time.perf_counter()
        embedder.model.encode(batch, batch_size=settings.batch_size, normalize_embeddings=True, convert_to_numpy=True)
        timings.append(time.perf_counter() - started)
    result = Throughput(len(stored.chunks), report.articles, pipeline, sum(timings), len(sentence_texts), timings[1])
    return result, stored
