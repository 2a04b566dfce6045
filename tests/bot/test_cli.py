"""The command line, run as a user runs it: a real process, real exit codes, output on the right stream."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from index.settings import BUNDLED_CORPUS


def newsdesk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(BUNDLED_CORPUS.parent)},
    )


@pytest.mark.slow
@pytest.mark.model  # a new process builds the bundled index with the model
def test_ask_json_builds_the_index_then_answers(tmp_path: Path) -> None:
    result = newsdesk("ask", "How many German troops will be deployed to Afghanistan?", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "850" in data["answer"] and not data["abstained"]
    first = data["citations"][0]
    assert (first["outlet"], first["date"]) == ("DW", "2014-12-29")
    assert "index rebuilt" in result.stderr
    assert list((tmp_path / ".newsdesk" / "indexes").iterdir())  # the index went to the documented place


@pytest.mark.parametrize(
    "args,message",
    [
        (["ask", "   "], "the question is empty"),
        (["sources", "--corpus", "/no/such/folder"], "does not exist"),
        (["ask", "x", "--since", "yesterday-ish"], "is not a date"),
    ],
)
def test_user_errors_are_one_line_on_stderr(tmp_path: Path, args: list[str], message: str) -> None:
    result = newsdesk(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unwritable_index_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = newsdesk("sources", "--index-dir", str(blocker / "index"), cwd=tmp_path)
    assert result.returncode == 2 and "cannot write the index directory" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--outlet", "rferl"],
            'No article is from an outlet matching "rferl": the outlets are Coastal Times, Northvale Courier, '
            "Valley Herald.",
        ),
        (["--as-of", "2010-01-01"], "No article is dated on or before 2010-01-01: the articles run from 2019-03-04"),
    ],
)
def test_a_filter_that_leaves_nothing_says_what_exists(
    args: list[str],
    message: str,
    news_desk,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from bot import cli

    monkeypatch.setattr(cli, "open_desk", lambda settings: news_desk)
    result = CliRunner().invoke(cli.app, ["ask", "Who leads NATO?", *args])
    assert result.exit_code == 2 and message in result.output


def test_as_of_reaches_the_library(news_desk, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from typer.testing import CliRunner

    from bot import cli

    asked: list[object] = []

    class Spy:
        def sources(self):
            return news_desk.sources()

        def ask(self, question: str, **options: object):
            asked.append(options["as_of"])
            return news_desk.ask(question, **options)

    monkeypatch.setattr(cli, "open_desk", lambda settings: Spy())
    runner = CliRunner()
    question = "How many euros will the bridge cost?"
    result = runner.invoke(cli.app, ["ask", question, "--as-of", "2020-12-31", "--json"])
    assert result.exit_code == 0, result.output
    dates = {c["date"] for c in json.loads(result.output)["citations"]}
    assert dates and dates <= {"2019-03-04", "2020-09-01"}  # nothing published after the day asked
    assert runner.invoke(cli.app, ["ask", question]).exit_code == 0
    assert asked == [dt.date(2020, 12, 31), dt.date.today()]
