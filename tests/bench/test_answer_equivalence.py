"""The answer-equivalence harness compares like with like (tests/bench/answer_equivalence.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench import answer_equivalence


def test_both_sides_load_the_encoder_from_this_trees_cache_wherever_they_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The old tree's child runs in its own folder; with the default (under ./.newsdesk) it found no converted
    # encoder and answered through another runtime, so every answer differed.
    monkeypatch.chdir(tmp_path)
    settings = answer_equivalence.desk_settings(tmp_path / "corpus", "seed")
    assert settings.resolved_encoder_cache_dir() == answer_equivalence.REPO_ROOT / ".newsdesk" / "encoders"
    assert settings.resolved_encoder_cache_dir() != tmp_path / ".newsdesk" / "encoders"
    assert settings.document_backend == "auto" and settings.index_dir.is_relative_to(answer_equivalence.WORK)
