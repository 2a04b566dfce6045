"""Against the real Milvus standalone server (package ``milvus``), started once per session on free
local ports (the ``milvus_server`` fixture): the command a user runs, a restart, and a clean stop. The
command runs in process over the made-up articles, embedding with the fake embedder (``fake_model``)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from index.milvus_store import VECTOR_STORE_NAME, close_clients
from index.store import current_generation
from tests.conftest import NEWS_DIR
from tests.milvus_server import milvus_processes, process_alive

pytestmark = [pytest.mark.milvus_server, pytest.mark.slow]
QUESTION = "How many vehicles crossed the bridge on its first day?"


def ask(index_dir: Path, uri: str) -> tuple[dict, str]:
    args = ["ask", QUESTION, "--json", "--corpus", str(NEWS_DIR), "--index-dir", str(index_dir), "--vector-store", uri]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def test_answers_from_the_server_and_survive_a_restart(milvus_server, fake_model, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first, log = ask(index_dir, milvus_server.uri)
    assert "index rebuilt" in log
    assert "15,000" in first["answer"] and not first["abstained"]
    assert (first["citations"][0]["outlet"], first["citations"][0]["date"]) == ("Coastal Times", "2022-03-20")
    generation = current_generation(index_dir)
    assert generation is not None
    placement = json.loads((generation / VECTOR_STORE_NAME).read_text())
    assert placement["uri"] == milvus_server.uri

    # Stop the server cleanly (no process left), start it again on the same data: nothing is rebuilt.
    close_clients()
    old_pid = milvus_server.pid
    status = milvus_server.stop()
    assert status != -signal.SIGKILL, f"the server did not stop on SIGTERM within {milvus_server.stop_seconds:.0f} s"
    assert not process_alive(old_pid) and not milvus_processes(milvus_server.base_dir)
    milvus_server.start()
    again, log = ask(index_dir, milvus_server.uri)
    assert "index" not in log  # neither rebuilt nor updated: the vectors were still there
    assert current_generation(index_dir) == generation
    assert again["answer"] == first["answer"]
    assert [c["passage"] for c in again["citations"]] == [c["passage"] for c in first["citations"]]
