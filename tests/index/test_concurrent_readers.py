"""Readers during a rebuild: while one process rebuilds the index, another keeps answering from the
previous generation, then picks up the new one through the atomic CURRENT swap; no question fails.
Writer and reader embed with the fake (the writer paced, so that its rebuild lasts seconds whatever the
machine's load, without loading a model): what is tested is the index's generations and lock."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.builder import open_index
from tests.conftest import NEWS_DIR, FakeDesk, fake_settings
from tests.index.test_crash_safety import cli_env, lock_is_held
from tests.reuters_corpus import reuters_stories, synthetic_stories, write_jsonl_corpus

QUESTION = "How many vehicles crossed the bridge on its first day?"
# New stories and the writer's pace: a rebuild of about 1,500 texts at 4 ms each, so many questions fall inside it.
NEW_STORIES = 30
PACE_S = 0.004
# A pause between questions, so the reader does not starve the writer of the machine's two cores.
PAUSE_S = 0.3


@pytest.mark.slow
def test_a_reader_keeps_answering_through_a_rebuild_in_another_process(tmp_path: Path, fake_embedder) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(NEWS_DIR, corpus)
    settings = fake_settings(corpus, index_dir)
    old, _ = open_index(settings, fake_embedder)
    stories = reuters_stories(NEW_STORIES) or synthetic_stories(NEW_STORIES)
    write_jsonl_corpus(corpus, stories)  # the corpus changed: the old index is stale from now on

    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_embedder", str(corpus), str(index_dir), str(PACE_S)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=cli_env(),
    )
    deadline = time.monotonic() + 120
    while not lock_is_held(index_dir):
        assert writer.poll() is None, writer.stderr.read().decode() if writer.stderr else ""
        assert time.monotonic() < deadline, "the rebuild never started"
        time.sleep(0.02)

    # The reader does what every `newsdesk ask` does: open the index for this corpus, then ask.
    served: list[tuple[str, bool]] = []  # (generation answered from, was the writer still running)
    after_writer = 0
    while after_writer < 3:
        running = writer.poll() is None
        stored, report = open_index(settings, fake_embedder)
        assert not report.wrote, "a reader must never build while another process does"
        answer = FakeDesk(settings, fake_embedder, stored, report).ask(QUESTION)
        assert not answer.abstained and "15,000" in answer.text and answer.citations
        served.append((stored.path.name, running))
        after_writer += 0 if running else 1
        time.sleep(PAUSE_S)
        assert time.monotonic() < deadline + 300, "the rebuild did not finish"

    mid_rebuild = sum(1 for _, running in served if running)
    print(f"{len(served)} questions answered, {mid_rebuild} while the rebuild ran; none failed")
    assert writer.returncode == 0, writer.stderr.read().decode() if writer.stderr else ""
    generations = [name for name, _ in served]
    new = generations[-1]
    assert new != old.path.name
    assert any(name == old.path.name and running for name, running in served), "no question was answered mid-rebuild"
    # Old until the swap, new after it, and never back.
    first_new = generations.index(new)
    assert set(generations[:first_new]) == {old.path.name} and set(generations[first_new:]) == {new}
    assert {s.id for s in stories[:5]} <= set(open_index(settings, fake_embedder)[0].articles)
