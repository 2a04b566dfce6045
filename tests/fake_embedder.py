"""A tiny deterministic embedder for the fast test tier: a hashed bag of words, no model to load.

It implements what the index asks of an encoder (``index.embedding.DocumentEmbedder``: ``encode``,
``encode_passages``, ``count_tokens``, ``dimension``, ``max_tokens``, ``describe``), so an index built
with it goes through the same builder, store, search and answering code as one built with the real
model. Its "semantics" are word overlap only: every lower-cased word, its plural ``s`` dropped, has
a fixed pseudo-random vector (seeded by a hash of the word, so the same in every process), and a
text's vector is the normalised sum of its words' vectors (function words weigh nothing). Two texts
are close when they share words; "troops" and "soldiers" are not. Tests that need meaning (paraphrase,
other words for a name) use the real model.

Like a real encoder it tokenises with character offsets, pools a span from the tokens inside it (so a
sentence's pooled vector equals the sentence embedded alone), and truncates at ``max_tokens``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from index.token_encoder import CharSpan, PassageVectors

MODEL_ID = "fake-hashing"
DIMENSION = 128
MAX_TOKENS = 256  # special tokens included, as the real model counts them
_SPECIAL = 2  # [CLS] and [SEP]: counted against the limit, never embedded
# Words and single punctuation marks are tokens (a word-piece tokenizer also counts punctuation).
_TOKEN = re.compile(r"[^\W_]+|[^\w\s]")
_WORD = re.compile(r"[^\W_]+")
# Function words count as tokens but weigh nothing, so that two texts do not look alike for sharing
# "the" and "of" (a real model learns as much).
_FUNCTION_WORDS = frozenset(
    """a about after all also an and any are as at be been but by can could did do does for from had has have he
    her his how i if in into is it its many more most much no not of on one or our she so some than that the
    their them then there these they this those to was we were what when where which while who whom why will
    with would you""".split()  # noqa: SIM905 - reads better as prose
)


@lru_cache(maxsize=65_536)
def word_vector(word: str) -> np.ndarray:
    """The fixed unit vector of one word (lower-case, plural ``s`` dropped)."""
    key = word.lower()
    if len(key) > 3 and key.endswith("s") and not key.endswith("ss"):
        key = key[:-1]
    seed = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
    vector = np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)
    vector /= np.linalg.norm(vector)
    return vector * (0.0 if key in _FUNCTION_WORDS else 1.0)


class HashingEmbedder:
    """Bag-of-words vectors of hashed words; counts the texts it embeds, like the suite's real embedder."""

    model_id = MODEL_ID

    def __init__(self) -> None:
        self.encoded = 0

    @property
    def dimension(self) -> int:
        return DIMENSION

    @property
    def max_tokens(self) -> int:
        return MAX_TOKENS

    def describe(self) -> dict[str, str]:
        return {"backend": "fake-hashing", "precision": "fp32", "file": "", "sha256": ""}

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(_TOKEN.findall(t)) for t in texts]

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        return self.encode_passages(texts, [[] for _ in texts], batch_size, show_progress).vectors

    def encode_passages(
        self,
        texts: list[str],
        spans: Sequence[Sequence[CharSpan]],
        batch_size: int = 32,
        show_progress: bool = False,
    ) -> PassageVectors:
        """As :meth:`index.token_encoder.TokenEncoder.encode_passages`: each text's unit vector, and per
        span the sum and count of the tokens inside it (tokens past the length limit count for nothing)."""
        self.encoded += len(texts)
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        sums = [np.zeros((len(s), DIMENSION), dtype=np.float32) for s in spans]
        counts = [np.zeros(len(s), dtype=np.int64) for s in spans]
        for i, text in enumerate(texts):
            tokens = list(_TOKEN.finditer(text))[: MAX_TOKENS - _SPECIAL]
            rows = [word_vector(t.group()) if _WORD.fullmatch(t.group()) else None for t in tokens]
            total = sum((r for r in rows if r is not None), np.zeros(DIMENSION, dtype=np.float32))
            if not np.any(total):
                total = word_vector("[empty]")  # a real encoder pools its special tokens: never a zero vector
            out[i] = total / np.linalg.norm(total)
            for k, (begin, end) in enumerate(spans[i]):
                inside = [r for t, r in zip(tokens, rows, strict=True) if t.end() > begin and t.start() < end]
                counts[i][k] = len(inside)
                for row in inside:
                    if row is not None:
                        sums[i][k] += row
        return PassageVectors(out, sums, counts)


class PacedEmbedder(HashingEmbedder):
    """The fake, taking ``seconds_per_text`` of wall time (not CPU) per text: an index build that lasts
    long enough to be interrupted or read beside, on an idle machine or a loaded one alike."""

    def __init__(self, seconds_per_text: float) -> None:
        super().__init__()
        self.seconds_per_text = seconds_per_text

    def encode_passages(
        self,
        texts: list[str],
        spans: Sequence[Sequence[CharSpan]],
        batch_size: int = 32,
        show_progress: bool = False,
    ) -> PassageVectors:
        import time

        time.sleep(self.seconds_per_text * len(texts))
        return super().encode_passages(texts, spans, batch_size, show_progress)


# ``python -m tests.fake_embedder CORPUS INDEX SECONDS_PER_TEXT``: rebuild an index with the paced fake,
# in a process of its own (a writer that tests can kill or read beside).
if __name__ == "__main__":
    import sys
    from pathlib import Path

    from index.builder import open_index
    from index.settings import load_settings

    corpus, index_dir, pace = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    values = {"corpus_dir": corpus, "index_dir": index_dir, "show_progress": False, "model": MODEL_ID}
    open_index(load_settings(values, env={}), PacedEmbedder(pace), rebuild=True)
