"""The sentence-first probe derives each chunk's vector from the right tokens (tests.bench.sentence_first)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.builder import open_index
from index.chunking import title_prefix
from tests.bench.sentence_first import chunk_units, derive_chunk_vectors, unit_token_sums
from tests.conftest import NEWS_DIR, fake_settings
from tests.fake_embedder import HashingEmbedder, word_vector


def _bag(text: str) -> np.ndarray:
    """What the fake embeds for ``text``, summed by hand: its words' vectors."""
    import re

    return sum((word_vector(w) for w in re.findall(r"[^\W_]+", text)), np.zeros(128, dtype=np.float32))


def test_derived_chunk_vectors_pool_the_title_and_each_sentence_of_the_chunk_once(tmp_path: Path) -> None:
    documents = HashingEmbedder()
    # Small chunks, so that articles have several, overlapping by whole sentences.
    stored, _ = open_index(fake_settings(NEWS_DIR, tmp_path, chunk_tokens=60, chunk_overlap_tokens=20), documents)
    units = chunk_units(stored, documents.count_tokens)
    assert sum(len(m) for m in units.members) > len(set().union(*map(set, units.members)))  # overlap shared
    sums, counts = unit_token_sums(documents, units.texts, 32)

    # The fake has no context: a chunk's tokens are the same alone or in its sentences, so the derived vector
    # is the chunk pass's own.
    derived = derive_chunk_vectors(units, sums, counts)
    assert np.allclose(derived, stored.vectors, atol=1e-5)

    # By hand: the title's words and the chunk's text's, once each.
    for row in (0, len(stored.chunks) - 1):
        chunk = stored.chunks[row]
        prefix = title_prefix(stored.articles[chunk.article_id].title, documents.count_tokens)
        expected = _bag(prefix) + _bag(chunk.text)
        assert np.allclose(derived[row], expected / np.linalg.norm(expected), atol=1e-5)
