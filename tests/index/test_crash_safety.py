"""Crash safety of the index: a build killed at any moment never costs the previous index, and a damaged
index file is detected on open and reported in one line that offers the rebuild, never served."""

from __future__ import annotations

import fcntl
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.builder import open_index
from index.errors import IndexUnusableError
from index.newsdesk import Newsdesk
from index.settings import BUNDLED_CORPUS, Settings, load_settings
from index.store import ANN_NAME, CURRENT_NAME, DATA_FILES, MANIFEST_DIGEST_NAME, MANIFEST_NAME, read_index
from tests.reuters_corpus import reuters_stories, synthetic_stories, write_jsonl_corpus

REPO_ROOT = Path(__file__).resolve().parents[2]
QUESTION = "How many German troops will be deployed to Afghanistan?"
# Enough stories that the paced build (10 ms a text) lasts far longer than the second before the kill.
BIG_CORPUS_STORIES = 150


def cli_env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}


def newsdesk_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=400, env=cli_env()
    )


def settings_for(corpus: Path, index_dir: Path) -> Settings:
    return load_settings({"corpus_dir": corpus, "index_dir": index_dir, "show_progress": False}, env={})


def assert_answers_from_news(desk: Newsdesk) -> None:
    answer = desk.ask("How many vehicles crossed the bridge on its first day?")
    assert not answer.abstained and "15,000" in answer.text
    assert answer.citations and answer.citations[0].doc_id == "bridge-opens"


def lock_is_held(index_dir: Path) -> bool:
    lock = index_dir / ".lock"
    if not lock.exists():
        return False
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


@pytest.mark.slow
def test_sigkill_mid_rebuild_keeps_the_previous_index_and_the_next_build_completes(
    tmp_path: Path, fake_embedder
) -> None:
    # The writer rebuilds with the paced fake embedder (tests/fake_embedder.py), so it is surely still
    # embedding when killed, on an idle machine or a loaded one; the survivor is read with the fake too.
    from tests.conftest import NEWS_DIR, FakeDesk, fake_settings

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(NEWS_DIR, corpus)
    settings = fake_settings(corpus, index_dir)
    before, _ = open_index(settings, fake_embedder)
    stories = reuters_stories(BIG_CORPUS_STORIES) or synthetic_stories(BIG_CORPUS_STORIES)
    write_jsonl_corpus(corpus, stories)

    build = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_embedder", str(corpus), str(index_dir), "0.01"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=cli_env(),
    )
    deadline = time.monotonic() + 120
    while not lock_is_held(index_dir):  # the build holds the lock from corpus loading to the CURRENT swap
        assert build.poll() is None, build.stderr.read().decode() if build.stderr else ""
        assert time.monotonic() < deadline, "the build never started"
        time.sleep(0.05)
    time.sleep(1.0)  # well into loading, chunking and embedding
    assert build.poll() is None, "the build finished before it could be killed: make the corpus bigger"
    build.send_signal(signal.SIGKILL)
    assert build.wait(timeout=30) == -signal.SIGKILL

    survivor = read_index(index_dir)
    assert survivor is not None and survivor.path == before.path
    assert survivor.manifest.files == before.manifest.files and set(survivor.articles) == set(before.articles)
    assert_answers_from_news(FakeDesk(settings, fake_embedder, survivor, _report()))

    after, report = open_index(settings, fake_embedder)
    assert report.wrote and set(after.articles) >= {s.id for s in stories[:10]} | set(before.articles)
    assert not list(index_dir.glob("tmp-*")), "the killed build's staging folder was not cleaned up"
    assert_answers_from_news(FakeDesk(settings, fake_embedder, after, report))


# Kill points inside write_index, as a driver script run in a real process that SIGKILLs itself.
_KILL_DRIVER = """
import os, signal, sys
from pathlib import Path
from index import store
from index.builder import open_index
from index.settings import load_settings
from tests.fake_embedder import MODEL_ID, HashingEmbedder

point = sys.argv[3]
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
if point == "while-writing-chunks":
    real = store._write_jsonl
    def write_then_die(path, rows):
        if path.name == store.CHUNKS_NAME:
            with open(path, "w") as handle:
                handle.write('{"half a line')
            die()
        real(path, rows)
    store._write_jsonl = write_then_die
else:  # between the rename of the new generation into place and the CURRENT swap
    store._replace_text = die
values = {"corpus_dir": Path(sys.argv[1]), "index_dir": Path(sys.argv[2]), "show_progress": False, "model": MODEL_ID}
settings = load_settings(values, env={})
open_index(settings, HashingEmbedder())
"""


@pytest.mark.parametrize("kill_point", ["while-writing-chunks", "after-rename-before-current-swap"])
def test_sigkill_while_writing_a_generation_is_harmless(tmp_path: Path, fake_embedder, kill_point: str) -> None:
    # On the made-up articles and the fake embedder, in the test and in the killed process alike.
    from tests.conftest import NEWS_DIR, FakeDesk, fake_settings

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(NEWS_DIR, corpus)
    settings = fake_settings(corpus, index_dir)
    before, _ = open_index(settings, fake_embedder)
    (corpus / "extra.txt").write_text("Bridge opens. The new bridge over the fjord opened in Oslo on Monday.\n")

    killed = subprocess.run(
        [sys.executable, "-c", _KILL_DRIVER, str(corpus), str(index_dir), kill_point],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=cli_env(),
        timeout=400,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    survivor = read_index(index_dir)
    assert survivor is not None and survivor.path == before.path and "extra" not in survivor.articles
    assert_answers_from_news(FakeDesk(settings, fake_embedder, survivor, _report()))

    after, report = open_index(settings, fake_embedder)
    assert report.added == ["extra"] and "extra" in after.articles
    assert_answers_from_news(FakeDesk(settings, fake_embedder, after, report))
    assert not list(index_dir.glob("tmp-*"))
    # Kept: the new live generation and the one live just before it (a reader may still be opening it);
    # a generation orphaned by the crash is not kept in its place.
    assert {p.name for p in index_dir.glob("gen-*")} == {after.path.name, before.path.name}


@pytest.fixture(scope="module")
def built_news_index(tmp_path_factory: pytest.TempPathFactory, fake_embedder) -> Path:
    """An index of the made-up articles on the fake embedder: what a damaged file does to any index."""
    from tests.conftest import NEWS_DIR, fake_settings

    index_dir = tmp_path_factory.mktemp("pristine-news") / "index"
    open_index(fake_settings(NEWS_DIR, index_dir), fake_embedder)
    return index_dir


@pytest.fixture(scope="module")
def built_seed_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    index_dir = tmp_path_factory.mktemp("pristine") / "index"
    open_index(settings_for(BUNDLED_CORPUS, index_dir), embedder)
    return index_dir


def damage(file: Path, how: str) -> None:
    data = bytearray(file.read_bytes())
    if how == "truncated":
        file.write_bytes(bytes(data[: len(data) // 2]))
    else:
        data[len(data) // 2] ^= 0xFF
        file.write_bytes(bytes(data))


EVERY_INDEX_FILE = [*DATA_FILES, MANIFEST_NAME, MANIFEST_DIGEST_NAME, CURRENT_NAME]


@pytest.mark.parametrize("how", ["truncated", "byte-flipped"])
@pytest.mark.parametrize("name", EVERY_INDEX_FILE)
def test_a_damaged_index_file_is_reported_in_one_line_offering_the_rebuild(
    tmp_path: Path, built_news_index: Path, fake_embedder, name: str, how: str
) -> None:
    from tests.conftest import NEWS_DIR, fake_settings

    index_dir = tmp_path / "index"
    shutil.copytree(built_news_index, index_dir)
    generation = index_dir / (index_dir / CURRENT_NAME).read_text().strip()
    damage(index_dir / name if name == CURRENT_NAME else generation / name, how)

    with pytest.raises(IndexUnusableError) as raised:
        read_index(index_dir)
    message = str(raised.value)
    assert "\n" not in message and f"'newsdesk index --rebuild --index-dir {index_dir}'" in message
    # Opening for questions (corpus unchanged) must not serve it either, nor throw it away unasked.
    with pytest.raises(IndexUnusableError):
        open_index(fake_settings(NEWS_DIR, index_dir), fake_embedder)
    if how == "truncated":  # and the rebuild the message offers works over it (once per file is enough)
        stored, report = open_index(fake_settings(NEWS_DIR, index_dir), fake_embedder, rebuild=True)
        assert report.rebuilt and read_index(index_dir) is not None and stored.ann.ntotal == len(stored.chunks)


@pytest.mark.slow
def test_the_cli_reports_a_damaged_index_and_the_offered_command_repairs_it(
    tmp_path: Path, built_seed_index: Path
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(built_seed_index, index_dir)
    generation = index_dir / (index_dir / CURRENT_NAME).read_text().strip()
    damage(generation / ANN_NAME, "byte-flipped")

    asked = newsdesk_cli("ask", QUESTION, "--corpus", str(BUNDLED_CORPUS), "--index-dir", str(index_dir), cwd=tmp_path)
    assert asked.returncode == 2 and asked.stdout == ""
    assert "Traceback" not in asked.stderr and len(asked.stderr.strip().splitlines()) == 1
    offered = re.search(r"'(newsdesk index --rebuild[^']*)'", asked.stderr)
    assert offered, asked.stderr
    repaired = newsdesk_cli(*offered.group(1).split()[1:], "--corpus", str(BUNDLED_CORPUS), cwd=tmp_path)
    assert repaired.returncode == 0, repaired.stderr
    assert read_index(index_dir) is not None


def _report():
    from index.builder import BuildReport

    return BuildReport()
