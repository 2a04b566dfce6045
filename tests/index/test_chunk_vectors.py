"""chunk_vectors = "from-sentences": one encoder pass over titles and sentences, chunk vectors pooled from it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index.builder import open_index
from index.chunk_vectors import article_units, pooled_chunk_vectors
from index.chunking import title_prefix
from index.errors import ConfigError
from index.records import Chunk
from index.sentences import Span
from index.settings import load_settings
from index.store import read_manifest
from index.token_encoder import CharSpan, PassageVectors
from tests.conftest import NEWS_DIR, fake_settings
from tests.fake_embedder import DIMENSION, HashingEmbedder, word_vector

FROM_SENTENCES = {"chunk_vectors": "from-sentences"}
# Small chunks, so that articles have several, overlapping by whole sentences.
SMALL = {"chunk_tokens": 60, "chunk_overlap_tokens": 20}


class RecordingEmbedder(HashingEmbedder):
    """The fake, keeping every text it was asked to encode."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def encode_passages(
        self, texts: list[str], spans: Sequence[Sequence[CharSpan]], batch_size: int = 32, show_progress: bool = False
    ) -> PassageVectors:
        self.texts += texts
        return super().encode_passages(texts, spans, batch_size, show_progress)


def _bag(text: str) -> np.ndarray:
    """What the fake's tokens of ``text`` sum to, by hand: its words' vectors."""
    return sum((word_vector(w) for w in re.findall(r"[^\W_]+", text)), np.zeros(DIMENSION, dtype=np.float32))


def test_a_chunk_vector_is_the_normalised_sum_of_its_title_and_sentence_tokens() -> None:
    text = "Alpha beta. Gamma delta epsilon. Zeta eta."
    chunks = [Chunk("a", 0, 0, 32, text[:32]), Chunk("a", 1, 12, 42, text[12:])]  # sentence 2 in both
    sentences = [Span(0, 11), Span(12, 32), Span(33, 42)]
    units = article_units(text, "Title words", chunks, sentences)
    assert units.texts == ["Title words", "Alpha beta.", "Gamma delta epsilon.", "Zeta eta."]
    assert units.members == [[1, 2], [2, 3]] and units.title == 0 and units.sentences == [1, 2, 3]

    # Hand-made token sums: the chunk's vector is their total, normalised; counts say which hold tokens.
    sums = np.array([[1, 0, 0], [0, 2, 0], [0, 0, 2], [4, 0, 0]], dtype=np.float32)
    vectors, holds = pooled_chunk_vectors(units, sums, np.array([2, 3, 4, 3]))
    assert np.allclose(vectors[0], np.array([1, 2, 2]) / 3) and np.allclose(vectors[1], np.array([5, 0, 2]) / 29**0.5)
    assert holds.tolist() == [True, True]

    # With the fake's own token sums: the title's words and the chunk's, summed and normalised.
    passages = HashingEmbedder().encode_passages(units.texts, [[(0, len(t))] for t in units.texts])
    vectors, _ = pooled_chunk_vectors(units, np.concatenate(passages.span_sums), np.concatenate(passages.span_tokens))
    expected = _bag("Title words") + _bag(chunks[1].text)
    assert np.allclose(vectors[1], expected / np.linalg.norm(expected), atol=1e-6)


def test_a_sentence_longer_than_a_chunk_is_pooled_by_pieces_and_stored_whole() -> None:
    text = "One two three four five six."
    chunks = [Chunk("a", 0, 0, 13, text[:13]), Chunk("a", 1, 14, 28, text[14:])]  # cut at a word boundary
    units = article_units(text, "", chunks, [Span(0, 28)])
    assert units.texts == ["One two three", "four five six.", text] and units.title is None
    assert units.members == [[0], [1]] and units.sentences == [2]


def test_overlapping_chunks_share_one_encoding_of_each_sentence(tmp_path: Path) -> None:
    documents = RecordingEmbedder()
    stored, report = open_index(fake_settings(NEWS_DIR, tmp_path / "first", **SMALL, **FROM_SENTENCES), documents)
    assert stored.sentences is not None
    assert report.embedded_chunks == len(stored.chunks) and report.embedded_sentences == len(stored.sentences)
    spans = stored.sentences.spans_by_article()
    expected: list[str] = []
    shared = 0
    for article in stored.articles.values():
        chunks = [c for c in stored.chunks if c.article_id == article.id]
        prefix = title_prefix(article.title, documents.count_tokens)
        units = article_units(article.text, prefix, chunks, spans.get(article.id, ([], None))[0])
        expected += units.texts
        shared += sum(map(len, units.members)) - len(set().union(*map(set, units.members)))
    # The encoder saw each title and sentence (or piece) once, and nothing else (no chunk text): the sentences
    # that two chunks share were encoded once, and there were some.
    assert sorted(documents.texts) == sorted(expected) and shared > 0
    assert len(documents.texts) == len(set(documents.texts))
    encoded = RecordingEmbedder()
    open_index(fake_settings(NEWS_DIR, tmp_path / "second", **SMALL), encoded)
    assert len(encoded.texts) == len(stored.chunks) + len(stored.sentences) > len(documents.texts)


def test_from_sentences_keeps_the_encoded_sentence_vectors_and_records_its_kind(tmp_path: Path) -> None:
    first, _ = open_index(fake_settings(NEWS_DIR, tmp_path / "encoded", **SMALL), HashingEmbedder())
    derived, _ = open_index(fake_settings(NEWS_DIR, tmp_path / "derived", **SMALL, **FROM_SENTENCES), HashingEmbedder())
    assert first.manifest.chunk_vectors == "encoded"
    manifest = read_manifest(tmp_path / "derived")
    assert manifest is not None and manifest.chunk_vectors == "from-sentences" == derived.manifest.chunk_vectors
    assert [c.text for c in first.chunks] == [c.text for c in derived.chunks]
    assert np.array_equal(first.sentences.vectors, derived.sentences.vectors)  # type: ignore[union-attr]
    # The fake has no context (a token's vector is its word's, wherever it stands): pooled from the sentences,
    # each chunk's vector is the one its own pass gives. A real encoder's differ (docs/QUALITY.md).
    assert np.allclose(first.vectors, derived.vectors, atol=1e-5)


def test_an_update_of_the_other_kind_reembeds_every_article(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(NEWS_DIR, corpus)
    index_dir = tmp_path / "index"
    encoded, _ = open_index(fake_settings(corpus, index_dir), HashingEmbedder())
    derived = fake_settings(corpus, index_dir, **FROM_SENTENCES)
    served, report = open_index(derived, HashingEmbedder())  # up to date: served as it is, like other kinds
    assert not report.wrote and served.manifest.chunk_vectors == "encoded"
    (corpus / "late-story.md").write_text("# Late story\n\nThe ferry resumed service on Monday.\n", encoding="utf-8")
    documents = RecordingEmbedder()
    updated, report = open_index(derived, documents)
    assert report.rebuilt and len(report.added) == len(updated.articles) == len(encoded.articles) + 1
    assert updated.manifest.chunk_vectors == "from-sentences" and len(updated.vectors) == len(updated.chunks)
    back, report = open_index(fake_settings(corpus, index_dir), HashingEmbedder(), rebuild=True)
    assert report.rebuilt and back.manifest.chunk_vectors == "encoded"


def test_bad_values_and_impossible_combinations_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'chunk_vectors' must be one of encoded, from-sentences") as bad:
        load_settings({"chunk_vectors": "sentence-first"}, env={})
    assert "\n" not in str(bad.value)
    with pytest.raises(ConfigError, match="set sentence_vectors = 'encoded'") as pooled:
        load_settings({"chunk_vectors": "from-sentences", "sentence_vectors": "pooled"}, env={})
    assert "\n" not in str(pooled.value)
    assert load_settings(env={"NEWSDESK_CHUNK_VECTORS": "from-sentences"}).chunk_vectors == "from-sentences"


class TextsOnly:
    """An embedder without token embeddings (what index.ray_embedding.RayEmbedder offers)."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder()
        self.model_id, self.dimension, self.max_tokens = self.inner.model_id, self.inner.dimension, 256

    def describe(self) -> dict[str, str]:
        return self.inner.describe()

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        return self.inner.encode(texts)


def test_an_embedder_without_token_embeddings_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="without --ray, or set chunk_vectors = 'encoded'") as err:
        open_index(fake_settings(NEWS_DIR, tmp_path, **FROM_SENTENCES), TextsOnly())
    assert "\n" not in str(err.value) and not (tmp_path / "CURRENT").exists()
    stored, _ = open_index(fake_settings(NEWS_DIR, tmp_path), TextsOnly())  # the encoded kind works
    assert stored.manifest.chunk_vectors == "encoded"


def test_on_the_real_model_sentences_stay_the_encoded_ones(corpus_copy, make_settings, embedder, seed_desk) -> None:
    """PyTorch (a TokenEncoder): the units' pass gives the sentence vectors the encoded kind stores (within
    float rounding: another batching), and chunk vectors close to the chunk pass's, not equal (less context)."""
    before = embedder.encoded
    derived, _ = open_index(make_settings(corpus_copy, **FROM_SENTENCES), embedder)
    encoded = seed_desk.stored
    assert derived.sentences is not None and encoded.sentences is not None
    assert derived.manifest.chunk_vectors == "from-sentences" and embedder.encoded - before < len(encoded.chunks) + len(
        encoded.sentences
    )
    assert [c.text for c in derived.chunks] == [c.text for c in encoded.chunks]
    cosines = (derived.sentences.vectors.astype(np.float32) * encoded.sentences.vectors.astype(np.float32)).sum(1)
    assert cosines.min() > 0.999  # float16 storage
    chunk_cosines = (derived.vectors * encoded.vectors).sum(1)
    assert 0.8 < chunk_cosines.mean() < 0.9999
