"""The latency race is neutral: no timed encode runs right after an encode of the same question."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tests.bench.latency import WARM_UP, measure_race
from tests.conftest import NEWS_DIR, fake_settings, open_fake_desk
from tests.fake_embedder import HashingEmbedder

# Where a question's encode comes from (the function that calls it): Newsdesk's ask and the baseline (timed),
# or the stage-only timing (not timed). The answer stage's word encodes are not questions'.
SIDES = {"ask": "newsdesk", "search": "baseline", "stages": "stages"}


class RecordingEmbedder(HashingEmbedder):
    """The fake embedder, noting each question it embeds and which part of the race asked."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        caller = sys._getframe(1)
        if caller.f_code.co_name == "start_encoding" and caller.f_back is not None:
            caller = caller.f_back  # Newsdesk.ask starts its question's encode through index.embedding
        side = SIDES.get(caller.f_code.co_name)
        if side is not None:
            self.calls.append((side, texts[0]))
        return super().encode(texts, batch_size, show_progress)


def test_no_timed_encode_follows_an_encode_of_the_same_question(tmp_path: Path) -> None:
    embedder = RecordingEmbedder()
    desk = open_fake_desk(fake_settings(NEWS_DIR, tmp_path / "index"), embedder)
    questions = [f"How many troops will {country} send?" for country in ("Germany", "France", "Italy", "Spain")]
    questions += ["Who leads NATO?", "What did the minister say about the budget?", "When is the election?"]
    embedder.calls.clear()
    ours, baseline = measure_race("news", desk, questions)
    measured = embedder.calls[2 * WARM_UP :]  # the warm-up asks each of the first questions on both sides

    assert len(ours.total_ms) == len(baseline.total_ms) == len(questions)
    for side in ("newsdesk", "baseline"):
        assert sorted(q for who, q in measured if who == side) == sorted(questions), side
    for (_, before), (who, text) in zip(measured, measured[1:], strict=False):
        if who in ("newsdesk", "baseline"):
            assert text != before, (who, text)
    # Which side goes first alternates from step to step (the last step is the baseline's last question alone).
    firsts = [measured[n + 1][0] for n, (who, _) in enumerate(measured[:-1]) if who == "stages"][:-1]
    assert set(firsts) == {"newsdesk", "baseline"}
    assert all(a != b for a, b in zip(firsts, firsts[1:], strict=False)), firsts
