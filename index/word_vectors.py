"""Embeddings of single words, for matching a question's words with a sentence's other words.

A reader asks about "journalists" where the article says "reporters", about "soldiers" where it says
"troops": exact (stemmed) term overlap misses these, and the sentence's cosine alone is too coarse to
make up for it. The embedding model puts such single words close together (journalists/reporters
0.87, soldiers/troops 0.89) and unrelated or merely associated words further apart
(opium/heroin 0.74, annual/year 0.70, Turkish/German 0.57), see :data:`index.answering.SOFT_FROM`.

Words are embedded on first use, in one batch per question, and kept: a question brings a few
hundred new words at most (about 0.4 ms each on 2 cores), and a running bot soon has most of its
corpus's words. The store is bounded so a long-running process cannot grow without limit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import numpy as np

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
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    def of(self, words: Iterable[str]) -> np.ndarray:
        """One float32 row per word, in order (words are used as given: lower-case them first).
        Vectors are kept as float16 (half the memory; single-word similarities move by < 0.001)."""
        words = list(words)
        with self._lock:
            found = {w: self._vectors.get(w) for w in words}
        new = [w for w in found if found[w] is None]
        if new:
            vectors = self.encode(new).astype(np.float16)
            found.update(zip(new, vectors, strict=True))
            with self._lock:
                if len(self._vectors) + len(new) > self.capacity:
                    self._vectors.clear()
                self._vectors.update(zip(new, vectors, strict=True))
        if not words:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[w] for w in words]).astype(np.float32)  # type: ignore[misc]
