"""Single-word embeddings: computed once per word, kept, bounded (on the fake embedder); near-synonyms
close (the model)."""

from __future__ import annotations

import numpy as np
import pytest

from index.loading import load_corpus
from index.settings import BUNDLED_CORPUS
from index.word_vectors import StoredWords, WordVectors, article_words
from tests.fake_embedder import HashingEmbedder


def test_each_word_is_embedded_once_and_kept() -> None:
    encoder = HashingEmbedder()
    words = WordVectors(encoder.encode)
    first = words.of(["troops", "soldiers", "troops"])
    assert encoder.encoded == 2  # the repeated word is embedded once
    assert np.array_equal(first[0], first[2])
    again = words.of(["soldiers", "troops"])
    assert encoder.encoded == 2  # nothing new to embed
    assert np.array_equal(again, first[[1, 0]])
    assert np.allclose(first[0], encoder.encode(["troops"])[0], atol=2e-3)  # kept as float16


def test_the_store_is_bounded() -> None:
    encoder = HashingEmbedder()
    words = WordVectors(encoder.encode, capacity=3)
    kept = words.of(["alpha", "beta", "gamma"])
    assert len(words) == 3
    words.of(["delta"])
    assert len(words) == 1  # full: started over
    # A word embedded again (alone this time, not in a batch) gets the same vector, to rounding.
    assert np.allclose(words.of(["alpha"])[0], kept[0], atol=2e-3)
    assert encoder.encoded == 5


def test_stored_words_give_the_same_rows_with_or_without_a_word_to_embed() -> None:
    """The lookup of words all stored (WordVectors.of's usual path) gives the stored rows, embeds nothing, and
    matches what the general path (a word to embed among them) gives for the same words."""
    encoder = HashingEmbedder()
    stored, _ = StoredWords.extend(None, {"troops", "soldiers", "harvest"}, encoder.encode, {"e": "1"})
    words = WordVectors(encoder.encode)
    words.stored = stored
    before = encoder.encoded
    found = words.of(["soldiers", "troops", "soldiers"])
    assert encoder.encoded == before and found.dtype == np.float32
    assert np.array_equal(found, stored.vectors[[stored.rows[w] for w in ("soldiers", "troops", "soldiers")]])
    mixed = words.of(["soldiers", "reporters", "troops", "soldiers"])  # "reporters" is embedded and kept
    assert encoder.encoded == before + 1
    assert np.array_equal(mixed[[0, 2, 3]], found)


def test_near_synonyms_are_close(embedder) -> None:
    # What paraphrase matching relies on (index.word_vectors' docstring): a property of the model.
    vectors = WordVectors(embedder.encode).of(["troops", "soldiers", "harvest"])
    assert float(vectors[0] @ vectors[1]) > 0.8 > float(vectors[0] @ vectors[2])


@pytest.fixture(scope="module")
def questions_encoder():
    """The int8 ONNX export's question encoder (the product's where documents are not embedded by
    openvino-fp32, which then embeds questions too: tests/index/test_embedding.py)."""
    from index.embedding import make_query_embedder
    from index.settings import DEFAULT_MODEL

    return make_query_embedder(DEFAULT_MODEL, "auto")


@pytest.mark.model  # the product's question encoder (ONNX int8)
def test_stored_words_are_the_vectors_a_question_would_embed(questions_encoder) -> None:
    # Exactly, not approximately: the answer model's features must not change (issue 12 trains on them).
    corpus = load_corpus(BUNDLED_CORPUS).articles
    words = sorted(article_words(text for a in corpus for text in (a.title, a.text)))[:240]
    assert "troops" in article_words(["Troops were deployed."]) and "were" not in article_words(["were"])
    stored, embedded = StoredWords.extend(None, set(words), lambda new: questions_encoder.encode(new, 256), {"e": "1"})
    assert embedded == len(words)
    lazy = WordVectors(questions_encoder.encode)
    asked = [lazy.of(words[n : n + 7]) for n in range(0, len(words), 7)]  # a question's worth at a time
    assert np.array_equal(np.concatenate(asked), stored.vectors.astype(np.float32)[[stored.rows[w] for w in words]])


@pytest.mark.model  # the product's question encoder (ONNX int8)
def test_stored_words_are_looked_up_not_embedded(questions_encoder) -> None:
    calls: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return questions_encoder.encode(texts)

    stored, _ = StoredWords.extend(None, {"troops", "soldiers"}, questions_encoder.encode, {"e": "1"})
    words = WordVectors(encode)
    words.stored = stored
    vectors = words.of(["soldiers", "reporters", "troops", "reporters"])
    assert calls == [["reporters"]]  # only the word the store lacks, once
    assert np.array_equal(vectors[[0, 2]], stored.vectors[[stored.rows["soldiers"], stored.rows["troops"]]])
    assert np.array_equal(vectors[1], vectors[3])


@pytest.mark.model  # the product's question encoder (ONNX int8)
def test_an_update_embeds_only_new_words_and_another_encoder_all(questions_encoder) -> None:
    first, _ = StoredWords.extend(None, {"troops", "soldiers"}, questions_encoder.encode, {"e": "1"})
    second, embedded = StoredWords.extend(first, {"troops", "reporters"}, questions_encoder.encode, {"e": "1"})
    assert embedded == 1 and set(second.words) == {"troops", "soldiers", "reporters"}
    assert np.array_equal(second.vectors[second.rows["troops"]], first.vectors[first.rows["troops"]])
    _, embedded = StoredWords.extend(second, {"troops"}, questions_encoder.encode, {"e": "2"})
    assert embedded == 1  # made by another encoder: nothing of it is kept


def test_the_index_stores_its_words_and_questions_use_them(
    embedder, questions_encoder, make_settings, tmp_path
) -> None:
    from index.builder import open_index
    from index.newsdesk import Newsdesk
    from index.store import read_index
    from index.word_vectors import WORDS_NAME

    settings = make_settings(BUNDLED_CORPUS)
    stored, report = open_index(settings, embedder, words=questions_encoder)
    assert stored.words is not None and report.embedded_words == len(stored.words.words) > 100
    assert WORDS_NAME in stored.manifest.files  # checksummed like every file of the generation
    again = read_index(settings.resolved_index_dir())
    assert again is not None and again.words is not None
    assert again.words.words == stored.words.words and np.array_equal(again.words.vectors, stored.words.vectors)
    desk = Newsdesk(settings, questions_encoder, again, report)
    assert desk.words.stored is again.words
    asked: list[int] = []
    encode = desk.words.encode
    desk.words.encode = lambda texts: asked.append(len(texts)) or encode(texts)  # type: ignore[func-returns-value]
    answer = desk.ask("How many troops will be deployed to the country?")
    assert not answer.abstained and asked == []  # every word it compared was stored


class _Documents(HashingEmbedder):
    """A document encoder (all cores) of the same runtime and weights as the question encoder."""


def test_the_documents_encoder_embeds_the_words_when_it_is_the_question_encoder(tmp_path) -> None:
    """The corpus's words come from the document encoder when it is the question encoder's runtime and weights
    (its threads differ, not its vectors), else from the question encoder; either way they are stored under the
    question encoder's name and questions look them up."""
    from index.builder import open_index
    from index.settings import load_settings
    from tests.conftest import NEWS_DIR

    def settings(name: str):
        values = {"corpus_dir": NEWS_DIR, "index_dir": tmp_path / name, "show_progress": False}
        return load_settings(values, env={})

    same_documents, questions = HashingEmbedder(), HashingEmbedder()
    stored, report = open_index(settings("same"), same_documents, words=questions)
    assert stored.words is not None and report.embedded_words == len(stored.words.words) > 50
    assert questions.encoded == 0 and stored.words.encoder == questions.describe()
    np.testing.assert_allclose(stored.words.vectors, questions.encode(stored.words.words), atol=2e-3)

    other_documents, questions = _Documents(), HashingEmbedder()  # another runtime: never trusted for the words
    stored, report = open_index(settings("other"), other_documents, words=questions)
    assert stored.words is not None and questions.encoded == report.embedded_words > 50
