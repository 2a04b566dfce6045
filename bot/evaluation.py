"""Regression question sets: ``newsdesk eval FILE...`` loads YAML questions, asks them, scores the answers.

A file is a YAML list of entries::

    - id: q1                          # unique within the file
      question: How many German troops will be deployed?
      sources: ["defeat"]             # every one must be cited: an article id, or a case-insensitive
                                      # substring of the article's title
      answer: ["850"]                 # passes when any string appears in the answer as whole words
                                      # (case-insensitive; numbers by value: "13,500" = "13500")
    - id: q2
      question: What is the capital of France?
      abstain: true                   # the answer must abstain
      asked_on: 2020-12-31            # optional: asked as of that day (later articles are not used)

Metrics (computed by :func:`index.question_set_metrics`):

* ``hit@1/3/5``: over answerable questions that list sources, the share whose listed sources are all
  among the first 1/3/5 citations (so a two-source question cannot score at hit@1);
* ``mrr``: mean of 1 / rank of the first citation matching a listed source (0 when none does);
* ``answer_accuracy``: over answerable questions that list answers, the share answered (not abstained)
  with one of the strings in the text (:func:`index.metrics.answer_matches`: whole words, numbers by
  value, so "Ghani" is not found in "Afghanistan");
* ``abstain_recall``: of the questions marked ``abstain: true``, the share that abstained;
  ``abstain_precision``: of the questions that abstained, the share marked ``abstain: true`` (1.0 when
  nothing abstained: no abstention was wrong);
* ``latency_p50_ms`` / ``latency_p95_ms``: wall time of each ``ask``, warm: the first question is
  asked once untimed before the run, so loading the model and first-touch caches do not count.

What fails a run (``Report.ok``), so that a failing question is never reported as a pass:

* with neither thresholds nor a baseline: any failing question;
* with ``--min-*`` thresholds: a metric below its floor (failing questions are accepted, and counted);
* with ``--baseline``: a question that passed there and fails now (a regression); questions that failed
  there and pass now are listed as fixes. Thresholds given too must hold as well.

``min_abstain`` applies to abstention recall, and to precision too unless ``min_abstain_precision`` is given.
The metrics themselves are computed by :mod:`index.metrics`; this module loads, runs and judges questions
and formats the report.

This module uses only ``index``'s public API (:class:`~index.newsdesk.Newsdesk`, :class:`Answer`).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import yaml

from bot.quoting import in_quotes
from index import (
    Answer,
    Citation,
    MetricChange,
    NewsdeskError,
    answer_matches,
    metric_changes,
    question_set_metrics,
)

_KEYS = {"id", "question", "sources", "answer", "abstain", "asked_on"}


class QuestionSetError(NewsdeskError):
    """A question file is missing or malformed; the message names the file, the entry and the fix."""


class Asker(Protocol):
    def ask(self, question: str, k: int | None = None) -> Answer: ...


class AskerAsOf(Protocol):
    def ask(self, question: str, k: int | None = None, as_of: dt.date | None = None) -> Answer: ...


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    sources: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    abstain: bool = False
    file: str = ""
    asked_on: dt.date | None = None

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
    asked_on: str = ""  # ISO date the question was asked as of; empty: the day of the run


@dataclass
class Thresholds:
    min_hit3: float | None = None
    min_answer: float | None = None
    min_abstain: float | None = None
    min_abstain_precision: float | None = None

    @property
    def given(self) -> bool:
        return any(
            v is not None for v in (self.min_hit3, self.min_answer, self.min_abstain, self.min_abstain_precision)
        )

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


@dataclass(frozen=True)
class Baseline:
    """An earlier ``--json`` report: which questions passed, and its metrics."""

    passed: dict[str, bool]
    metrics: dict[str, float | None]


@dataclass
class Report:
    files: list[str]
    results: list[QuestionResult]
    metrics: dict[str, float | None]
    failures: list[str] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    changes: list[MetricChange] = field(default_factory=list)
    # Whether --min-* or --baseline said which failures to accept; without either, any failure fails the run.
    judged_by_thresholds: bool = False
    judged_by_baseline: bool = False

    @property
    def failed(self) -> list[QuestionResult]:
        return [r for r in self.results if not r.passed]

    @property
    def ok(self) -> bool:
        if self.failures or self.regressions:
            return False
        if self.judged_by_thresholds or self.judged_by_baseline:
            return True
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "metrics": self.metrics,
            "failures": self.failures,
            "regressions": self.regressions,
            "fixes": self.fixes,
            "metric_changes": [asdict(c) | {"delta": c.delta} for c in self.changes],
            "failed": len(self.failed),
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
    return EvalQuestion(str(ident), question.strip(), sources, answers, abstain, str(path), _asked_on(entry, bad))


def _asked_on(entry: dict[str, Any], bad: Any) -> dt.date | None:
    value = entry.get("asked_on")
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value  # YAML reads an unquoted 2020-12-31 as a date
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise bad(f"'asked_on' must be a date written YYYY-MM-DD, not {value!r}") from None


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
    found = any(answer_matches(answer.text, a) for a in question.answers) if question.answers else None
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
        asked_on=question.asked_on.isoformat() if question.asked_on else "",
    )


def run_questions(desk: Asker, questions: Sequence[EvalQuestion], k: int | None = None) -> list[QuestionResult]:
    """Ask every question once, timed; the first is asked once before, untimed, to warm the caches."""
    if questions:
        _ask(desk, questions[0], k)
    results = []
    for question in questions:
        started = time.perf_counter()
        answer = _ask(desk, question, k)
        results.append(judge(question, answer, (time.perf_counter() - started) * 1000))
    return results


def _ask(desk: Asker, question: EvalQuestion, k: int | None) -> Answer:
    """Ask ``question``; as of its ``asked_on`` day when it has one (otherwise the desk's default: today)."""
    if question.asked_on is None:
        return desk.ask(question.question, k=k)
    return cast(AskerAsOf, desk).ask(question.question, k=k, as_of=question.asked_on)


def load_baseline(path: Path) -> Baseline:
    """Which questions passed, and the metrics, of an earlier ``--json`` report."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        passed = {str(q["key"]): bool(q["passed"]) for q in data["questions"]}
        metrics = {str(k): (None if v is None else float(v)) for k, v in dict(data.get("metrics") or {}).items()}
        return Baseline(passed, metrics)
    except FileNotFoundError:
        raise QuestionSetError(f"baseline {path} does not exist: write one with 'newsdesk eval ... --json'") from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise QuestionSetError(f"baseline {path} is not an eval --json report ({err})") from None


def regressions(results: Sequence[QuestionResult], baseline: dict[str, bool]) -> list[str]:
    """Keys of the questions that passed in ``baseline`` and fail now."""
    return [r.key for r in results if baseline.get(r.key) and not r.passed]


def fixes(results: Sequence[QuestionResult], baseline: dict[str, bool]) -> list[str]:
    """Keys of the questions that failed in ``baseline`` and pass now (new questions are not fixes)."""
    return [r.key for r in results if baseline.get(r.key) is False and r.passed]


def evaluate(
    desk: Asker,
    questions: Sequence[EvalQuestion],
    thresholds: Thresholds,
    k: int | None = None,
    baseline: Baseline | None = None,
) -> Report:
    results = run_questions(desk, questions, k)
    metrics = question_set_metrics(results)
    files = list(dict.fromkeys(q.file for q in questions))
    report = Report(files, results, metrics, thresholds.failures(metrics), judged_by_thresholds=thresholds.given)
    if baseline is not None:
        report.judged_by_baseline = True
        report.regressions = regressions(results, baseline.passed)
        report.fixes = fixes(results, baseline.passed)
        report.changes = metric_changes(baseline.metrics, metrics)
    return report


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f}{unit}" if unit else f"{value:.3f}"


# What each column of the table means; `newsdesk eval --help` and README repeat it.
COLUMNS = (
    ("question", "file:id of the entry"),
    ("result", "pass or FAIL"),
    (
        "rank",
        "position among the answer's citations of each listed source, in the order listed "
        "('-': not cited; '2,-': the first source cited second, the other not at all)",
    ),
    ("ms", "time to answer it (warm)"),
    ("why", "what failed; a failed row is followed by the answer given and its first citation"),
)
_LATENCY_NOTE = "warm: the first question is asked once, untimed, before the run"


def metric_lines(report: Report) -> list[str]:
    m = report.metrics
    return [
        f"questions {m['questions']:.0f}, passed {m['passed']:.0f}",
        "hit@1 {} · hit@3 {} · hit@5 {} · MRR {}".format(*(_fmt(m[k]) for k in ("hit@1", "hit@3", "hit@5", "mrr"))),
        f"answer accuracy {_fmt(m['answer_accuracy'])}",
        f"abstention recall {_fmt(m['abstain_recall'])} · precision {_fmt(m['abstain_precision'])}",
        f"latency p50 {_fmt(m['latency_p50_ms'], ' ms')} · p95 {_fmt(m['latency_p95_ms'], ' ms')} ({_LATENCY_NOTE})",
    ]


def _value(name: str, value: float | None, signed: bool = False) -> str:
    """A metric as the report prints it: counts and milliseconds whole, shares to three places."""
    if value is None:
        return "n/a"
    whole = name in ("questions", "passed") or name.endswith("_ms")
    spec = ("+" if signed else "") + (".0f" if whole else ".3f")
    text = format(value, spec)
    return text + (" ms" if name.endswith("_ms") else "")


def change_lines(report: Report) -> list[str]:
    """The baseline comparison: every metric's change, then regressions and fixes."""
    if not report.judged_by_baseline:
        return []
    lines = ["since the baseline:"]
    for change in report.changes:
        lines.append(
            f"  {change.name} {_value(change.name, change.before)} -> {_value(change.name, change.now)}"
            + ("" if change.delta is None else f" ({_value(change.name, change.delta, signed=True)})")
        )
    lines += [f"regression: {key} passed in the baseline and fails now" for key in report.regressions]
    lines += [f"fixed: {key} failed in the baseline and passes now" for key in report.fixes]
    if not report.regressions and not report.fixes:
        lines.append("no question changed from pass to fail or back")
    return lines


def verdict_lines(report: Report) -> list[str]:
    """Threshold failures, then the last line: PASS or FAIL and how many questions failed."""
    lines = [f"threshold failed: {f}" for f in report.failures]
    failed, total = len(report.failed), len(report.results)
    counted = f"{failed} of {total} question{'s' if total != 1 else ''} failed"
    if report.ok:
        if failed and report.judged_by_baseline:
            counted += " (accepted: none of them is a regression against the baseline)"
        elif failed:
            counted += " (accepted: the --min-* thresholds hold)"
        lines.append(f"PASS: {counted}")
    else:
        why = []
        if report.failures:
            why.append(f"{len(report.failures)} threshold(s) not met")
        if report.regressions:
            why.append(f"{len(report.regressions)} regression(s)")
        lines.append(f"FAIL: {counted}" + (f"; {', '.join(why)}" if why else ""))
    return lines


def _rank_text(result: QuestionResult) -> str:
    if result.expected_abstain:
        return "-"
    return ",".join("-" if r is None else str(r) for r in result.source_ranks) or "-"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def failure_details(result: QuestionResult) -> list[str]:
    """For a failed row: the answer given and its first citation, so the cause is visible at once."""
    lines = [f"answer: {_clip(result.answer, 300)}"]
    if result.citations:
        c = result.citations[0]
        where = " · ".join(str(part) for part in (c.get("outlet"), c.get("date"), c.get("title")) if part)
        quote = in_quotes(_clip(str(c.get("quote", "")), 200))
        lines.append(f"first citation: [{c.get('number', 1)}] {where}: {quote}")
    elif result.closest_matches:
        lines.append("no citation; closest articles: " + "; ".join(result.closest_matches[:3]))
    else:
        lines.append("no citation")
    return lines


def render_plain(report: Report) -> str:
    """The table as plain text (pipes, CI logs)."""
    width = max([len(r.key) for r in report.results] + [8])
    lines = [f"{'question':<{width}}  result  rank  ms     why"]
    for r in report.results:
        status = "pass" if r.passed else "FAIL"
        lines.append(f"{r.key:<{width}}  {status:<6}  {_rank_text(r):<4}  {r.latency_ms:<5.0f}  {r.why}".rstrip())
        if not r.passed:
            lines += [f"{'':<{width}}    {detail}" for detail in failure_details(r)]
    legend = "rank: " + dict(COLUMNS)["rank"]
    body = lines + [legend, ""] + metric_lines(report) + change_lines(report)
    return "\n".join(body + verdict_lines(report))


def render_rich(report: Report) -> Any:
    """The table as a rich renderable (terminals)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Question set", show_lines=False, caption="rank: " + dict(COLUMNS)["rank"])
    for name in ("question", "result", "rank", "ms", "why"):
        table.add_column(name, overflow="fold")
    for r in report.results:
        status = Text("pass", style="green") if r.passed else Text("FAIL", style="bold red")
        why = r.why if r.passed else "\n".join([r.why, *failure_details(r)])
        table.add_row(r.key, status, _rank_text(r), f"{r.latency_ms:.0f}", why)
    changes = [Text(line, style="red" if line.startswith("regression") else "") for line in change_lines(report)]
    verdict = [Text(line, style="green" if line.startswith("PASS") else "red") for line in verdict_lines(report)]
    return Group(table, *[Text(line) for line in metric_lines(report)], *changes, *verdict)
