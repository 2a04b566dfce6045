"""Indexing throughput: the whole pipeline against a bare encode of its chunk texts alone.

The pipeline is ``open_index(rebuild=True)`` on the Reuters corpus: loading and cleaning the JSONL,
chunking (token counting), embedding chunks and sentences, the corpus's words (by the question encoder,
as ``Newsdesk.open`` does: :class:`index.word_vectors.StoredWords`), BM25, FAISS, checksums and the
atomic write. The bare run is the same encoder's ``encode`` over exactly the chunk texts the pipeline
embedded (title prefix and chunk), same batch size, same process, encoder warm for both: the ratio
``pipeline_s / bare_chunk_encode_s`` is everything the pipeline adds, sentence vectors included.

Also measured in the same run: every installed document runtime on the same sample of chunk texts
(texts/s, and the lowest cosine to the fp32 sentence-transformers vectors), and, given a checkout of
an older commit (``--old-tree``), that commit's pipeline on the same corpus in a child process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.builder import open_index
from index.chunking import embedding_text, title_prefix
from index.embedding import DocumentEmbedder, SentenceTransformerEmbedder, make_embedder, make_query_embedder
from index.settings import DEFAULT_MODEL, Settings, load_settings
from index.store import StoredIndex
from tests.bench.machine import load_average

# Chunk texts per runtime in the encoder comparison (the whole corpus would take each runtime minutes).
ENCODER_SAMPLE = 480
# The runtimes compared (those installed), the reference first; each is timed this many times, in turns.
ENCODER_BACKENDS = ("sentence-transformers", "openvino", "openvino-fp32", "onnxruntime")
ENCODER_ROUNDS = 2
# The child process that times an older commit's pipeline: its own ``index`` package, the same venv.
OLD_PIPELINE = """
import json, sys, time
from pathlib import Path
import index
from index.builder import open_index
from index.embedding import make_embedder
from index.settings import load_settings
values = {"corpus_dir": Path(sys.argv[1]), "index_dir": Path(sys.argv[2]), "show_progress": False}
settings = load_settings(values, env={})
embedder = make_embedder(settings.model)
embedder.encode(["warm up the model before the clock starts"])
started, cpu = time.perf_counter(), time.process_time()
stored, report = open_index(settings, embedder, rebuild=True)
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
sentences = len(stored.sentences) if getattr(stored, "sentences", None) is not None else 0
print(json.dumps({"pipeline_s": seconds, "pipeline_cpu_s": round(cpu, 2), "articles": report.articles,
                  "chunks": len(stored.chunks), "sentences": sentences, "package": index.__file__}))
"""


@dataclass
class Throughput:
    articles: int
    chunks: int
    sentences: int
    pipeline_s: float
    bare_chunk_encode_s: float  # the pipeline's encoder over its chunk texts alone
    encoder: dict[str, str]
    load_at_start: float
    words: int = 0  # single words embedded for the answer stage (index.word_vectors.StoredWords), in pipeline_s
    # CPU seconds of the pipeline, every thread of the process: less sensitive to other work on the machine than
    # wall time (not immune: threads that spin while waiting for a core count too).
    pipeline_cpu_s: float = 0.0
    encoders: dict[str, dict[str, Any]] = field(default_factory=dict)
    vectors: dict[str, str] = field(default_factory=dict)  # the index's sentence_vectors and chunk_vectors
    old_pipeline: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out |= {
            "pipeline_s": round(self.pipeline_s, 2),
            "bare_chunk_encode_s": round(self.bare_chunk_encode_s, 2),
            "articles_per_s": round(self.articles / self.pipeline_s, 2),
            "texts_per_s": round(self.chunks / self.pipeline_s, 1),
            "bare_chunk_texts_per_s": round(self.chunks / self.bare_chunk_encode_s, 1),
            "pipeline_over_bare_chunk_encode": round(self.pipeline_s / self.bare_chunk_encode_s, 3),
        }
        old = out["old_pipeline"]
        if old.get("pipeline_s"):
            old["articles_per_s"] = round(old["articles"] / old["pipeline_s"], 2)
            out["speedup_vs_old"] = round(out["articles_per_s"] / old["articles_per_s"], 2)
        if old.get("pipeline_cpu_s") and self.pipeline_cpu_s:
            # Articles per CPU-second, ours over the old pipeline's: the speed-up when the loads differ.
            mine = self.articles / self.pipeline_cpu_s
            out["cpu_speedup_vs_old"] = round(mine / (old["articles"] / old["pipeline_cpu_s"]), 2)
        return out


def bench_settings(corpus_dir: Path, index_dir: Path, **vectors: str) -> Settings:
    """The product's default settings (what a user's index is built and asked with), with ``vectors``
    (``sentence_vectors``, ``chunk_vectors``) instead where given (``run_bench --sentence-vectors/--chunk-vectors``):
    the bench measures the defaults unless told otherwise, so its numbers are the ones a user gets."""
    values = {"corpus_dir": corpus_dir, "index_dir": index_dir, "show_progress": False} | vectors
    return load_settings(values, env={})


def chunk_texts(stored: StoredIndex, embedder: DocumentEmbedder) -> list[str]:
    prefixes = {a.id: title_prefix(a.title, embedder.count_tokens) for a in stored.articles.values()}
    return [embedding_text(prefixes[c.article_id], c.text) for c in stored.chunks]


def measure_throughput(
    settings: Settings, embedder: DocumentEmbedder, old_tree: Path | None = None
) -> tuple[Throughput, StoredIndex]:
    """Rebuild the index of ``settings`` from scratch, then encode its chunk texts bare."""
    old = measure_old_pipeline(old_tree, settings) if old_tree else {}
    load = load_average()
    # As Newsdesk.open builds: the question encoder embeds the corpus's words too (StoredWords).
    queries = make_query_embedder(settings.model, settings.query_backend, documents=embedder)
    embedder.encode(["warm up the encoder before either clock starts"])
    queries.encode(["warm up the question encoder too"])
    started, cpu = time.perf_counter(), time.process_time()
    stored, report = open_index(settings, embedder, rebuild=True, words=queries)
    pipeline, cpu = time.perf_counter() - started, time.process_time() - cpu
    texts = chunk_texts(stored, embedder)
    started = time.perf_counter()
    embedder.encode(texts, settings.batch_size)
    bare = time.perf_counter() - started
    sentences = len(stored.sentences) if stored.sentences is not None else 0
    result = Throughput(report.articles, len(texts), sentences, pipeline, bare, embedder.describe(), load)
    result.words = report.embedded_words
    result.pipeline_cpu_s = round(cpu, 2)
    made = stored.manifest
    result.vectors = {"sentence_vectors": made.sentence_vectors, "chunk_vectors": made.chunk_vectors}
    result.old_pipeline = old
    result.encoders = compare_encoders(encoder_sample(texts), settings)
    return result, stored


def encoder_sample(texts: list[str]) -> list[str]:
    """``ENCODER_SAMPLE`` chunk texts spread evenly over the corpus."""
    return texts[:: max(1, len(texts) // ENCODER_SAMPLE)][:ENCODER_SAMPLE]


def compare_encoders(texts: list[str], settings: Settings, rounds: int = ENCODER_ROUNDS) -> dict[str, dict[str, Any]]:
    """Each installed runtime over the same chunk texts: speed (best of ``rounds``, the runtimes taking
    turns so that a change of load hits them alike), and fidelity to fp32 PyTorch. "openvino-fp32"
    converts the weights into a fresh cache folder first: ``conversion_s`` is that one-off cost (PyTorch
    already loaded), ``cache_bytes`` what it keeps on disk."""
    encoders: dict[str, DocumentEmbedder] = {}
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="encoder-cache-") as cache:
        for backend in ENCODER_BACKENDS:
            runtime = "openvino" if backend.startswith("openvino") else backend
            if backend != "sentence-transformers" and importlib.util.find_spec(runtime) is None:
                continue
            encoder = make_embedder(DEFAULT_MODEL, backend, Path(cache))
            started = time.perf_counter()
            encoder.encode(texts[:4])  # load (and convert) and compile before the clock starts
            first_call = round(time.perf_counter() - started, 2)
            out[backend] = encoder.describe() | {"texts": len(texts), "first_call_s": first_call}
            conversion = getattr(encoder, "conversion", None)
            if conversion is not None:
                out[backend] |= {"conversion_s": round(conversion.seconds, 2), "cache_bytes": conversion.bytes}
            encoders[backend] = encoder
        vectors: dict[str, np.ndarray] = {}
        for _ in range(rounds):
            for backend, encoder in encoders.items():
                started = time.perf_counter()
                vectors[backend] = _encode_as_a_user_would(encoder, texts, settings.batch_size)
                out[backend].setdefault("rounds_s", []).append(round(time.perf_counter() - started, 2))
    reference = vectors["sentence-transformers"]
    for backend, result in out.items():
        cosines = (vectors[backend] * reference).sum(axis=1)
        seconds = min(result["rounds_s"])
        result |= {
            "seconds": seconds,
            "texts_per_s": round(len(texts) / seconds, 1),
            "min_cosine_to_fp32": round(float(cosines.min()), 5),
            "mean_cosine_to_fp32": round(float(cosines.mean()), 5),
        }
    return out


def _encode_as_a_user_would(encoder: DocumentEmbedder, texts: list[str], batch_size: int) -> np.ndarray:
    if isinstance(encoder, SentenceTransformerEmbedder):
        # sentence-transformers' own encode (its length sorting and pooling), as a user would call it.
        return np.asarray(
            encoder.model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
        )
    return encoder.encode(texts, batch_size)


def measure_old_pipeline(old_tree: Path, settings: Settings) -> dict[str, Any]:
    """The pipeline of the commit checked out at ``old_tree`` (a ``git worktree``), same corpus, same venv."""
    commit = subprocess.run(
        ["git", "-C", str(old_tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    index_dir = settings.resolved_index_dir().with_name(settings.resolved_index_dir().name + "-old")
    env = os.environ | {"PYTHONPATH": str(old_tree), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    load = load_average()
    child = subprocess.run(
        [sys.executable, "-c", OLD_PIPELINE, str(settings.corpus_dir), str(index_dir)],
        cwd=old_tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=7200,
    )
    if child.returncode != 0:
        return {"commit": commit, "error": child.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    if not str(result.pop("package", "")).startswith(str(old_tree.resolve())):
        return {"commit": commit, "error": "the child did not import the old tree's index package"}
    return {"commit": commit, "load_at_start": load} | result


def main() -> None:
    """The encoder comparison alone, over the chunk texts of the Reuters index the last bench run built:
    ``python -m tests.bench.throughput`` (prints the JSON of ``index_throughput.encoders``)."""
    from index.store import read_index
    from tests.bench.machine import WORK_DIR

    index_dir = WORK_DIR / "reuters-index"
    stored = read_index(index_dir)
    if stored is None:
        raise SystemExit(f"no Reuters index in {index_dir}: run python -m tests.bench.run_bench --only throughput")
    settings = bench_settings(WORK_DIR / "reuters-corpus", index_dir)
    texts = encoder_sample(chunk_texts(stored, make_embedder(DEFAULT_MODEL)))
    load = load_average()
    started = time.perf_counter()
    encoders = compare_encoders(texts, settings)
    report = {"load_at_start": load, "load_at_end": load_average(), "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(report | {"encoders": encoders}, indent=1))


if __name__ == "__main__":
    main()
