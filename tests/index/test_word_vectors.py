"""Single-word embeddings: computed once per word, kept, bounded (on the fake embedder); near-synonyms
close (the model)."""

from __future__ import annotations

import numpy as np

from index.word_vectors import WordVectors
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


def test_near_synonyms_are_close(embedder) -> None:  # type: ignore[no-untyped-def]
    # What paraphrase matching relies on (index.word_vectors' docstring): a property of the model.
    vectors = WordVectors(embedder.encode).of(["troops", "soldiers", "harvest"])
    assert float(vectors[0] @ vectors[1]) > 0.8 > float(vectors[0] @ vectors[2])
