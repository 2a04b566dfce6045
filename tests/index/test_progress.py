from __future__ import annotations

import io
import re
import time

import numpy as np

from index.progress import Progress, encode_with_progress


def test_without_a_terminal_a_line_comes_at_least_every_interval_even_while_a_step_is_slow() -> None:
    stream = io.StringIO()
    with Progress(bars=False, log_every_s=0.05, stream=stream).stage("embedding chunks", 10, "articles") as stage:
        stage.advance(4)
        time.sleep(0.3)  # one slow step: the timer still reports
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 3
    assert re.fullmatch(
        r"newsdesk: embedding chunks: 4/10 articles \(40%\), [\d.]+ articles/s, about \d+s left", lines[0]
    ), lines[0]
    assert re.fullmatch(r"newsdesk: embedding chunks: 4/10 articles in \d+s", lines[-1])


def test_a_quick_stage_prints_nothing_without_a_terminal() -> None:
    stream = io.StringIO()
    for _ in Progress(bars=False, log_every_s=30, stream=stream).iterate(range(100), "chunking", 100):
        pass
    assert stream.getvalue() == ""


def test_on_a_terminal_each_stage_has_a_labelled_bar_with_rate_and_eta() -> None:
    stream = io.StringIO()
    for _ in Progress(bars=True, stream=stream).iterate(range(5), "reading", 5, "files"):
        pass
    shown = stream.getvalue()
    assert "reading: 100%" in shown and "5/5" in shown and "files/s" in shown


def test_encoding_in_steps_gives_the_same_rows_and_counts_finished_articles() -> None:
    texts = [f"text {i}" for i in range(10)]
    owners = ["a"] * 3 + ["b"] * 4 + ["c"] * 3
    calls: list[int] = []

    def encode(batch: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        calls.append(len(batch))
        return np.array([[float(t.split()[1])] for t in batch], dtype=np.float32)

    advanced: list[int] = []

    class Recorder:
        def advance(self, count: int = 1) -> None:
            advanced.append(count)

    vectors = encode_with_progress(encode, texts, owners, 2, Recorder(), batches_per_step=2)  # type: ignore[arg-type]
    assert vectors[:, 0].tolist() == list(range(10))
    assert calls == [4, 4, 2]  # whole batches per step
    assert advanced == [1, 1, 1]  # a after 4 texts, b after 8, c at the end
