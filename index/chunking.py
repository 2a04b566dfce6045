"""Sentence-aware chunking sized in the embedding model's own tokens.

A chunk is a run of whole sentences whose embedded form, ``title prefix + chunk`` plus the model's
special tokens, fits the model's maximum length, so the model never truncates what it embeds. Only a
sentence that alone exceeds the budget is cut, at word boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from index.records import Article, Chunk
from index.sentences import Span, split_sentences

# [CLS] and [SEP] for BERT-style models.
SPECIAL_TOKENS = 2
# A title longer than this many tokens is shortened in the prefix so the story keeps its room.
MAX_PREFIX_TOKENS = 40

TokenCounter = Callable[[list[str]], list[int]]


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


def chunk_article(article: Article, config: ChunkingConfig, count_tokens: TokenCounter) -> list[Chunk]:
    """Split ``article.text`` into chunks; ``chunk.text == article.text[chunk.start:chunk.end]``."""
    prefix = title_prefix(article.title, count_tokens)
    prefix_tokens = count_tokens([prefix + "\n"])[0] if prefix else 0
    budget = config.budget - prefix_tokens
    spans = _fit_spans(article.text, split_sentences(article.text), budget, count_tokens)
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
