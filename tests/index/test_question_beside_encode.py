"""The question read while it is embedded (issue 14): OpenVINO runs the inference on its own thread, and
``Newsdesk.ask`` analyses the question, scores BM25 and tokenises likely candidates meanwhile. The vector,
the hits and the answers must be those of the plain, one-after-the-other path; an error on either side
reaches the caller and leaves the encoder usable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import index.newsdesk
from index.embedding import OpenVinoEmbedder, SentenceTransformerEmbedder, start_encoding
from index.newsdesk import Newsdesk
from index.token_encoder import PendingVector
from tests.conftest import on_threads
from tests.index.test_embedding import MODEL, TEXTS, needs_openvino

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def questions_encoder() -> OpenVinoEmbedder:
    from index.embedding import onnx_export_path

    onnx_file = onnx_export_path(MODEL)
    assert onnx_file is not None
    return OpenVinoEmbedder(SentenceTransformerEmbedder(MODEL), onnx_file, threads=1, questions=True)


class EncodeOnly:
    """The same encoder without ``start_encode``: Newsdesk embeds first and reads the question after."""

    def __init__(self, encoder: OpenVinoEmbedder) -> None:
        self.encoder = encoder

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        return self.encoder.encode(texts, batch_size, show_progress)


def seed_questions() -> list[str]:
    entries = yaml.safe_load((ROOT / "tests" / "questions" / "seed.yaml").read_text())
    return [entry["question"] for entry in entries]


@needs_openvino
def test_a_started_encode_gives_the_vector_of_encode_bit_for_bit(questions_encoder: OpenVinoEmbedder) -> None:
    long_text = " ".join(TEXTS * 40)  # truncated at the model's length limit
    for text in [*TEXTS, long_text, "Où est la Commission européenne ?"]:
        pending = questions_encoder.start_encode(text)
        assert pending.apart
        # An encode on the same thread meanwhile (a word's vector) takes its own request, not this one.
        other = questions_encoder.encode(["Who leads NATO?"])[0]
        vector = pending.result()
        assert pending.done()
        assert vector.tobytes() == questions_encoder.encode([text])[0].tobytes()
        assert pending.result() is vector
        assert other.tobytes() == questions_encoder.encode(["Who leads NATO?"])[0].tobytes()


@needs_openvino
def test_started_encodes_on_several_threads_at_once(questions_encoder: OpenVinoEmbedder) -> None:
    expected = {text: questions_encoder.encode([text])[0].tobytes() for text in TEXTS}
    wrong: list[str] = []

    def ask(worker: int) -> None:
        for n in range(30):
            text = TEXTS[(worker + n) % len(TEXTS)]
            if start_encoding(questions_encoder, text).result().tobytes() != expected[text]:
                wrong.append(text)

    errors = on_threads(ask, 4)
    assert not errors and not wrong


def test_an_encoder_without_start_encode_is_encoded_at_once(fake_embedder: Any) -> None:
    pending = start_encoding(fake_embedder, "Who leads NATO?")
    assert not pending.apart and pending.done()
    np.testing.assert_array_equal(pending.result(), fake_embedder.encode(["Who leads NATO?"])[0])


def test_the_runtimes_error_is_raised_in_the_caller_and_cancel_swallows_it() -> None:
    waited: list[int] = []

    def failed() -> np.ndarray:
        waited.append(1)
        raise RuntimeError("inference failed")

    pending = PendingVector.running(failed, lambda: True, np.ones((1, 3), dtype=np.int64))
    assert pending.apart and pending.done()
    with pytest.raises(RuntimeError, match="inference failed"):
        pending.result()
    pending.cancel()  # waits for the runtime again; the caller's own error is the one to report: this one is dropped
    assert len(waited) == 2


@needs_openvino
def test_answers_are_the_same_read_beside_the_encode_or_after_it(
    seed_desk: Any, questions_encoder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read ahead whatever else runs on the machine (the check of spare cores would skip it on a busy one), and
    # count what was read ahead: the comparison below must include answers whose candidates were read early.
    monkeypatch.setattr(index.newsdesk, "_cores_busy", lambda: False)
    read: list[int] = []
    real_read_ahead = index.newsdesk.read_ahead

    def counting_read_ahead(*args: Any) -> int:
        read.append(real_read_ahead(*args))
        return read[-1]

    monkeypatch.setattr(index.newsdesk, "read_ahead", counting_read_ahead)
    beside = Newsdesk(seed_desk.settings, questions_encoder, seed_desk.stored, seed_desk.build_report)
    after = Newsdesk(seed_desk.settings, EncodeOnly(questions_encoder), seed_desk.stored, seed_desk.build_report)  # type: ignore[arg-type]
    for question in seed_questions():
        one, two = beside.ask(question), after.ask(question)
        assert "beside_encode" in (one.timings_ms or {}) and "beside_encode" not in (two.timings_ms or {})
        assert {**one.to_json(), "timings_ms": None} == {**two.to_json(), "timings_ms": None}, question
    for question in seed_questions()[:10]:
        assert beside.search(question) == after.search(question)
    assert (
        beside.ask("Who leads NATO?", retriever="bm25").to_json()["citations"]
        == (after.ask("Who leads NATO?", retriever="bm25").to_json()["citations"])
    )
    assert sum(read) > 0, "no chunk was read ahead: the test compared nothing the overlap changes"


@needs_openvino
def test_an_error_while_the_question_is_read_reaches_the_caller_and_frees_the_encoder(
    seed_desk: Any, questions_encoder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = Newsdesk(seed_desk.settings, questions_encoder, seed_desk.stored, seed_desk.build_report)
    expected = desk.ask("How many German troops will be deployed?").to_json()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("question analysis failed")

    with monkeypatch.context() as patch:
        patch.setattr(index.newsdesk, "analyse_question", broken)
        for _ in range(3):  # each time while the inference is still running: it must be waited for
            with pytest.raises(RuntimeError, match="question analysis failed"):
                desk.ask("How many German troops will be deployed?")
    answer = desk.ask("How many German troops will be deployed?").to_json()
    assert {**answer, "timings_ms": None} == {**expected, "timings_ms": None}


def test_reading_ahead_tokenises_what_the_candidates_of_those_chunks_need(news_desk: Any) -> None:
    """The texts read ahead for some chunks are the very texts the candidates stage tokenises when those chunks
    are the hits: it then meets every one of them in the term-set cache."""
    from index import lexical
    from index.candidates import candidate_sentences, read_ahead
    from index.query_analysis import analyse_question
    from index.records import Hit

    stored = news_desk.stored
    asked = ["How many passengers did the Northvale ferry company carry in 2019?", "What is the bridge's cost?"]
    for question in asked:
        analysis = analyse_question(question, stored.lexical)
        positions = list(range(min(4, len(stored.chunks))))
        assert read_ahead(analysis, positions, stored, lambda: True) == 0  # nothing when told to stop at once
        lexical._term_set.cache_clear()
        assert read_ahead(analysis, positions, stored, lambda: False) == len(positions)
        before = lexical._term_set.cache_info()
        hits = [Hit(stored.chunks[p], 1.0 - p / 10, p) for p in positions]
        assert candidate_sentences(analysis, hits, stored).sentences
        after = lexical._term_set.cache_info()
        assert after.misses == before.misses and after.hits > before.hits, question


def test_work_beside_the_encode_gives_its_result_and_on_failure_waits_for_the_runtime_first() -> None:
    waited: list[int] = []

    def finished() -> np.ndarray:
        waited.append(1)
        return np.ones((1, 1, 2), dtype=np.float32)

    pending = PendingVector.running(finished, lambda: False, np.ones((1, 1), dtype=np.int64))
    done, vector = pending.after(lambda: "read")
    assert done == "read" and np.allclose(vector, [2**-0.5, 2**-0.5]) and len(waited) == 1

    def failing() -> str:
        raise ValueError("reading failed")

    pending = PendingVector.running(finished, lambda: False, np.ones((1, 1), dtype=np.int64))
    with pytest.raises(ValueError, match="reading failed"):
        pending.after(failing)
    assert len(waited) == 2  # the runtime was waited for before the error went on
