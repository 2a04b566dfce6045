"""Embeddings of single words, for matching a question's words with a sentence's other words.

A reader asks about "journalists" where the article says "reporters", about "soldiers" where it says
"troops": exact (stemmed) term overlap misses these, and the sentence's cosine alone is too coarse to
make up for it. The embedding model puts such single words close together (journalists/reporters
0.87, soldiers/troops 0.89) and unrelated or merely associated words further apart
(opium/heroin 0.74, annual/year 0.70, Turkish/German 0.57), see :data:`index.evidence.SOFT_FROM`.

Words are embedded on first use, in one batch per question, and kept: a question brings a few
hundred new words at most (about 0.4 ms each on 2 cores), and a running bot soon has most of its
corpus's words. The store is bounded so a long-running process cannot grow without limit.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np

from index.lexical import STOPWORDS
from index.query_analysis import PLAIN_WORD

# Embeds texts as unit vectors, one row each (Embedder.encode).
Encode = Callable[[list[str]], np.ndarray]
# About 15 MB of float16 vectors at 384 dimensions; when full, it starts over (simpler than an LRU,
# and refilling costs only the words of the next few questions).
CAPACITY = 20_000


class WordVectors:
    """Unit vectors of single words, computed with ``encode`` on first use. Thread-safe."""

    def __init__(self, encode: Encode, capacity: int = CAPACITY) -> None:
        self.encode = encode
        self.capacity = capacity
        # Kept words are rows of one float16 matrix (allocated on first use): a question's few hundred
        # words are gathered with one fancy index instead of stacking as many small arrays.
        self._rows: dict[str, int] = {}
        self._matrix: np.ndarray | None = None
        self._lock = threading.Lock()
        # The index's words, embedded at index time by the same encoder (set by the owner per generation).
        self.stored: StoredWords | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def of(self, words: Iterable[str]) -> np.ndarray:
        """One float32 row per word, in order (words are used as given: lower-case them first).
        Vectors are kept as float16 (half the memory; single-word similarities move by < 0.001)."""
        words = list(words)
        if not words:
            return np.zeros((0, 0), dtype=np.float32)
        stored = self.stored
        at = None  # each word's row in the stored words (-1: not there), looked up once
        if stored is not None and not self._rows:
            # The usual case where the index stores its words: nothing kept here, every word found there.
            at = self._stored_rows(words)
            if at.min() >= 0:
                return stored.vectors[at].astype(np.float32)
        with self._lock:
            if self._rows:
                rows = np.fromiter((self._rows.get(w, -1) for w in words), dtype=np.int64, count=len(words))
                found = self._matrix[np.maximum(rows, 0)] if self._matrix is not None else None  # a copy
            else:  # nothing kept (the usual case when the index stores its words): no lookup to make
                rows, found = np.full(len(words), -1, dtype=np.int64), None
        missing = rows < 0
        if stored is not None and missing.any():
            if at is None:
                at = self._stored_rows(words)
            have = missing & (at >= 0)
            if have.any():
                if found is None:
                    found = np.empty((len(words), stored.vectors.shape[1]), dtype=np.float16)
                found[have] = stored.vectors[at[have]]
                missing &= ~have
        if missing.any():
            asked = [w for w, m in zip(words, missing.tolist(), strict=True) if m]
            new = list(dict.fromkeys(asked))
            vectors = self.encode(new).astype(np.float16)
            if found is None:
                found = np.empty((len(words), vectors.shape[1]), dtype=np.float16)
            position = {w: i for i, w in enumerate(new)}
            found[missing] = vectors[[position[w] for w in asked]]
            with self._lock:
                self._keep(new, vectors)
        assert found is not None  # nothing kept yet means every word was missing
        return found.astype(np.float32)

    def _stored_rows(self, words: list[str]) -> np.ndarray:
        """Each word's row in the index's stored words, -1 for a word it lacks."""
        assert self.stored is not None
        return np.fromiter(map(self.stored.rows.get, words, repeat(-1)), dtype=np.int64, count=len(words))

    def _keep(self, new: list[str], vectors: np.ndarray) -> None:
        """Store newly embedded words (another thread may have stored some meanwhile); when full, start over."""
        fresh = [i for i, w in enumerate(new) if w not in self._rows][: self.capacity]
        if not fresh:
            return
        if self._matrix is None:
            self._matrix = np.empty((self.capacity, vectors.shape[1]), dtype=np.float16)
        if len(self._rows) + len(fresh) > self.capacity:
            self._rows.clear()
        first = len(self._rows)
        self._matrix[first : first + len(fresh)] = vectors[fresh]
        self._rows.update((new[i], first + n) for n, i in enumerate(fresh))


WORDS_NAME = "words.npz"
# Words are embedded at index time in batches this large: all are a few tokens long, so bigger batches
# only cut the per-call overhead (the vectors do not depend on the batch: tests/index/test_word_vectors.py).
WORD_BATCH = 256


def article_words(texts: Iterable[str]) -> set[str]:
    """The words the answer stage may compare with a question's (index.evidence.paraphrased_terms):
    lower-cased plain words, stop words left out."""
    return {w for text in texts for w in (x.lower() for x in PLAIN_WORD.findall(text)) if w not in STOPWORDS}


@dataclass(frozen=True)
class StoredWords:
    """The single-word vectors of a corpus's words, made at index time by the question encoder, so that a
    question's first answer embeds no words (a cold :class:`WordVectors` embedded a few dozen per question,
    most of the answer stage's time). ``encoder``: what made them (``describe()`` of the question
    encoder); they are used only by a process whose question encoder is the same."""

    words: list[str]
    vectors: np.ndarray  # float16, one row per word
    encoder: dict[str, str]

    @functools.cached_property
    def rows(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def save(self, path: Path) -> None:
        with open(path, "wb") as handle:
            np.savez(
                handle,
                words=np.asarray(self.words, dtype=np.str_),
                vectors=self.vectors,
                encoder=np.asarray(json.dumps(self.encoder, sort_keys=True)),
            )

    @classmethod
    def load(cls, path: Path) -> StoredWords:
        with np.load(path, allow_pickle=False) as data:
            return cls(data["words"].tolist(), data["vectors"], json.loads(str(data["encoder"])))

    @classmethod
    def extend(
        cls, previous: StoredWords | None, words: set[str], encoder: Encode, describe: dict[str, str]
    ) -> tuple[StoredWords, int]:
        """``previous`` (when made by the same encoder) plus vectors of the ``words`` it lacks; and how many
        were embedded. Words of removed articles are kept until a rebuild: harmless, and an update then
        costs only its new articles' words."""
        kept = previous if previous is not None and previous.encoder == describe else None
        known = kept.rows if kept is not None else {}
        new = sorted(w for w in words if w not in known)
        vectors = encoder(new).astype(np.float16) if new else np.zeros((0, 0), dtype=np.float16)
        if kept is None:
            return cls(new, vectors, describe), len(new)
        if not new:
            return kept, 0
        return cls([*kept.words, *new], np.concatenate([kept.vectors, vectors]), describe), len(new)
