"""Progress of long work (an index build), told the way the output can show it.

On a terminal: one labelled tqdm bar per stage ("reading", "chunking", "embedding") with its
rate and time left. When stderr is not a terminal (a script, a service, CI): a line at least every
``log_every_s`` seconds, from a timer so that a slow batch cannot silence it:

    newsdesk: embedding chunks: 1,200/5,000 articles (24%), 40.1 articles/s, about 1m35s left

Quick stages print nothing when not on a terminal (no line before the first interval has passed).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any, TypeVar

T = TypeVar("T")


class Stage:
    """One stage of work: ``advance(n)`` as it goes, ``close()`` (or leave the ``with`` block) at the end."""

    def __init__(self, label: str, total: int, unit: str, bar: bool, log_every_s: float, stream: IO[str]) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.done = 0
        self.started = time.monotonic()
        self._stream = stream
        self._lock = threading.Lock()
        self._logged = False
        self._stop = threading.Event()
        self._bar: Any = None
        self._ticker: threading.Thread | None = None
        if bar and total > 0:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=label, unit=f" {unit}", file=stream, dynamic_ncols=True, leave=True)
        elif log_every_s > 0 and total > 0:
            self._ticker = threading.Thread(target=self._tick, args=(log_every_s,), daemon=True)
            self._ticker.start()

    def advance(self, count: int = 1) -> None:
        with self._lock:
            self.done += count
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        self._stop.set()
        if self._bar is not None:
            self._bar.close()
        if self._ticker is not None:
            self._ticker.join()
            if self._logged:  # the stage was long enough to be reported: say that it ended
                self._write(f"{self.label}: {self.done:,}/{self.total:,} {self.unit} in {_duration(self.elapsed)}")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def line(self) -> str:
        """The progress line for a log: stage, done/total, rate, time left."""
        with self._lock:
            done = self.done
        rate = done / self.elapsed if self.elapsed > 0 else 0.0
        share = f" ({done / self.total:.0%})" if self.total else ""
        left = f", about {_duration((self.total - done) / rate)} left" if rate > 0 and done < self.total else ""
        return f"{self.label}: {done:,}/{self.total:,} {self.unit}{share}, {rate:.1f} {self.unit}/s{left}"

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            self._write(self.line())
            self._logged = True

    def _write(self, text: str) -> None:
        try:
            self._stream.write(f"newsdesk: {text}\n")
            self._stream.flush()
        except (OSError, ValueError):  # a closed stderr must not break a build
            pass

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Progress:
    """Makes the stages of one piece of work: bars when ``bars`` (stderr is a terminal), else log lines."""

    def __init__(self, bars: bool, log_every_s: float = 30.0, stream: IO[str] | None = None) -> None:
        self.bars = bars
        self.log_every_s = log_every_s
        self.stream = stream

    def stage(self, label: str, total: int, unit: str = "articles") -> Stage:
        return Stage(label, total, unit, self.bars, self.log_every_s, self.stream or sys.stderr)

    def iterate(self, items: Iterable[T], label: str, total: int, unit: str = "articles") -> Iterator[T]:
        """``items``, advancing a stage by one for each."""
        with self.stage(label, total, unit) as stage:
            for item in items:
                yield item
                stage.advance()


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def encode_with_progress(
    encode: Any, texts: list[str], owners: list[str], batch_size: int, stage: Stage, batches_per_step: int = 16
) -> Any:
    """``encode(texts, batch_size, False)`` in steps of ``batches_per_step`` batches, advancing ``stage`` by
    the articles (``owners[i]`` wrote ``texts[i]``; an article's texts are consecutive) finished so far.
    Steps are whole batches, so the vectors are those of one call."""
    import bisect

    import numpy as np

    ends = [i + 1 for i in range(len(owners)) if i + 1 == len(owners) or owners[i] != owners[i + 1]]
    step = max(1, batch_size * batches_per_step)
    parts, finished = [], 0
    for start in range(0, len(texts), step):
        end = min(start + step, len(texts))
        parts.append(encode(texts[start:end], batch_size, False))
        done = bisect.bisect_right(ends, end)
        stage.advance(done - finished)
        finished = done
    return np.concatenate(parts)
