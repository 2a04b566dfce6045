"""Keep a served index in line with its corpus folder: watch the folder, rebuild in the background.

:class:`CorpusWatcher` runs one daemon thread. watchfiles (inotify on Linux, polling elsewhere) reports
added, changed and removed article files; once the folder has been quiet for ``settle_ms`` the watcher
calls ``refresh`` (``Newsdesk.refresh``: an incremental update that embeds only what changed, then an
atomic switch to the new generation). Questions keep being answered from the previous generation while
that runs, so an answer never waits on a rebuild. A refresh that fails (a corpus left empty, a full
disk) is logged and the previous index keeps serving; the next change tries again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.loading import SUPPORTED_SUFFIXES

log = logging.getLogger("newsdesk.watch")


@dataclass(frozen=True)
class CorpusChange:
    """What the watcher saw before one refresh (paths relative to the corpus folder)."""

    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    seen_at: float = field(default_factory=time.monotonic)  # when the first of these changes was reported

    def summary(self) -> str:
        kinds = (("added", self.added), ("changed", self.modified), ("removed", self.deleted))
        parts = [f"{len(paths)} {kind}" for kind, paths in kinds if paths]
        return ", ".join(parts) or "no article files"


class CorpusWatcher:
    """Calls ``refresh(change)`` in a background thread whenever article files under ``corpus_dir`` change.

    >>> watcher = CorpusWatcher(Path("corpus"), lambda change: print(change.summary()))
    >>> watcher.start(); ...; watcher.stop()
    """

    def __init__(
        self,
        corpus_dir: Path,
        refresh: Callable[[CorpusChange], Any],
        settle_ms: int = 300,
        force_polling: bool | None = None,
    ) -> None:
        self.corpus_dir = corpus_dir.resolve()
        self._refresh = refresh
        self._settle_ms = settle_ms
        self._force_polling = force_polling
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> CorpusWatcher:
        """Start watching; returns once the watch is in place, so a file written after this is seen."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="newsdesk-watch", daemon=True)
            self._thread.start()
            self._ready.wait(timeout=10)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching (a refresh that is running finishes first, up to ``timeout`` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> CorpusWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        from watchfiles import Change, watch

        kinds = {Change.added: "added", Change.modified: "modified", Change.deleted: "deleted"}
        self._ready.set()
        try:
            for changes in watch(
                self.corpus_dir,
                watch_filter=self._is_article_file,
                step=self._settle_ms,
                stop_event=self._stop,
                rust_timeout=1000,
                yield_on_timeout=False,
                raise_interrupt=False,
                force_polling=self._force_polling,
            ):
                seen_at = time.monotonic()
                grouped: dict[str, set[str]] = {"added": set(), "modified": set(), "deleted": set()}
                for kind, path in changes:
                    grouped[kinds[kind]].add(str(Path(path).relative_to(self.corpus_dir)))
                change = CorpusChange(
                    tuple(sorted(grouped["added"])), tuple(sorted(grouped["modified"])),
                    tuple(sorted(grouped["deleted"])), seen_at,
                )  # fmt: skip
                self._refresh_safely(change)
        except Exception:  # noqa: BLE001 - a broken watch must not take the front end down with it
            log.exception("watching %s stopped; restart Newsdesk to pick up new articles", self.corpus_dir)

    def _refresh_safely(self, change: CorpusChange) -> None:
        try:
            self._refresh(change)
        except Exception as err:  # noqa: BLE001 - keep serving the previous index, try again on the next change
            log.warning(
                "could not update the index after %s (%s); still answering from the previous index",
                change.summary(),
                err,
            )

    def _is_article_file(self, _change: object, path: str) -> bool:
        try:
            relative = Path(path).relative_to(self.corpus_dir)
        except ValueError:
            return False
        if any(part.startswith(".") for part in relative.parts):
            return False  # hidden files, editors' swap files, an index folder kept inside the corpus
        return Path(path).suffix.lower() in SUPPORTED_SUFFIXES


def update_message(report: Any, change: CorpusChange) -> str:
    """One line for a log or a terminal after a refresh: what changed and what the index did about it."""
    latency = time.monotonic() - change.seen_at
    return f"corpus changed ({change.summary()}): {report.summary()}; live {latency:.1f} s after the change was seen"
