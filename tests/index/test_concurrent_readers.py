"""Readers during a rebuild: while one process rebuilds the index, another keeps answering from the
previous generation, then picks up the new one through the atomic CURRENT swap; no question fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.builder import open_index
from index.newsdesk import Newsdesk
from index.settings import BUNDLED_CORPUS, load_settings
from tests.index.test_crash_safety import QUESTION, cli_env, lock_is_held
from tests.reuters_corpus import reuters_stories, synthetic_stories, write_jsonl_corpus

# Enough new stories that the rebuild takes a few seconds, so many questions fall inside it.
NEW_STORIES = 30
# A pause between questions, so the reader does not starve the writer of the machine's two cores.
PAUSE_S = 0.3


@pytest.mark.slow
def test_a_reader_keeps_answering_through_a_rebuild_in_another_process(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    settings = load_settings({"corpus_dir": corpus, "index_dir": index_dir, "show_progress": False}, env={})
    old, _ = open_index(settings, embedder)
    stories = reuters_stories(NEW_STORIES) or synthetic_stories(NEW_STORIES)
    write_jsonl_corpus(corpus, stories)  # the corpus changed: the old index is stale from now on

    writer = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "index", "--rebuild", "--corpus", str(corpus), "--index-dir", str(index_dir)],
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
        stored, report = open_index(settings, embedder)
        assert not report.wrote, "a reader must never build while another process does"
        answer = Newsdesk(settings, embedder, stored, report).ask(QUESTION)
        assert not answer.abstained and "850" in answer.text and answer.citations
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
    assert {s.id for s in stories[:5]} <= set(open_index(settings, embedder)[0].articles)
