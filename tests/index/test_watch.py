"""A corpus that stays fresh while Newsdesk serves: the watcher sees added, changed and removed article files,
a refresh switches generations between questions, and a running chat core answers from a new article within
30 s of the file appearing (and stops citing it once it is removed)."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.chat import ChatCore
from index.newsdesk import Newsdesk
from index.store import build_lock
from index.watch import CorpusChange, CorpusWatcher

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "articles"
NEW_ARTICLE = FIXTURES / "html" / "rovers-weekly-wordpress.html"
QUESTION = "How many supporters had paid to watch the County Senior Cup final at Meadow Lane?"
LATENCY_LIMIT_S = 30.0


def wait_for(condition: Callable[[], bool], timeout: float, every: float = 0.2) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout:.0f} s")
        time.sleep(every)
    return time.monotonic() - started


def test_the_watcher_reports_article_files_and_ignores_the_rest(tmp_path: Path) -> None:
    seen: list[CorpusChange] = []
    with CorpusWatcher(tmp_path, seen.append, settle_ms=100):
        (tmp_path / "new.txt").write_text("A story.")
        (tmp_path / ".hidden.txt").write_text("An editor's swap file.")
        (tmp_path / "notes.pdf").write_bytes(b"%PDF")
        wait_for(lambda: bool(seen), timeout=10)
        (tmp_path / "new.txt").unlink()
        wait_for(lambda: any(c.deleted for c in seen), timeout=10)
    added = {p for c in seen for p in c.added + c.modified}
    assert added == {"new.txt"}
    assert any(c.deleted == ("new.txt",) for c in seen)


def test_a_failing_refresh_is_logged_and_the_watch_goes_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    calls: list[CorpusChange] = []

    def refresh(change: CorpusChange) -> None:
        calls.append(change)
        if len(calls) == 1:
            raise OSError("disk full")

    with caplog.at_level(logging.WARNING), CorpusWatcher(tmp_path, refresh, settle_ms=100):
        (tmp_path / "a.md").write_text("First.")
        wait_for(lambda: len(calls) == 1, timeout=10)
        time.sleep(0.3)
        (tmp_path / "b.md").write_text("Second.")
        wait_for(lambda: len(calls) == 2, timeout=10)
    assert "still answering from the previous index" in caplog.text


def test_a_second_builder_says_at_once_whom_it_waits_for(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    index_dir = tmp_path / "index"
    released = threading.Event()

    def second() -> None:
        with build_lock(index_dir, wait=True):
            released.set()

    with caplog.at_level(logging.WARNING, logger="newsdesk.store"), build_lock(index_dir, wait=True):
        waiter = threading.Thread(target=second)
        waiter.start()
        wait_for(lambda: "waiting for the index lock" in caplog.text, timeout=5, every=0.05)
        assert not released.is_set()
    waiter.join(5)
    assert released.is_set()
    message = next(r.getMessage() for r in caplog.records if "waiting for the index lock" in r.getMessage())
    import os
    import socket

    assert f"pid {os.getpid()} on {socket.gethostname()}" in message and " since " in message


def test_a_running_chat_core_answers_from_a_dropped_article_and_forgets_a_removed_one(
    news_copy: Path,
    make_news_desk: Callable[..., Newsdesk],
    capsys: pytest.CaptureFixture[str],
) -> None:
    desk = make_news_desk(news_copy, watch_settle_ms=300)  # refreshes embed with the fake embedder too
    core = ChatCore(desk)

    def cited() -> set[str]:
        reply = core.reply(QUESTION)
        assert reply.answer is not None
        return {c.doc_id for c in reply.answer.citations}

    assert "rovers-weekly-wordpress" not in cited()
    updates: list[str] = []
    watcher = desk.watch(lambda report, change: updates.append(change.summary()))
    try:
        dropped = time.monotonic()
        shutil.copyfile(NEW_ARTICLE, news_copy / NEW_ARTICLE.name)
        added_after = wait_for(lambda: "rovers-weekly-wordpress" in cited(), timeout=LATENCY_LIMIT_S, every=0.5)
        reply = core.reply(QUESTION)
        assert reply.answer is not None and reply.answer.citations[0].doc_id == "rovers-weekly-wordpress"
        assert "Meadow Lane" in reply.answer.citations[0].passage
        (news_copy / NEW_ARTICLE.name).unlink()
        removed_after = wait_for(lambda: "rovers-weekly-wordpress" not in cited(), timeout=LATENCY_LIMIT_S, every=0.5)
    finally:
        watcher.stop()
    assert updates[0] == "1 added" and updates[-1] == "1 removed"
    with capsys.disabled():
        print(
            f"\nwatch latency (chat core, in process): answerable {added_after:.1f} s after the file was dropped "
            f"({time.monotonic() - dropped:.0f} s in all); forgotten {removed_after:.1f} s after removal"
        )
