"""Cold start and memory: whole processes, as a user runs them, on an index that already exists.

* ``newsdesk ask`` wall time, median of 5 fresh processes; ``--help`` and ``sources`` likewise.
* Where the time goes: a fresh interpreter timing its own imports, ``Newsdesk.open`` (index load),
  the first question (query encoder start-up included) and a second one; and whether PyTorch was
  imported at all.
* The Discord bot's start-up: from process start to its "model and index loaded" log line, after
  which it only connects (there is no network here, so the handshake itself is not timed).
* Peak resident memory (the process's own ``ru_maxrss``) of ``newsdesk ask`` and of a serving process
  that keeps a desk open and answers questions, as a bot does.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

from tests.bench.machine import NEWSDESK_BIN, peak_rss_of, run_child

RUNS = 5

_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
from index.newsdesk import Newsdesk
from index.settings import load_settings
import bot.cli
t1 = time.perf_counter()
desk = Newsdesk.open(load_settings({"corpus_dir": sys.argv[1], "index_dir": sys.argv[2], "show_progress": False}))
t2 = time.perf_counter()
desk.ask(sys.argv[3])
t3 = time.perf_counter()
desk.ask(sys.argv[3] + " again")
t4 = time.perf_counter()
print(json.dumps({"imports_s": t1 - t0, "open_index_s": t2 - t1, "first_ask_s": t3 - t2,
                  "second_ask_s": t4 - t3, "torch_imported": "torch" in sys.modules,
                  "sentence_transformers_imported": "sentence_transformers" in sys.modules,
                  "query_encoder": type(desk.embedder).__name__}))
"""

_SERVE = r"""
import sys
from index.newsdesk import Newsdesk
from index.settings import load_settings
desk = Newsdesk.open(load_settings({"corpus_dir": sys.argv[1], "index_dir": sys.argv[2], "show_progress": False}))
questions = [line for line in open(sys.argv[3], encoding="utf-8").read().splitlines() if line]
for q in questions:
    desk.ask(q)
print(len(questions))
"""


def _median_wall(args: list[str]) -> dict[str, Any]:
    runs = [run_child(args) for _ in range(RUNS)]
    failed = [r for r in runs if r.returncode != 0]
    if failed:
        return {"error": failed[0].stderr.strip().splitlines()[-1:] or ["failed"]}
    times = sorted(r.seconds for r in runs)
    return {"median_s": round(statistics.median(times), 3), "min_s": round(times[0], 3), "runs_s": times}


def measure_cold_start(corpus: Path, index_dir: Path, question: str) -> dict[str, Any]:
    base = [str(NEWSDESK_BIN)]
    where = ["--corpus", str(corpus), "--index-dir", str(index_dir)]
    out: dict[str, Any] = {
        "ask": _median_wall([*base, "ask", *where, "--", question]),
        "help": _median_wall([*base, "--help"]),
        "sources": _median_wall([*base, "sources", *where]),
        "discord_bot": measure_bot_start_up(corpus, index_dir),
    }
    probe = run_child([sys.executable, "-c", _PROBE, str(corpus), str(index_dir), question])
    out["breakdown"] = json.loads(probe.stdout) if probe.returncode == 0 else {"error": probe.stderr[-500:]}
    return out


READY_LINE = "model and index loaded"


def bot_start_up(corpus: Path, index_dir: Path) -> float | None:
    """Seconds from spawning ``newsdesk discord`` to its ready-to-connect log line (None: never came)."""
    import subprocess
    import time

    from tests.bench.machine import REPO_ROOT, child_env

    env = child_env() | {"DISCORD_TOKEN": "benchmark-token-not-real", "NEWSDESK_CORPUS_DIR": str(corpus),
                         "NEWSDESK_INDEX_DIR": str(index_dir)}  # fmt: skip
    started = time.perf_counter()
    with subprocess.Popen(
        [str(NEWSDESK_BIN), "discord"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
        cwd=REPO_ROOT,
    ) as process:  # fmt: skip
        assert process.stderr is not None
        for line in process.stderr:
            if READY_LINE in line:
                seconds = time.perf_counter() - started
                process.kill()
                return seconds
        process.wait()
    return None


def measure_bot_start_up(corpus: Path, index_dir: Path) -> dict[str, Any]:
    times = [t for t in (bot_start_up(corpus, index_dir) for _ in range(RUNS)) if t is not None]
    if not times:
        return {"error": "the bot never logged that it was ready"}
    times.sort()
    return {"median_s": round(statistics.median(times), 3), "min_s": round(times[0], 3), "runs_s": times}


def measure_memory(corpus: Path, index_dir: Path, questions: list[str], scratch: Path) -> dict[str, Any]:
    ask = peak_rss_of(
        [str(NEWSDESK_BIN), "ask", "--corpus", str(corpus), "--index-dir", str(index_dir), "--", questions[0]]
    )
    listing = scratch / "serve-questions.txt"
    listing.write_text("\n".join(questions), encoding="utf-8")
    serve = peak_rss_of([sys.executable, "-c", _SERVE, str(corpus), str(index_dir), str(listing)])
    return {
        "ask_peak_rss_mb": ask.peak_rss_mb if ask.returncode == 0 else None,
        "serving_peak_rss_mb": serve.peak_rss_mb if serve.returncode == 0 else None,
        "serving_questions": len(questions),
    }
