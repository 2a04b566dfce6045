"""Single-word embeddings: computed once per word, kept, bounded."""

from __future__ import annotations

import numpy as np

from index.word_vectors import WordVectors


def test_each_word_is_embedded_once_and_kept(embedder) -> None:  # type: ignore[no-untyped-def]
    words = WordVectors(embedder.encode)
    before = embedder.encoded
    first = words.of(["troops", "soldiers", "troops"])
    assert embedder.encoded - before == 2  # the repeated word is embedded once
    again = words.of(["soldiers", "troops"])
    assert embedder.encoded - before == 2  # nothing new to embed
    assert np.array_equal(again, first[[1, 0]])
    assert float(first[0] @ first[1]) > 0.8  # near-synonyms are close


def test_the_store_is_bounded(embedder) -> None:  # type: ignore[no-untyped-def]
    words = WordVectors(embedder.encode, capacity=3)
    kept = words.of(["alpha", "beta", "gamma"])
    assert len(words) == 3
    words.of(["delta"])
    assert len(words) == 1  # full: started over
    # A word embedded again (alone this time, not in a batch) gets the same vector, to rounding.
    assert np.allclose(words.of(["alpha"])[0], kept[0], atol=2e-3)
