"""Watch latency: how long after an article file lands in (or leaves) the corpus folder a running Newsdesk
answers from the new index, and what the questions asked meanwhile cost.

    python -m tests.bench.watch_latency [--runs N]

A Newsdesk over a copy of the bundled corpus watches its folder (as `newsdesk repl` and `newsdesk discord`
do). For each fixture file (one per kind: HTML, wire copy, markdown, plain text, JSONL) it is copied in,
and questions are asked back to back until the desk serves the generation that holds it; then it is
removed and the same is timed until the article is gone. Prints one row per file and a summary (median and
worst), and the question latency while no update runs against while one does: answers never wait on a
rebuild, they share the CPU with it. Writes reports/watch_latency.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from index.newsdesk import Newsdesk
from index.settings import BUNDLED_CORPUS, load_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "articles"
FILES = [
    FIXTURES / "html" / "rovers-weekly-wordpress.html",
    FIXTURES / "wire" / "reuters-opec-output.txt",
    FIXTURES / "markdown" / "hugo-front-matter-river.md",
    FIXTURES / "text" / "no-headline-council.txt",
    FIXTURES / "jsonl" / "usatoday-odd-dates.jsonl",
]
QUESTION = "How many German troops will be deployed to Afghanistan?"
TIMEOUT_S = 120.0


def served(desk: Newsdesk, name: str) -> bool:
    return any(a.source_path.split(":")[0] == name for a in desk.sources())


def until(desk: Newsdesk, condition: bool, name: str, asks_ms: list[float]) -> float:
    started = time.monotonic()
    while served(desk, name) != condition:
        if time.monotonic() - started > TIMEOUT_S:
            raise SystemExit(f"{name}: not {'served' if condition else 'gone'} after {TIMEOUT_S:.0f} s")
        t = time.perf_counter()
        desk.ask(QUESTION)
        asks_ms.append((time.perf_counter() - t) * 1000)
    return time.monotonic() - started


def _stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "max": max(values), "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="passes over the five files")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="watch-bench-"))
    try:
        corpus = work / "corpus"
        shutil.copytree(BUNDLED_CORPUS, corpus)
        settings = load_settings({"corpus_dir": corpus, "index_dir": work / "index", "show_progress": False}, env={})
        desk = Newsdesk.open(settings)
        idle_ms = []
        for _ in range(20):
            t = time.perf_counter()
            desk.ask(QUESTION)
            idle_ms.append((time.perf_counter() - t) * 1000)
        watcher = desk.watch()
        rows: list[dict[str, str | float]] = []
        added_s: list[float] = []
        removed_s: list[float] = []
        busy_ms: list[float] = []
        try:
            for _ in range(args.runs):
                for source in FILES:
                    shutil.copyfile(source, corpus / source.name)
                    added = until(desk, True, source.name, busy_ms)
                    (corpus / source.name).unlink()
                    removed = until(desk, False, source.name, busy_ms)
                    added_s.append(added)
                    removed_s.append(removed)
                    rows.append({"file": f"{source.parent.name}/{source.name}", "added_s": added, "removed_s": removed})
                    print(
                        f"{rows[-1]['file']:45s} served {added:5.1f} s after it was written, "
                        f"gone {removed:5.1f} s after removal"
                    )
        finally:
            watcher.stop()
        summary = {
            "added_s": _stats(added_s),
            "removed_s": _stats(removed_s),
            "ask_ms_idle": _stats(idle_ms),
            "ask_ms_during_updates": _stats(busy_ms),
        }
        added_stats, removed_stats = summary["added_s"], summary["removed_s"]
        idle, busy = summary["ask_ms_idle"], summary["ask_ms_during_updates"]
        print(
            f"\nadded: median {added_stats['median']:.1f} s, worst {added_stats['max']:.1f} s; "
            f"removed: median {removed_stats['median']:.1f} s, worst {removed_stats['max']:.1f} s"
        )
        print(
            f"question latency: idle median {idle['median']:.0f} ms; while updating median {busy['median']:.0f} ms, "
            f"worst {busy['max']:.0f} ms ({busy['n']:.0f} questions)"
        )
        out = Path("reports") / "watch_latency.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps({"rows": rows, "summary": summary}, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
