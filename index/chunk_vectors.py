"""Chunk vectors from the sentence pass (``chunk_vectors = "from-sentences"``, issue 14).

The default indexing runs the encoder twice over the same words: once over each chunk (its article's
title prefix, then a run of whole sentences, overlapping its neighbours) and once over each sentence (the
vectors answer extraction scores). ``"from-sentences"`` runs it once, over *units*: the title prefix and
each sentence, and makes each chunk's vector from its units' token embeddings: the mean over every content
token of the chunk, i.e. the sum of its units' token sums, normalised. An overlapped sentence is one unit
of two chunks, encoded once. Sentence vectors are the units' own vectors, the same as "encoded" ones.

A unit is a :func:`index.sentences.split_sentences` span cut to the chunk (chunks hold whole sentences;
only a sentence longer than a chunk is cut, and each of its pieces is a unit), headings included as they
are in the chunk text; a stored sentence no chunk holds whole is also encoded whole, for its own vector.
Only content tokens are pooled ([CLS]/[SEP] of each unit left out: keeping them moved recall@1 by 0.001
or less). What changes is context: a chunk pass lets every token see the title and the whole chunk, a
sentence pass only its sentence (docs/QUALITY.md has the measurements).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from index.records import Chunk
from index.sentences import Span, split_sentences
from index.token_encoder import unit_rows

CHUNK_VECTORS_FROM_SENTENCES = "from-sentences"
_TITLE = (-1, -1)  # the title prefix's key among an article's units (sentences are keyed by their offsets)


@dataclass
class ArticleUnits:
    """The texts one article's sentence pass encodes, and what each chunk and stored sentence is made of."""

    texts: list[str] = field(default_factory=list)
    title: int | None = None  # position of the title prefix in ``texts``; None: no title
    members: list[list[int]] = field(default_factory=list)  # per chunk: its units' positions in ``texts``
    sentences: list[int] = field(default_factory=list)  # per stored sentence: its position in ``texts``


def article_units(text: str, prefix: str, chunks: Sequence[Chunk], sentences: Sequence[Span]) -> ArticleUnits:
    """The units of one article: ``prefix`` (the title as embedded before each chunk), each sentence piece
    of each of ``chunks`` (offsets into ``text``), and each of ``sentences`` (the stored ones) whole; each
    distinct span once."""
    units = ArticleUnits()
    positions: dict[tuple[int, int], int] = {}

    def unit(begin: int, end: int, unit_text: str) -> int:
        if (begin, end) not in positions:
            positions[(begin, end)] = len(units.texts)
            units.texts.append(unit_text)
        return positions[(begin, end)]

    if prefix:
        units.title = unit(*_TITLE, prefix)
    spans = split_sentences(text)
    for chunk in chunks:
        pieces = [(max(s.start, chunk.start), min(s.end, chunk.end)) for s in spans]
        units.members.append([unit(b, e, text[b:e]) for b, e in pieces if b < e])
    units.sentences = [unit(s.start, s.end, text[s.start : s.end]) for s in sentences]
    return units


def pooled_chunk_vectors(units: ArticleUnits, sums: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each chunk's vector from its units' content-token ``sums`` and ``counts`` (rows of ``units.texts``):
    their total, normalised (the mean of the tokens, normalised, is their normalised sum). Also returns,
    per chunk, whether it holds any token at all (one that does not is to be encoded on its own)."""
    out = np.zeros((len(units.members), sums.shape[1]), dtype=np.float32)
    tokens = np.zeros(len(units.members), dtype=np.int64)
    for row, members in enumerate(units.members):
        parts = [*members, units.title] if units.title is not None else members
        out[row] = sums[parts].sum(axis=0)
        tokens[row] = counts[parts].sum()
    return unit_rows(out), tokens > 0
