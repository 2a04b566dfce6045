"""Sentence-aware chunking sized in the embedding model's own tokens.

A chunk is a run of whole sentences whose embedded form, ``title prefix + chunk`` plus the model's
special tokens, fits the model's maximum length, so the model never truncates what it embeds. Only a
sentence that alone exceeds the budget is cut, at word boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from index.records import Article, Chunk
from index.sentences import Span, split_sentences

# [CLS] and [SEP] for BERT-style models.
SPECIAL_TOKENS = 2
# A title longer than this many tokens is shortened in the prefix so the story keeps its room.
MAX_PREFIX_TOKENS = 40

TokenCounter = Callable[[list[str]], list[int]]
# Articles whose titles and sentences are counted in one tokenizer call by :func:`chunk_articles`. One call
# per article's sentences gave the tokenizer's thread pool too little to share out, and every sentence was
# counted twice (to fit, then to group): 4.4 s of a whole-Reuters build (4,494 stories) in 22,470 calls.
# A few thousand sentences a call keep both cores busy; the counts held meanwhile stay small.
COUNT_GROUP = 500


@dataclass(frozen=True)
class ChunkingConfig:
    chunk_tokens: int
    overlap_tokens: int
    model_max_tokens: int

    @property
    def budget(self) -> int:
        """Tokens available for prefix + chunk text."""
        return min(self.chunk_tokens, self.model_max_tokens) - SPECIAL_TOKENS


def embedding_text(title: str, chunk_text: str) -> str:
    """What is embedded for a chunk: its article's title, then the chunk (gives context to both)."""
    return f"{title}\n{chunk_text}" if title else chunk_text


def embedding_offset(title: str) -> int:
    """Where the chunk text starts inside :func:`embedding_text` (to find its sentences' tokens)."""
    return len(title) + 1 if title else 0


def title_prefix(title: str, count_tokens: TokenCounter) -> str:
    """The title as used in the prefix, cut at a word boundary when very long."""
    if not title or count_tokens([title])[0] <= MAX_PREFIX_TOKENS:
        return title
    words = title.split()
    while words and count_tokens([" ".join(words)])[0] > MAX_PREFIX_TOKENS:
        words.pop()
    return " ".join(words)


class TokenCounts:
    """Token counts of texts, remembered, and computed for many texts in one call (:meth:`prime`).

    A text's count does not depend on the texts counted with it (nothing is padded), so chunks made with
    these counts are the ones ``count_tokens`` itself gives (tests/index/test_chunking.py)."""

    def __init__(self, count_tokens: TokenCounter) -> None:
        self.count_tokens = count_tokens
        self._known: dict[str, int] = {}

    def prime(self, texts: Iterable[str]) -> None:
        """Count every text not known yet, in one call."""
        new = [t for t in dict.fromkeys(texts) if t not in self._known]
        if new:
            self._known.update(zip(new, self.count_tokens(new), strict=True))

    def __call__(self, texts: list[str]) -> list[int]:
        self.prime(texts)
        return [self._known[t] for t in texts]


@dataclass(frozen=True)
class ArticleChunks:
    """One article's chunks and the title prefix they are embedded with (:func:`embedding_text`)."""

    prefix: str
    chunks: list[Chunk]


def chunk_articles(
    articles: Iterable[Article], config: ChunkingConfig, count_tokens: TokenCounter, group: int = COUNT_GROUP
) -> Iterator[ArticleChunks]:
    """:func:`chunk_article` and :func:`title_prefix` of each article, in order, with the titles and
    sentences of ``group`` articles at a time counted in one ``count_tokens`` call. Lazy: an article is
    chunked when it is asked for (its group is counted then)."""
    pending: list[tuple[Article, list[Span]]] = []
    for article in articles:
        pending.append((article, split_sentences(article.text)))
        if len(pending) >= group:
            yield from _chunk_group(pending, config, count_tokens)
            pending = []
    yield from _chunk_group(pending, config, count_tokens)


def _chunk_group(
    group: list[tuple[Article, list[Span]]], config: ChunkingConfig, count_tokens: TokenCounter
) -> Iterator[ArticleChunks]:
    counts = TokenCounts(count_tokens)
    # A title is usually its own prefix: its count and that of "title\n" are what the prefix needs.
    counts.prime(
        text
        for article, sentences in group
        for text in (
            *((article.title, article.title + "\n") if article.title else ()),
            *(article.text[s.start : s.end] for s in sentences),
        )
    )
    for article, sentences in group:
        prefix = title_prefix(article.title, counts)
        yield ArticleChunks(prefix, _chunk(article, prefix, sentences, config, counts))


def chunk_article(article: Article, config: ChunkingConfig, count_tokens: TokenCounter) -> list[Chunk]:
    """Split ``article.text`` into chunks; ``chunk.text == article.text[chunk.start:chunk.end]``."""
    return next(chunk_articles([article], config, count_tokens)).chunks


def _chunk(
    article: Article, prefix: str, sentences: list[Span], config: ChunkingConfig, count_tokens: TokenCounter
) -> list[Chunk]:
    prefix_tokens = count_tokens([prefix + "\n"])[0] if prefix else 0
    budget = config.budget - prefix_tokens
    spans = _fit_spans(article.text, sentences, budget, count_tokens)
    counts = count_tokens([article.text[s.start : s.end] for s in spans])
    groups = _group(spans, counts, budget, config.overlap_tokens)
    chunks = []
    for ordinal, group in enumerate(groups):
        start, end = group[0].start, group[-1].end
        chunks.append(Chunk(article.id, ordinal, start, end, article.text[start:end]))
    return chunks


def _fit_spans(text: str, spans: list[Span], budget: int, count_tokens: TokenCounter) -> list[Span]:
    """Cut any sentence longer than ``budget`` tokens into word-boundary pieces that fit."""
    counts = count_tokens([text[s.start : s.end] for s in spans])
    fitted: list[Span] = []
    for span, count in zip(spans, counts, strict=True):
        fitted.extend([span] if count <= budget else _cut_long(text, span, budget, count_tokens))
    return fitted


def _cut_long(text: str, span: Span, budget: int, count_tokens: TokenCounter) -> list[Span]:
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[span.start : span.end])]
    pieces: list[Span] = []
    first = 0
    while first < len(words):
        # Binary search the longest run of words from ``first`` that fits.
        low, high = first + 1, len(words)
        while low < high:
            mid = (low + high + 1) // 2
            piece = text[span.start + words[first][0] : span.start + words[mid - 1][1]]
            if count_tokens([piece])[0] <= budget:
                low = mid
            else:
                high = mid - 1
        pieces.append(Span(span.start + words[first][0], span.start + words[low - 1][1]))
        first = low
    return pieces


def _group(spans: list[Span], counts: list[int], budget: int, overlap: int) -> list[list[Span]]:
    groups: list[list[Span]] = []
    current: list[int] = []
    used = 0
    for i, count in enumerate(counts):
        if current and used + count > budget:
            groups.append([spans[j] for j in current])
            current, used = _overlap_tail(current, counts, overlap, budget - count)
        current.append(i)
        used += count
    if current:
        groups.append([spans[j] for j in current])
    return groups


def _overlap_tail(previous: list[int], counts: list[int], overlap: int, room: int) -> tuple[list[int], int]:
    """The trailing sentences of the previous chunk to repeat, within ``overlap`` and ``room`` tokens."""
    tail: list[int] = []
    used = 0
    for j in reversed(previous[1:]):  # never the whole previous chunk: every chunk must move forward
        if used + counts[j] > min(overlap, room):
            break
        tail.insert(0, j)
        used += counts[j]
    return tail, used
