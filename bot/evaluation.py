"""Regression question sets: ``newsdesk eval FILE...`` loads YAML questions, asks them, scores the answers.

A file is a YAML list of entries::

    - id: q1                          # unique within the file
      question: How many German troops will be deployed?
      sources: ["defeat"]             # every one must be cited: an article id, or a case-insensitive
                                      # substring of the article's title
      answer: ["850"]                 # passes when any string appears in the answer (case-insensitive)
    - id: q2
      question: What is the capital of France?
      abstain: true                   # the answer must abstain

Metrics (:func:`summarise`):

* ``hit@1/3/5``: over answerable questions that list sources, the share whose listed sources are all
  among the first 1/3/5 citations (so a two-source question cannot score at hit@1);
* ``mrr``: mean of 1 / rank of the first citation matching a listed source (0 when none does);
* ``answer_accuracy``: over answerable questions that list answers, the share answered (not abstained)
  with one of the strings in the text;
* ``abstain_recall``: of the questions marked ``abstain: true``, the share that abstained;
  ``abstain_precision``: of the questions that abstained, the share marked ``abstain: true`` (1.0 when
  nothing abstained: no abstention was wrong);
* ``latency_p50_ms`` / ``latency_p95_ms``: wall time of each ``ask``.

Thresholds: ``min_abstain`` applies to abstention recall, and to precision too unless
``min_abstain_precision`` is given. A question that passed in ``--baseline`` and fails now is a
regression; regressions make the run fail.

This module uses only ``index``'s public API (:class:`~index.newsdesk.Newsdesk`, :class:`Answer`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from index.errors import NewsdeskError
from index.records import Answer, Citation

_KEYS = {"id", "question", "sources", "answer", "abstain"}
HIT_DEPTHS = (1, 3, 5)


class QuestionSetError(NewsdeskError):
    """A question file is missing or malformed; the message names the file, the entry and the fix."""


class Asker(Protocol):
    def ask(self, question: str, k: int | None = None) -> Answer: ...


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    sources: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    abstain: bool = False
    file: str = ""

    @property
    def key(self) -> str:
        """Unique across files: ``seed.yaml:q1``."""
        return f"{Path(self.file).name}:{self.id}"


@dataclass
class QuestionResult:
    key: str
    id: str
    question: str
    answer: str
    abstained: bool
    expected_abstain: bool
    citations: list[dict[str, Any]]
    closest_matches: list[str]
    latency_ms: float
    # Rank (1-based) of the first citation matching each listed source; None when not cited.
    source_ranks: list[int | None]
    answer_found: bool | None  # None when the entry lists no answer strings
    passed: bool
    why: str

    def hit(self, depth: int) -> bool:
        return bool(self.source_ranks) and all(r is not None and r <= depth for r in self.source_ranks)

    @property
    def reciprocal_rank(self) -> float:
        ranks = [r for r in self.source_ranks if r is not None]
        return 1.0 / min(ranks) if ranks else 0.0


@dataclass
class Thresholds:
    min_hit3: float | None = None
    min_answer: float | None = None
    min_abstain: float | None = None
    min_abstain_precision: float | None = None

    def failures(self, metrics: dict[str, float | None]) -> list[str]:
        """One line per threshold the metrics miss."""
        precision = self.min_abstain_precision if self.min_abstain_precision is not None else self.min_abstain
        checks = [
            ("hit@3", self.min_hit3),
            ("answer_accuracy", self.min_answer),
            ("abstain_recall", self.min_abstain),
            ("abstain_precision", precision),
        ]
        out = []
        for name, floor in checks:
            if floor is None:
                continue
            value = metrics.get(name)
            if value is None:
                out.append(f"{name} is undefined (no question measures it) but --min was given as {floor}")
            elif value < floor:
                out.append(f"{name} {value:.3f} < {floor}")
        return out


@dataclass
class Report:
    files: list[str]
    results: list[QuestionResult]
    metrics: dict[str, float | None]
    failures: list[str] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.regressions

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "metrics": self.metrics,
            "failures": self.failures,
            "regressions": self.regressions,
            "ok": self.ok,
            "questions": [asdict(r) for r in self.results],
        }


def load_questions(paths: Sequence[Path]) -> list[EvalQuestion]:
    """Every question of ``paths``, validated. Raises :class:`QuestionSetError` naming the bad entry."""
    questions: list[EvalQuestion] = []
    for path in paths:
        questions.extend(_load_file(path))
    return questions


def _load_file(path: Path) -> list[EvalQuestion]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuestionSetError(f"{path}: no such question file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise QuestionSetError(f"{path}: cannot read it ({err})") from None
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise QuestionSetError(f"{path}: not valid YAML{line}: fix the syntax") from None
    if not isinstance(data, list) or not data:
        raise QuestionSetError(f"{path}: must be a non-empty YAML list of questions ('- id: ...' entries)")
    seen: set[str] = set()
    out = []
    for n, entry in enumerate(data, start=1):
        question = _entry(path, n, entry)
        if question.id in seen:
            raise QuestionSetError(f"{path}: entry {n}: id {question.id!r} is used twice; ids must be unique")
        seen.add(question.id)
        out.append(question)
    return out


def _entry(path: Path, n: int, entry: object) -> EvalQuestion:
    def bad(why: str) -> QuestionSetError:
        name = f" (id {entry.get('id')!r})" if isinstance(entry, dict) and entry.get("id") is not None else ""
        return QuestionSetError(f"{path}: entry {n}{name}: {why}")

    if not isinstance(entry, dict):
        raise bad("must be a mapping with 'id' and 'question'")
    unknown = set(entry) - _KEYS
    if unknown:
        raise bad(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: {', '.join(sorted(_KEYS))}")
    ident, question = entry.get("id"), entry.get("question")
    if not isinstance(ident, str | int) or isinstance(ident, bool) or not str(ident).strip():
        raise bad("needs an 'id' (a short unique name)")
    if not isinstance(question, str) or not question.strip():
        raise bad("needs a 'question' (non-empty text)")
    abstain = entry.get("abstain", False)
    if not isinstance(abstain, bool):
        raise bad("'abstain' must be true or false")
    sources, answers = _strings(entry, "sources", bad), _strings(entry, "answer", bad)
    if abstain and (sources or answers):
        raise bad("an 'abstain: true' question cannot also list 'sources' or 'answer'")
    if not abstain and not (sources or answers):
        raise bad("list the expected 'sources' and/or 'answer', or mark it 'abstain: true'")
    return EvalQuestion(str(ident), question.strip(), sources, answers, abstain, str(path))


def _strings(entry: dict[str, Any], key: str, bad: Any) -> tuple[str, ...]:
    value = entry.get(key)
    if value is None:
        return ()
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise bad(f"'{key}' must be a list of strings")
    items = tuple(str(v) for v in value if str(v).strip())
    if not items:
        raise bad(f"'{key}' is empty: remove it or give at least one string")
    return items


def source_matches(source: str, citation: Citation | dict[str, Any]) -> bool:
    """A listed source matches a citation by article id or as a case-insensitive substring of its title."""
    data = citation.to_json() if isinstance(citation, Citation) else citation
    return source == data["doc_id"] or source.casefold() in str(data["title"]).casefold()


def judge(question: EvalQuestion, answer: Answer, latency_ms: float) -> QuestionResult:
    """Whether ``answer`` passes ``question``, and why not."""
    citations = [c.to_json() for c in answer.citations]
    ranks: list[int | None] = []
    for source in question.sources:
        ranks.append(next((i for i, c in enumerate(citations, 1) if source_matches(source, c)), None))
    text = answer.text.casefold()
    found = any(a.casefold() in text for a in question.answers) if question.answers else None
    reasons = []
    if question.abstain:
        if not answer.abstained:
            cited = ", ".join(repr(c["title"]) for c in citations) or "nothing"
            reasons.append(f"answered instead of abstaining (cited {cited})")
    elif answer.abstained:
        reasons.append("abstained")
    else:
        missing = [s for s, r in zip(question.sources, ranks, strict=True) if r is None]
        if missing:
            reasons.append("not cited: " + ", ".join(repr(s) for s in missing))
        if found is False:
            reasons.append("answer lacks " + " / ".join(repr(a) for a in question.answers))
    return QuestionResult(
        key=question.key,
        id=question.id,
        question=question.question,
        answer=answer.text,
        abstained=answer.abstained,
        expected_abstain=question.abstain,
        citations=citations,
        closest_matches=list(answer.closest_matches),
        latency_ms=round(latency_ms, 2),
        source_ranks=ranks,
        answer_found=found,
        passed=not reasons,
        why="; ".join(reasons),
    )


def run_questions(desk: Asker, questions: Sequence[EvalQuestion], k: int | None = None) -> list[QuestionResult]:
    results = []
    for question in questions:
        started = time.perf_counter()
        answer = desk.ask(question.question, k=k)
        results.append(judge(question, answer, (time.perf_counter() - started) * 1000))
    return results


def summarise(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    """The metrics of the module doc; ``None`` when no question measures one."""
    sourced = [r for r in results if not r.expected_abstain and r.source_ranks]
    with_answers = [r for r in results if not r.expected_abstain and r.answer_found is not None]
    should_abstain = [r for r in results if r.expected_abstain]
    did_abstain = [r for r in results if r.abstained]
    latencies = sorted(r.latency_ms for r in results)
    metrics: dict[str, float | None] = {}
    for depth in HIT_DEPTHS:
        metrics[f"hit@{depth}"] = _share(sum(r.hit(depth) for r in sourced), len(sourced))
    metrics["mrr"] = _share(sum(r.reciprocal_rank for r in sourced), len(sourced))
    answered = sum(bool(r.answer_found) and not r.abstained for r in with_answers)
    metrics["answer_accuracy"] = _share(answered, len(with_answers))
    metrics["abstain_recall"] = _share(sum(r.abstained for r in should_abstain), len(should_abstain))
    metrics["abstain_precision"] = (
        _share(sum(r.expected_abstain for r in did_abstain), len(did_abstain)) if did_abstain else 1.0
    )
    metrics["latency_p50_ms"] = _percentile(latencies, 50)
    metrics["latency_p95_ms"] = _percentile(latencies, 95)
    metrics["questions"] = float(len(results))
    metrics["passed"] = float(sum(r.passed for r in results))
    return metrics


def _share(part: float, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return round(sorted_values[rank - 1], 2)


def load_baseline(path: Path) -> dict[str, bool]:
    """``{question key: passed}`` from an earlier ``--json`` report."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(q["key"]): bool(q["passed"]) for q in data["questions"]}
    except FileNotFoundError:
        raise QuestionSetError(f"baseline {path} does not exist: write one with 'newsdesk eval ... --json'") from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise QuestionSetError(f"baseline {path} is not an eval --json report ({err})") from None


def regressions(results: Sequence[QuestionResult], baseline: dict[str, bool]) -> list[str]:
    """Keys of the questions that passed in ``baseline`` and fail now."""
    return [r.key for r in results if baseline.get(r.key) and not r.passed]


def evaluate(
    desk: Asker,
    questions: Sequence[EvalQuestion],
    thresholds: Thresholds,
    k: int | None = None,
    baseline: dict[str, bool] | None = None,
) -> Report:
    results = run_questions(desk, questions, k)
    metrics = summarise(results)
    files = list(dict.fromkeys(q.file for q in questions))
    report = Report(files, results, metrics, thresholds.failures(metrics))
    if baseline is not None:
        report.regressions = regressions(results, baseline)
    return report


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f}{unit}" if unit else f"{value:.3f}"


def metric_lines(report: Report) -> list[str]:
    m = report.metrics
    return [
        f"questions {m['questions']:.0f}, passed {m['passed']:.0f}",
        "hit@1 {} · hit@3 {} · hit@5 {} · MRR {}".format(*(_fmt(m[k]) for k in ("hit@1", "hit@3", "hit@5", "mrr"))),
        f"answer accuracy {_fmt(m['answer_accuracy'])}",
        f"abstention recall {_fmt(m['abstain_recall'])} · precision {_fmt(m['abstain_precision'])}",
        f"latency p50 {_fmt(m['latency_p50_ms'], ' ms')} · p95 {_fmt(m['latency_p95_ms'], ' ms')}",
    ]


def verdict_lines(report: Report) -> list[str]:
    lines = [f"threshold failed: {f}" for f in report.failures]
    lines += [f"regression: {key} passed in the baseline and fails now" for key in report.regressions]
    lines.append("PASS" if report.ok else "FAIL")
    return lines


def _rank_text(result: QuestionResult) -> str:
    if result.expected_abstain:
        return "-"
    return ",".join("-" if r is None else str(r) for r in result.source_ranks) or "-"


def render_plain(report: Report) -> str:
    """The table as plain text (pipes, CI logs)."""
    width = max([len(r.key) for r in report.results] + [8])
    lines = [f"{'question':<{width}}  result  rank  ms     why"]
    for r in report.results:
        status = "pass" if r.passed else "FAIL"
        lines.append(f"{r.key:<{width}}  {status:<6}  {_rank_text(r):<4}  {r.latency_ms:<5.0f}  {r.why}")
    return "\n".join(lines + [""] + metric_lines(report) + verdict_lines(report))


def render_rich(report: Report) -> Any:
    """The table as a rich renderable (terminals)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Question set", show_lines=False)
    for name in ("question", "result", "rank", "ms", "why"):
        table.add_column(name, overflow="fold")
    for r in report.results:
        status = Text("pass", style="green") if r.passed else Text("FAIL", style="bold red")
        table.add_row(r.key, status, _rank_text(r), f"{r.latency_ms:.0f}", r.why)
    verdict = [Text(line, style="green" if line == "PASS" else "red") for line in verdict_lines(report)]
    return Group(table, *[Text(line) for line in metric_lines(report)], *verdict)
