"""Same answers, bit for bit: the answer stage's features and answers of two versions of the code.

Speed-ups of the answer stage (issue 14) must leave every feature value of every candidate sentence,
every sentence probability and every answer exactly as they were: the answer model is trained on those
features (issue 12). This records, for each question of three collections, what ``Newsdesk.ask``
computes on the way (the ranked candidates and the float32 feature matrix handed to the answer model,
the unrounded answer probability) and the answer itself (``Answer.to_json`` without timings), then
compares two records for equality: not approximately, byte for byte.

Collections (indexes built once under ``.newsdesk/bench/equivalence``, fast path settings; the
answer stage does not depend on how the vectors were made, and both sides read the same files):
the bundled corpus with the question sets of ``tests/questions``, xquad-en (every paragraph an
article) with its first ``--xquad`` questions, and the first ``--stories`` Reuters stories with
``--headlines`` "What about ...?" headline questions.

    python -m tests.bench.answer_equivalence --old-tree /tmp/old-16bb0fd   # old code vs this tree
    python -m tests.bench.answer_equivalence --record before.json          # one side only
    python -m tests.bench.answer_equivalence --against before.json         # this tree vs a record

``--old-tree DIR``: a checkout of the older commit (``git worktree add --detach DIR COMMIT``); its
record is made in a child process whose ``index`` package is DIR's (checked), after this tree has
built or opened the indexes, so both read the same files. That needs an older tree that can read this
tree's index format; when it cannot (16bb0fd cannot read a manifest written by later code), run
``--record FILE`` in the old tree (on indexes it builds itself) and ``--against FILE`` here. Exit code 1
on any difference, with the first few listed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
WORK = REPO_ROOT / ".newsdesk" / "bench" / "equivalence"
# Both sides load the encoder from this tree's cache. The old tree's child runs in that tree's folder, where the
# default cache (under ./.newsdesk) holds no conversion: its questions then went through another runtime and
# every answer "differed" for a reason that was not the change.
ENCODERS = REPO_ROOT / ".newsdesk" / "encoders"
FAST = {"document_backend": "auto", "sentence_vectors": "pooled"}
# Shown per difference: enough to see which feature moved without drowning the report.
SHOW = 8


def question_sets(xquad: int, stories: int, headlines: int) -> dict[str, tuple[Path, list[str]]]:
    """Collection name -> (corpus folder, questions). Writes the corpora that need writing."""
    import yaml

    from index.settings import BUNDLED_CORPUS
    from tests.bench import reuters
    from tests.bench.datasets import data_root, load_xquad

    sets: dict[str, tuple[Path, list[str]]] = {}
    seed: list[str] = []
    for path in sorted((REPO_ROOT / "tests" / "questions").glob("*.y*ml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = data.get("questions", []) if isinstance(data, dict) else data or []
        seed += [str(i["question"]) for i in items if isinstance(i, dict) and i.get("question")]
    sets["seed"] = (BUNDLED_CORPUS, seed)
    root = data_root()
    if xquad and (root / "xquad-en").is_dir():
        collection = load_xquad(root)
        folder = collection.write_corpus(WORK / "xquad" / "corpus")
        sets["xquad"] = (folder, [q.question for q in collection.queries[:xquad]])
    if stories and (root / "reuters21578").is_dir():
        chosen = reuters.load_stories(root)[:stories]
        folder = WORK / "reuters" / "corpus"
        if not (folder / "reuters.jsonl").is_file():
            reuters.write_corpus(chosen, folder)
        sets["reuters"] = (folder, reuters.headline_questions(chosen, headlines))
    return sets


def index_dir(name: str) -> Path:
    return WORK / name / "index"


def desk_settings(corpus: Path, name: str) -> Any:
    """The settings both sides answer with (the old tree's ``Settings`` may predate ``encoder_cache_dir``)."""
    from index.settings import Settings, load_settings

    values: dict[str, Any] = {"corpus_dir": corpus, "index_dir": index_dir(name), "show_progress": False} | FAST
    if "encoder_cache_dir" in getattr(Settings, "__dataclass_fields__", {}):
        values["encoder_cache_dir"] = ENCODERS
    return load_settings(values, env={})


def open_desk(corpus: Path, name: str) -> Any:
    from index.newsdesk import Newsdesk

    return Newsdesk.open(desk_settings(corpus, name))


def record(sets: dict[str, tuple[Path, list[str]]]) -> dict[str, Any]:
    """What the answer stage computes for every question, keyed by collection and question number."""
    import index
    import index.answering as answering

    captured: dict[str, Any] = {}
    features_of: Callable[..., np.ndarray] = answering.candidate_features
    rate: Callable[..., float] = answering.rate

    def recording_features(analysis: Any, evidence: Any, stored: Any) -> np.ndarray:
        rows = features_of(analysis, evidence, stored)
        captured["candidates"] = [[s.candidate.article_id, s.candidate.start, s.candidate.end] for s in evidence.ranked]
        captured["features"] = np.asarray(rows, dtype=np.float32)
        return rows

    def recording_rate(*args: Any, **kwargs: Any) -> float:
        confidence = rate(*args, **kwargs)
        captured["confidence"] = float(confidence).hex()
        return confidence

    answering.candidate_features = recording_features
    answering.rate = recording_rate
    out: dict[str, Any] = {"package": index.__file__, "questions": {}}
    try:
        for name, (corpus, questions) in sets.items():
            desk = open_desk(corpus, name)
            # Whether this side looked words up in the index's stored vectors (newer code) or embedded them.
            out.setdefault("stored_words", {})[name] = getattr(getattr(desk, "words", None), "stored", None) is not None
            for n, question in enumerate(questions):
                captured.clear()
                answer = desk.ask(question).to_json()
                answer.pop("timings_ms")
                features = captured.pop("features", np.zeros((0, 0), dtype=np.float32))
                out["questions"][f"{name}:{n}"] = {
                    "question": question,
                    "answer": answer,
                    "shape": list(features.shape),
                    "features": features.tobytes().hex(),
                    "features_sha256": hashlib.sha256(features.tobytes()).hexdigest(),
                } | captured
    finally:
        answering.candidate_features = features_of
        answering.rate = rate
    return out


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Every way ``after`` differs from ``before``, one line each (empty: identical)."""
    from index.answer_features import FEATURES

    found: list[str] = []
    old, new = before["questions"], after["questions"]
    for key in sorted(set(old) ^ set(new)):
        found.append(f"{key}: only in {'before' if key in old else 'after'}")
    for key in sorted(set(old) & set(new)):
        a, b = old[key], new[key]
        if a["question"] != b["question"]:
            found.append(f"{key}: different questions ({a['question']!r} / {b['question']!r})")
            continue
        for field in ("answer", "candidates", "confidence", "shape"):
            if a.get(field) != b.get(field):
                found.append(f"{key} {a['question']!r}: {field} differs: {a.get(field)} -> {b.get(field)}")
        if a["features"] != b["features"] and a["shape"] == b["shape"] and a["shape"][0]:
            x = np.frombuffer(bytes.fromhex(a["features"]), dtype=np.float32).reshape(a["shape"])
            y = np.frombuffer(bytes.fromhex(b["features"]), dtype=np.float32).reshape(b["shape"])
            rows, columns = np.nonzero(x != y)
            named = sorted({FEATURES[c] if c < len(FEATURES) else str(c) for c in columns.tolist()})
            found.append(
                f"{key} {a['question']!r}: {len(rows)} feature values differ ({', '.join(named)}); "
                f"largest change {float(np.abs(x - y).max()):.3g}"
            )
    return found


def record_in_child(old_tree: Path, arguments: list[str]) -> dict[str, Any]:
    """The record made by the ``index`` package of ``old_tree``, in a child process."""
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "old.json"
        from tests.bench.datasets import DATA_ENV, data_root

        # The data folder as this tree resolves it (the default is relative to the repository).
        env = os.environ | {
            "PYTHONPATH": f"{old_tree}{os.pathsep}{REPO_ROOT}",
            "HF_HUB_OFFLINE": "1",
            DATA_ENV: str(data_root()),
        }
        command = [sys.executable, str(Path(__file__).resolve()), "--record", str(target), *arguments]
        subprocess.run(command, cwd=old_tree, env=env, check=True)
        result: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    if not str(result["package"]).startswith(str(old_tree.resolve())):
        raise SystemExit(f"the child imported {result['package']}, not the index package of {old_tree}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xquad", type=int, default=400, help="xquad-en questions (default 400; 0: none)")
    parser.add_argument("--stories", type=int, default=400, help="Reuters stories indexed (default 400; 0: none)")
    parser.add_argument("--headlines", type=int, default=100, help="Reuters headline questions (default 100)")
    side = parser.add_mutually_exclusive_group(required=True)
    side.add_argument("--record", type=Path, help="write this tree's record to a file and stop")
    side.add_argument("--against", type=Path, help="compare this tree with a record written by --record")
    side.add_argument("--old-tree", type=Path, help="compare this tree with the code checked out in DIR")
    args = parser.parse_args(argv)
    sizes = ["--xquad", str(args.xquad), "--stories", str(args.stories), "--headlines", str(args.headlines)]
    sets = question_sets(args.xquad, args.stories, args.headlines)
    if args.record:
        args.record.write_text(json.dumps(record(sets)), encoding="utf-8")
        return 0
    for name, (corpus, _) in sets.items():
        open_desk(corpus, name)  # built by this tree before the other side reads it
    if args.old_tree:
        before = record_in_child(args.old_tree.resolve(), sizes)
    else:
        before = json.loads(args.against.read_text(encoding="utf-8"))
    after = record(sets)
    found = differences(before, after)
    counts = {name: len(questions) for name, (_, questions) in sets.items()}
    with_features = sum(bool(q["shape"][0]) for q in after["questions"].values())
    rows = sum(q["shape"][0] for q in after["questions"].values())
    print(f"questions per collection: {counts}; {with_features} with candidates, {rows:,} feature rows compared")
    print(f"stored word vectors used: before {before.get('stored_words', {})}, after {after.get('stored_words', {})}")
    for line in found[:SHOW]:
        print(line)
    if found:
        print(f"DIFFERENT: {len(found)} difference(s)")
        return 1
    print("IDENTICAL: every feature value, answer probability and answer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
