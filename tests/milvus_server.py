"""A real Milvus standalone server (the PyPI package ``milvus``) for tests and benchmarks.

``MilvusServer.stop()`` of the package sends SIGTERM and SIGKILLs after one second, too soon for a
clean shutdown, and a wrapper killed without ``stop()`` leaves the server running. This wrapper waits
for the server to exit (SIGTERM; it flushes and stops in well under a second, then aborts with
SIGABRT while exiting, a known quirk of this build), kills it only after a timeout, and checks that no
process of it is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any


class LocalMilvus:
    """A Milvus standalone server whose data lives in ``base_dir``; ``uri`` once started."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir.resolve()
        self.port: int | None = None
        self._server: Any = None
        self.pid: int | None = None
        self.stop_seconds = 0.0

    @property
    def uri(self) -> str:
        assert self.port is not None, "start the server first"
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120.0) -> None:
        """Start on free local ports (the same client port as before on a restart, so URIs stay valid)."""
        from milvus import MilvusServer

        deadline = time.monotonic() + timeout_s
        while True:
            # A port given to the constructor is bound as given (the listen_port setter is overridden
            # when the package resolves its ports).
            pinned = {} if self.port is None else {"proxy_port": self.port}
            server = MilvusServer(wait_for_started=False, **pinned)
            server.set_base_dir(str(self.base_dir))
            try:
                server.start()
                break
            except RuntimeError:  # the old port is not free yet (a lingering socket): try again shortly
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)
        self._server = server
        self.pid = server.server_proc.pid
        try:
            server.wait_started(timeout=int(timeout_s * 1000))
        except BaseException:
            self.stop()
            raise
        self.port = int(server.listen_port)
        self._wait_for_clients(deadline)

    def _wait_for_clients(self, deadline: float) -> None:
        """The health check passes before the proxy serves clients (more so on a restart with data):
        wait until a client can list collections."""
        from pymilvus import MilvusClient

        while True:
            try:
                client = MilvusClient(self.uri, timeout=10)
                client.list_collections()
                client.close()
                return
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(1.0)

    def stop(self, timeout_s: float = 120.0) -> int | None:
        """SIGTERM, wait, SIGKILL only past ``timeout_s``. Returns the exit status (None if not running);
        ``-9`` means it had to be killed."""
        server = self._server
        if server is None or server.server_proc is None:
            return None
        process: subprocess.Popen[bytes] = server.server_proc
        self._release_collections()
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            status = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            status = process.wait(timeout=10)
        self.stop_seconds = time.monotonic() - started
        server.server_proc = None
        server.stop()  # closes its log files
        self._server = None
        return status

    def _release_collections(self) -> None:
        """Release loaded collections first: this build's query node otherwise waits out a long graceful-
        stop timeout for segments it cannot hand to another node (a standalone server has none), and
        only SIGKILL ends it. Released collections are still on disk; opening an index loads them again."""
        from pymilvus import MilvusClient

        try:
            client = MilvusClient(self.uri, timeout=30)
            for name in client.list_collections():
                client.release_collection(name)
            client.close()
        except Exception:  # noqa: BLE001 - a server that cannot answer is stopped by the signal anyway
            return


def process_alive(pid: int) -> bool:
    """True when a process with ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def milvus_processes(base_dir: Path) -> list[int]:
    """Pids of ``milvus run standalone`` processes started in ``base_dir`` (the package starts the
    server there), so servers of other users of the machine are not counted."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
                cwd = Path(os.readlink(entry / "cwd"))
            except OSError:
                continue
            standalone = len(cmd) >= 3 and cmd[0].endswith(b"/milvus") and cmd[1:3] == [b"run", b"standalone"]
            if standalone and cwd == base_dir.resolve():
                found.append(int(entry.name))
    return found
