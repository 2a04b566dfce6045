"""Every sentence of every article, embedded once at index time, for answer extraction.

Answering scores the sentences of the retrieved passages against the question. Embedding them per
question cost ~15 ms a sentence on these 2 cores (95 % of a warm question on Reuters); embedding them
with the articles costs the build about as many tokens again as the chunks, once, and turns answer
extraction into a lookup and a dot product.

A sentence is a :func:`index.sentences.split_sentences` span of the cleaned article text that is not a
heading. Rows are grouped by article, in text order, so the sentences of any passage are a slice found
by binary search on their start offsets. Vectors are stored as float16 (cosine error ~1e-3, half the
memory); each row is a unit vector of the same model as the chunks.

``sentence_vectors = "encoded"`` (the default) embeds each sentence on its own, a second pass over the
text. ``"pooled"`` takes them from the chunk pass: each sentence's vector is the mean of its tokens'
embeddings inside a chunk that holds it whole (:func:`sentence_pieces`), normalised. Those tokens have
seen the whole chunk, so the sentences of one chunk come out closer to each other than encoded ones
(docs/PERFORMANCE.md compares the two).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.records import Article, Chunk
from index.sentences import Span, is_heading, split_sentences

SENTENCES_NAME = "sentences.npz"


def article_sentences(article: Article) -> list[Span]:
    """The spans of ``article.text`` that are sentences (headings and captions left out)."""
    return [s for s in split_sentences(article.text) if not is_heading(article.text[s.start : s.end])]


def sentence_pieces(
    sentences: Sequence[Span], chunks: Sequence[Chunk], shift: int
) -> tuple[list[list[tuple[int, int]]], list[list[int]]]:
    """Which character spans of each chunk's embedded text to pool, and for which sentence.

    ``chunks`` are one article's, in order; ``shift`` is where the chunk text starts in its embedded
    text (after the title). A sentence whole in some chunk is pooled there (the first such chunk: with
    overlapping chunks a sentence is often whole in two). A sentence no chunk holds whole (longer than a
    chunk, so cut at word boundaries) is pooled from every piece, each part of it counted once.
    Returns per chunk: the spans, and the position in ``sentences`` each span belongs to."""
    spans: list[list[tuple[int, int]]] = [[] for _ in chunks]
    owners: list[list[int]] = [[] for _ in chunks]
    ends = [c.end for c in chunks]  # chunks of one article start and end in ascending order

    def take(i: int, begin: int, end: int, n: int) -> None:
        base = chunks[i].start - shift
        spans[i].append((begin - base, end - base))
        owners[i].append(n)

    for n, sentence in enumerate(sentences):
        first = bisect.bisect_left(ends, sentence.end)
        if first < len(chunks) and chunks[first].start <= sentence.start:
            take(first, sentence.start, sentence.end, n)
            continue
        covered = sentence.start
        for i in range(bisect.bisect_right(ends, sentence.start), len(chunks)):
            if chunks[i].start >= sentence.end:
                break
            begin, end = max(covered, chunks[i].start), min(sentence.end, chunks[i].end)
            if begin < end:
                take(i, begin, end, n)
                covered = end
    return spans, owners


@dataclass(frozen=True)
class SentenceRow:
    """One stored sentence: its row in the vector matrix and its offsets in its article."""

    row: int
    start: int
    end: int
    before: Span | None = None  # the stored sentence before it in its article; None: its article's first


@dataclass
class SentenceIndex:
    """Sentence spans by article and their unit embeddings (``vectors[row]``)."""

    article_ids: list[str]
    starts: np.ndarray  # int32, per row
    ends: np.ndarray  # int32, per row
    owners: np.ndarray  # int32, per row: position of the row's article in ``article_ids``
    vectors: np.ndarray  # float16, (rows, dimension)
    _ranges: dict[str, tuple[int, int]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        # Rows of one article are contiguous: remember each article's [first, last) rows.
        bounds = [0, *(np.flatnonzero(np.diff(self.owners)) + 1).tolist(), len(self.owners)]
        for first, last in itertools.pairwise(bounds):
            if first < last:
                self._ranges[self.article_ids[int(self.owners[first])]] = (first, last)

    def __len__(self) -> int:
        return len(self.starts)

    def rows_of(self, article_id: str) -> range:
        first, last = self._ranges.get(article_id, (0, 0))
        return range(first, last)

    def within(self, passages: Sequence[tuple[str, int, int]]) -> list[list[SentenceRow]]:
        """For each (article id, start, end) passage, the sentences of the article that overlap
        ``[start, end)``, in text order, each with the sentence before it (all passages in one call:
        a question's retrieved passages)."""
        return [self._within(article_id, start, end) for article_id, start, end in passages]

    def _within(self, article_id: str, start: int, end: int) -> list[SentenceRow]:
        first, last = self._ranges.get(article_id, (0, 0))
        if first == last:
            return []
        # First sentence ending after ``start``; stop at the first starting at or after ``end``.
        lo = first + int(np.searchsorted(self.ends[first:last], start, side="right"))
        hi = first + int(np.searchsorted(self.starts[first:last], end, side="left"))
        if lo >= hi:
            return []
        # The rows' offsets as Python ints in one conversion each (and the sentence before the first row).
        before = max(lo - 1, first)
        starts, ends = self.starts[before:hi].tolist(), self.ends[before:hi].tolist()
        shift = lo - before  # 1, or 0 when the first row is its article's first sentence
        return [
            SentenceRow(r, starts[n], ends[n], Span(starts[n - 1], ends[n - 1]) if n else None)
            for n, r in enumerate(range(lo, hi), start=shift)
        ]

    def similarity(self, rows: Sequence[int], query: np.ndarray) -> np.ndarray:
        """Cosine of each row's sentence with the unit ``query`` vector."""
        if not rows:
            return np.zeros(0, dtype=np.float32)
        return self.vectors[np.asarray(rows)].astype(np.float32) @ query.reshape(-1).astype(np.float32)

    def spans_by_article(self) -> dict[str, tuple[list[Span], np.ndarray]]:
        """Each article's spans and vectors, for reuse by an incremental update."""
        out: dict[str, tuple[list[Span], np.ndarray]] = {}
        for article_id, (first, last) in self._ranges.items():
            spans = [Span(int(s), int(e)) for s, e in zip(self.starts[first:last], self.ends[first:last], strict=True)]
            out[article_id] = (spans, self.vectors[first:last])
        return out

    @classmethod
    def assemble(cls, parts: Iterable[tuple[str, list[Span], np.ndarray]], dimension: int) -> SentenceIndex:
        """An index from (article id, spans, vectors) parts, one per article, in the order given."""
        ids: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        owners: list[int] = []
        blocks: list[np.ndarray] = []
        for article_id, spans, vectors in parts:
            if not spans:
                continue
            owners.extend([len(ids)] * len(spans))
            ids.append(article_id)
            starts.extend(s.start for s in spans)
            ends.extend(s.end for s in spans)
            blocks.append(np.asarray(vectors, dtype=np.float16))
        matrix = np.concatenate(blocks) if blocks else np.zeros((0, dimension), dtype=np.float16)
        return cls(
            ids,
            np.asarray(starts, dtype=np.int32),
            np.asarray(ends, dtype=np.int32),
            np.asarray(owners, dtype=np.int32),
            matrix,
        )

    def save(self, path: Path) -> None:
        with open(path, "wb") as handle:
            np.savez(
                handle,
                article_ids=np.asarray(self.article_ids, dtype=str),
                starts=self.starts,
                ends=self.ends,
                owners=self.owners,
                vectors=self.vectors,
            )

    @classmethod
    def load(cls, path: Path) -> SentenceIndex:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                [str(a) for a in data["article_ids"]],
                data["starts"],
                data["ends"],
                data["owners"],
                data["vectors"],
            )
