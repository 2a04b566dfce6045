"""Done-when check of issue 13, as a user runs it: a piped `newsdesk repl` that is already running answers
from an article dropped into its corpus folder within 30 s, and stops citing it once the file is removed."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from index.settings import BUNDLED_CORPUS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "articles"
NEW_ARTICLE = FIXTURES / "markdown" / "jekyll-post-odd-date.md"
QUESTION = "Why is the Rathlin Island ferry out of service?"
ARTICLE_ID = "jekyll-post-odd-date"
LIMIT_S = 30.0


class PipedRepl:
    """A `newsdesk repl` process fed one question at a time, in its JSON mode (one answer a line)."""

    def __init__(self, corpus: Path, cwd: Path) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HF_HUB_OFFLINE": "1", "HOME": str(cwd),
               "PYTHONPATH": str(BUNDLED_CORPUS.parent)}  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "repl", "--corpus", str(corpus)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self.process.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.process.stderr, self.stderr.append), daemon=True).start()

    @staticmethod
    def _pump(stream: object, sink: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            sink(line)  # type: ignore[operator]

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def cited(self, question: str, timeout: float = 240) -> set[str]:
        """The article ids the answer to ``question`` cites."""
        self.send(question)
        answer = json.loads(self.lines.get(timeout=timeout))
        return {c["doc_id"] for c in answer["citations"]}

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def until_cited(repl: PipedRepl, cited: bool) -> float:
    started = time.monotonic()
    while (ARTICLE_ID in repl.cited(QUESTION)) != cited:
        if time.monotonic() - started > LIMIT_S:
            pytest.fail(f"the REPL still {'did not cite' if cited else 'cited'} the article after {LIMIT_S:.0f} s")
        time.sleep(0.5)
    return time.monotonic() - started


@pytest.mark.slow
@pytest.mark.model  # a new process loads the model
def test_a_running_piped_repl_sees_a_dropped_article_and_forgets_a_removed_one(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    repl = PipedRepl(corpus, tmp_path)
    try:
        repl.send(":json")
        assert ARTICLE_ID not in repl.cited(QUESTION)  # the first answer waits for the start-up build
        shutil.copyfile(NEW_ARTICLE, corpus / NEW_ARTICLE.name)
        added_s = until_cited(repl, cited=True)
        (corpus / NEW_ARTICLE.name).unlink()
        removed_s = until_cited(repl, cited=False)
        # The update's line is written just after the switch: give it a moment before the REPL exits.
        deadline = time.monotonic() + 10
        while "1 removed" not in "".join(repl.stderr) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        repl.close()
    log = "".join(repl.stderr)
    assert "corpus changed (1 added)" in log and "corpus changed (1 removed)" in log, log
    assert "Traceback" not in log
    print(
        f"\nwatch latency (piped REPL process): cited {added_s:.1f} s after the file was dropped, "
        f"no longer cited {removed_s:.1f} s after it was removed"
    )
