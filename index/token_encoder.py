"""One encoder pass, many vectors: a text's vector and the vectors of spans inside it.

A transformer already computes a contextual embedding for every token of a chunk; the chunk's vector
is their mean (the model's own pooling). A sentence of that chunk gets its vector the same way, from
the tokens that fall inside it, so indexing sentences costs no second pass over the text (issue 14).

:class:`TokenEncoder` holds what every backend shares: the model's tokenizer (with character offsets),
batches of similar length (sorted, so padding is small), mean pooling and span pooling. A backend
(onnxruntime, OpenVINO, PyTorch) only supplies :meth:`TokenEncoder.token_embeddings`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

CharSpan = tuple[int, int]
_T = TypeVar("_T")


@dataclass
class PassageVectors:
    """What :meth:`TokenEncoder.encode_passages` returns, one entry per text, in input order."""

    vectors: np.ndarray  # (texts, dimension) float32 unit vectors: mean of all tokens, as the model pools
    span_sums: list[np.ndarray]  # per text, (spans, dimension) float32: sum of the span's token embeddings
    span_tokens: list[np.ndarray]  # per text, (spans,) int: how many tokens each sum holds


class TokenEncoder:
    """Tokenise, batch by length, run the model to token embeddings, pool. Subclasses run the model."""

    @property
    def tokenizer_file(self) -> Path:
        raise NotImplementedError

    @property
    def max_tokens(self) -> int:
        """Longest input, special tokens included; longer texts are truncated (and say so by counting)."""
        raise NotImplementedError

    @property
    def dimension(self) -> int:
        raise NotImplementedError

    def token_embeddings(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(batch, tokens, dimension) float32 last hidden states for padded ``ids`` and ``mask``."""
        raise NotImplementedError

    @cached_property
    def _offset_tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.tokenizer_file))
        tokenizer.enable_truncation(max_length=self.max_tokens)
        tokenizer.no_padding()
        return tokenizer

    @cached_property
    def _pad_id(self) -> int:
        return int(self._offset_tokenizer.token_to_id("[PAD]") or 0)

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        return self.encode_passages(texts, [[] for _ in texts], batch_size, show_progress).vectors

    def encode_passages(
        self,
        texts: list[str],
        spans: Sequence[Sequence[CharSpan]],
        batch_size: int = 32,
        show_progress: bool = False,
    ) -> PassageVectors:
        """Each text's vector, and for each ``spans[i]`` (character offsets into ``texts[i]``) the sum
        and count of the token embeddings inside it. Tokens cut off by the length limit count for
        nothing; a span holding no token has a zero sum and count 0."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        sums = [np.zeros((len(s), self.dimension), dtype=np.float32) for s in spans]
        counts = [np.zeros(len(s), dtype=np.int64) for s in spans]
        if not texts:
            return PassageVectors(out, sums, counts)
        encodings = self._offset_tokenizer.encode_batch(texts)
        # Sorting by length keeps padding (wasted work) small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batches = list(_batches(order, batch_size))
        inputs = [_padded([encodings[i].ids for i in rows], self._pad_id) for rows in batches]
        # Closed on the way out, error or not, so that no inference of this thread's is left running.
        with contextlib.closing(self.batch_token_embeddings(inputs)) as outputs:
            progress = _progress(iter(batches), len(order), show_progress)
            for rows, (_, mask), output in zip(progress, inputs, outputs, strict=True):
                hidden = np.asarray(output, dtype=np.float32)
                out[rows] = unit_means(hidden, mask)
                for j, i in enumerate(rows):
                    if len(spans[i]):
                        _pool_spans(hidden[j], encodings[i], spans[i], sums[i], counts[i])
        return PassageVectors(out, sums, counts)

    def batch_token_embeddings(
        self, batches: Sequence[tuple[np.ndarray, np.ndarray]]
    ) -> Generator[np.ndarray, None, None]:
        """:meth:`token_embeddings` of each padded (ids, mask) batch, in order, one batch after the other. A
        runtime that infers on threads of its own (OpenVINO) overrides this to run the next batches while the
        caller pools the one it was given."""
        for ids, mask in batches:
            yield self.token_embeddings(ids, mask)

    def start_encode(self, text: str) -> PendingVector:
        """Start embedding one text (a question) and return at once; :meth:`PendingVector.result` gives the
        vector :meth:`encode` gives, bit for bit. Here it is computed before returning; a backend whose runtime
        infers on threads of its own (OpenVINO) returns while it runs, and the caller works meanwhile."""
        return PendingVector.computed(self.encode([text])[0])

    def _question_ids(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text's padded ids and mask, as :meth:`encode_passages` batches it alone."""
        return _padded([self._offset_tokenizer.encode(text).ids], self._pad_id)


class PendingVector:
    """One text's vector (:meth:`TokenEncoder.start_encode`): computed already, or being computed by a runtime
    on a thread of its own (``apart``), which :meth:`result` waits for. Made by :meth:`computed` or :meth:`running`."""

    def __init__(
        self,
        vector: np.ndarray | None,
        wait: Callable[[], np.ndarray] | None = None,
        ready: Callable[[], bool] | None = None,
        mask: np.ndarray | None = None,
    ) -> None:
        self._vector = vector
        self._wait, self._ready, self._mask = wait, ready, mask
        self.apart = vector is None  # the caller can work while it is computed

    @classmethod
    def computed(cls, vector: np.ndarray) -> PendingVector:
        return cls(vector)

    @classmethod
    def running(cls, wait: Callable[[], np.ndarray], ready: Callable[[], bool], mask: np.ndarray) -> PendingVector:
        """``wait``: blocks until the runtime is done, returns its token embeddings of the (1, tokens) ``mask``'s
        input and raises its error if it failed; ``ready``: whether ``wait`` would return at once."""
        return cls(None, wait, ready, mask)

    def done(self) -> bool:
        """Whether :meth:`result` would return without waiting."""
        return self._vector is not None or (self._ready is not None and self._ready())

    def result(self) -> np.ndarray:
        """The unit vector, pooled as :meth:`TokenEncoder.encode` pools; the runtime's error is raised here, in
        the caller's thread."""
        if self._vector is None:
            assert self._wait is not None and self._mask is not None
            self._vector = unit_means(np.asarray(self._wait(), dtype=np.float32), self._mask)[0]
        return self._vector

    def after(self, work: Callable[[], _T]) -> tuple[_T, np.ndarray]:
        """``work()``, run while the vector is computed, then :meth:`result`. When ``work`` fails, the runtime is
        waited for first (:meth:`cancel`) and ``work``'s error raised."""
        try:
            done = work()
        except BaseException:
            self.cancel()
            raise
        return done, self.result()

    def cancel(self) -> None:
        """Wait for the runtime and drop the result (the caller failed meanwhile), so that the runtime's
        request is free for the thread's next question. Never raises: the caller's error is the one to report."""
        if self._vector is None and self._wait is not None:
            with contextlib.suppress(Exception):
                self._wait()


def unit_means(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The model's pooling of a batch: each row's mean over its unmasked tokens, L2-normalised (float32)."""
    weights = mask[:, :, None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return unit_rows(pooled)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """``matrix`` with each row scaled to unit length, in place (a row of zeros stays zeros); returned."""
    matrix /= np.clip(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12, None)
    return matrix


def _padded(rows: list[list[int]], pad: int) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` of token ids as one (rows, longest) int64 matrix padded with ``pad``, and its attention mask."""
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    mask = np.arange(int(lengths.max())) < lengths[:, None]
    ids = np.full(mask.shape, pad, dtype=np.int64)
    ids[mask] = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=int(lengths.sum()))  # row by row
    return ids, mask.astype(np.int64)


def _pool_spans(
    hidden: np.ndarray, encoding: Any, spans: Sequence[CharSpan], sums: np.ndarray, counts: np.ndarray
) -> None:
    """Sum the embeddings of the non-special tokens that overlap each span (offsets ascend)."""
    special = encoding.special_tokens_mask
    size = len(special)
    if size > 2 and special[0] and special[-1] and sum(special) == 2:
        # The usual layout, [CLS] text [SEP]: the content tokens are the run between, summed as a slice (the
        # same rows added in the same order as the general path's gather), and a span over the whole text,
        # as each unit of the sentence pass has (index.chunk_vectors), needs no offsets array.
        offsets = encoding.offsets
        if len(spans) == 1 and spans[0][0] < offsets[1][1] and offsets[size - 2][0] < spans[0][1]:
            sums[0] = hidden[1 : size - 1].sum(axis=0)
            counts[0] = size - 2
            return
        content: np.ndarray | None = None
        bounds = np.asarray(offsets[1 : size - 1], dtype=np.int64)
    else:
        content = np.flatnonzero(np.asarray(special) == 0)
        if not len(content):
            return
        bounds = np.asarray(encoding.offsets, dtype=np.int64)[content]
    starts, ends = bounds[:, 0], bounds[:, 1]
    for k, (begin, end) in enumerate(spans):
        lo = int(np.searchsorted(ends, begin, side="right"))
        hi = int(np.searchsorted(starts, end, side="left"))
        if hi > lo:
            sums[k] = hidden[1 + lo : 1 + hi].sum(axis=0) if content is None else hidden[content[lo:hi]].sum(axis=0)
            counts[k] = hi - lo


def _batches(order: list[int], size: int) -> Iterator[list[int]]:
    for begin in range(0, len(order), size):
        yield order[begin : begin + size]


def _progress(batches: Iterator[list[int]], total: int, show: bool) -> Iterator[list[int]]:
    if not show:
        yield from batches
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="text", desc="embedding", leave=False) as bar:
        for rows in batches:
            yield rows
            bar.update(len(rows))
