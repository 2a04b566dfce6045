"""The answer benchmark's training sample: ``train --every N`` thins each benchmark's default stride."""

from __future__ import annotations

import pytest

from tests.bench.answer_bench import SAMPLE_EVERY, main, sample_stride


def test_every_multiplies_each_benchmarks_default_stride() -> None:
    assert sample_stride("squad-long") == SAMPLE_EVERY["squad-long"] == 5
    assert sample_stride("squad-long", 3) == 15
    assert sample_stride("news", 2) == 2 * SAMPLE_EVERY["news"]
    # A benchmark without a default stride is read whole, then thinned.
    assert sample_stride("xquad-en", 4) == 4


def test_every_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="positive whole number"):
        sample_stride("news", 0)


@pytest.mark.parametrize("given", ["0", "-2", "two"])
def test_train_every_takes_a_positive_whole_number(given: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["train", "--every", given])
    assert exited.value.code == 2
    assert f"expected a positive whole number, got '{given}'" in capsys.readouterr().err
