"""Making what was written survive a crash: the fsync calls that an atomic rename needs.

A file renamed into place is durable only when its own bytes and the directory entry that names it
have reached the disk; both the index store and the encoder cache stage, fsync and rename.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename or a new file in it); a file system that cannot is left be."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Flush every file directly in ``folder``, then the folder itself."""
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    fsync_dir(folder)
