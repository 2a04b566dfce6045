from __future__ import annotations

import pytest

from index.chunking import SPECIAL_TOKENS, ChunkingConfig, chunk_article, embedding_text, title_prefix
from index.loading import load_corpus
from index.records import Article
from index.sentences import split_sentences
from index.settings import BUNDLED_CORPUS


@pytest.fixture(scope="module")
def seed_articles() -> list[Article]:
    return load_corpus(BUNDLED_CORPUS).articles


@pytest.mark.parametrize("chunk_tokens,overlap", [(256, 0), (200, 40), (96, 20), (64, 0)])
def test_chunks_fit_the_model_with_their_prefix(embedder, seed_articles, chunk_tokens, overlap) -> None:  # type: ignore[no-untyped-def]
    config = ChunkingConfig(chunk_tokens, overlap, embedder.max_tokens)
    for article in seed_articles:
        prefix = title_prefix(article.title, embedder.count_tokens)
        for chunk in chunk_article(article, config, embedder.count_tokens):
            # The model's own tokenizer, special tokens included.
            tokens = embedder.model.tokenizer(embedding_text(prefix, chunk.text))["input_ids"]
            assert len(tokens) <= min(chunk_tokens, embedder.max_tokens)


def test_chunks_hold_whole_sentences_and_map_back(embedder, seed_articles) -> None:  # type: ignore[no-untyped-def]
    config = ChunkingConfig(96, 20, embedder.max_tokens)
    for article in seed_articles:
        starts = {s.start for s in split_sentences(article.text)}
        ends = {s.end for s in split_sentences(article.text)}
        chunks = chunk_article(article, config, embedder.count_tokens)
        assert len(chunks) > 1
        for ordinal, chunk in enumerate(chunks):
            assert chunk.ordinal == ordinal and chunk.article_id == article.id
            assert chunk.text == article.text[chunk.start : chunk.end]
            assert chunk.start in starts and chunk.end in ends
        # Every sentence is in some chunk.
        covered = set().union(*(range(c.start, c.end) for c in chunks))
        assert all(s.start in covered for s in split_sentences(article.text))


def test_overlap_repeats_trailing_sentences(embedder, seed_articles) -> None:  # type: ignore[no-untyped-def]
    article = seed_articles[0]
    without = chunk_article(article, ChunkingConfig(96, 0, embedder.max_tokens), embedder.count_tokens)
    with_overlap = chunk_article(article, ChunkingConfig(96, 40, embedder.max_tokens), embedder.count_tokens)
    assert all(a.end <= b.start for a, b in zip(without, without[1:], strict=False))
    assert any(b.start < a.end for a, b in zip(with_overlap, with_overlap[1:], strict=False))


def test_an_overlong_sentence_is_cut_at_words_to_fit(embedder) -> None:  # type: ignore[no-untyped-def]
    text = " ".join(f"word{i}" for i in range(600)) + "."
    article = Article(id="long", title="A title", text=text)
    config = ChunkingConfig(128, 16, embedder.max_tokens)
    chunks = chunk_article(article, config, embedder.count_tokens)
    assert len(chunks) > 2
    for chunk in chunks:
        assert embedder.count_tokens([embedding_text("A title", chunk.text)])[0] + SPECIAL_TOKENS <= 128
        assert not chunk.text.startswith(" ") and chunk.text == text[chunk.start : chunk.end]
    assert chunks[-1].end == len(text)
