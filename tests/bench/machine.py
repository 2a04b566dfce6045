"""What every benchmark part shares: the machine description, the data folder, percentiles, child RSS."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
REPORTS_DIR = REPO_ROOT / "reports"
# Indexes and corpora the benchmark builds (git-ignored, reused by the next run where valid).
WORK_DIR = REPO_ROOT / ".newsdesk" / "bench"
NEWSDESK_BIN = Path(sys.executable).with_name("newsdesk")


def data_dir() -> Path:
    """``$NEWSDESK_DATA``, default ``../shared/data`` next to the repository."""
    return Path(os.environ.get("NEWSDESK_DATA") or REPO_ROOT.parent / "shared" / "data").resolve()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return 0.0


def load_average() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return 0.0


@dataclass(frozen=True)
class Machine:
    cores: int
    cpu: str
    memory_gb: float
    python: str
    date: str
    load_at_start: float

    @classmethod
    def describe(cls) -> Machine:
        return cls(
            cores=os.cpu_count() or 1,
            cpu=cpu_model(),
            memory_gb=memory_gb(),
            python=platform.python_version(),
            date=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
            load_at_start=load_average(),
        )

    def label(self) -> str:
        """One line for figure captions."""
        return f"{self.cores} cores, {self.cpu}, {self.memory_gb:g} GB RAM, {self.date} (load {self.load_at_start})"


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    if not samples_ms:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan"), "n": 0}
    values = np.asarray(samples_ms)
    return {
        "p50": round(float(np.percentile(values, 50)), 2),
        "p95": round(float(np.percentile(values, 95)), 2),
        "p99": round(float(np.percentile(values, 99)), 2),
        "n": len(samples_ms),
    }


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def child_env() -> dict[str, str]:
    """This environment, for a child process (a copy: callers add their own variables)."""
    return dict(os.environ)


def run_child(args: list[str], env: dict[str, str] | None = None, timeout: float = 900) -> ChildRun:
    """Run a process to completion and time it (wall clock, start to exit)."""
    import time

    env = child_env() if env is None else env
    started = time.perf_counter()
    with subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        seconds = time.perf_counter() - started
    # RUSAGE_CHILDREN holds the largest peak of all children reaped so far, not this one's: callers
    # that need one process's peak memory use peak_rss_of().
    return ChildRun(seconds, float("nan"), process.returncode, out, err)


def peak_rss_of(args: list[str], timeout: float = 900) -> ChildRun:
    """Like :func:`run_child`, but the peak memory is that one process's own (measured by a wrapper
    interpreter that runs nothing else)."""
    wrapper = (
        "import json,resource,subprocess,sys,time;"
        "t=time.perf_counter();p=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
        "s=time.perf_counter()-t;"
        "m=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024;"
        "sys.stdout.write(p.stdout);sys.stderr.write(p.stderr);"
        "sys.stderr.write('\\n@@'+json.dumps([s,m,p.returncode]))"
    )
    run = run_child([sys.executable, "-c", wrapper, *args], timeout=timeout)
    head, _, tail = run.stderr.rpartition("\n@@")
    import json

    try:
        seconds, peak, code = json.loads(tail)
    except ValueError:
        return ChildRun(run.seconds, float("nan"), run.returncode or 1, run.stdout, run.stderr)
    return ChildRun(float(seconds), round(float(peak), 1), int(code), run.stdout, head)
