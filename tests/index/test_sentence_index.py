"""The sentence store's lookups, on the index of the made-up articles (fake embedder)."""

from __future__ import annotations

from index.sentence_index import SentenceIndex, SentenceRow
from index.sentences import Span
from tests.conftest import FakeDesk


def rows_by_definition(index: SentenceIndex, article_id: str, start: int, end: int) -> list[SentenceRow]:
    """Every sentence of the article that overlaps [start, end), each with the sentence before it, read row by row."""
    rows = index.rows_of(article_id)
    return [
        SentenceRow(r, int(index.starts[r]), int(index.ends[r]),
                    Span(int(index.starts[r - 1]), int(index.ends[r - 1])) if r > rows.start else None)
        for r in rows
        if int(index.starts[r]) < end and int(index.ends[r]) > start
    ]  # fmt: skip


def test_within_gives_the_overlapping_sentences_of_each_passage(news_desk: FakeDesk) -> None:
    stored = news_desk.stored
    sentences = stored.sentences
    assert sentences is not None
    passages = [(c.article_id, c.start, c.end) for c in stored.chunks]
    # Passages that start or end inside a sentence, cover an article's first sentence alone, or nothing.
    for article_id, article in stored.articles.items():
        rows = sentences.rows_of(article_id)
        first, last = int(sentences.starts[rows.start]), int(sentences.ends[rows.stop - 1])
        passages += [(article_id, first, first + 1), (article_id, first + 3, last - 3), (article_id, last, last)]
        passages += [(article_id, 0, len(article.text)), (article_id, len(article.text), len(article.text) + 5)]
    passages.append(("no-such-article", 0, 100))
    found = sentences.within(passages)
    assert any(r and r[0].before is None for r in found) and any(r and r[0].before is not None for r in found)
    assert found == [rows_by_definition(sentences, *p) for p in passages]
