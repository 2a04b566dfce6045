"""A front end whose optional package is missing says which extra to install, in one line, before it loads
the model or touches an index."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from bot import cli, repl
from index import ConfigError, load_settings


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_interactive_repl_without_prompt_toolkit_names_the_repl_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "prompt_toolkit", None)  # what an install without the extra has
    settings = load_settings({"corpus_dir": tmp_path / "corpus", "index_dir": tmp_path / "index"}, env={})
    with pytest.raises(
        ConfigError, match=r"needs prompt_toolkit, which is not installed: pip install 'newsdesk\[repl\]'"
    ):
        repl.run(settings, stdin=Terminal(), stdout=Terminal())
    assert not (tmp_path / "index").exists(), "the index was opened before the check"


def test_newsdesk_discord_without_discord_py_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "discord", None)
    monkeypatch.setattr(sys, "argv", ["newsdesk", "discord"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "newsdesk: error: newsdesk discord needs discord.py, which is not installed: pip install 'newsdesk[discord]'"
    ]
