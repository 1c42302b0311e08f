"""Media storage made unwritable for a while, as a full or read-only disk would be, with what
works here: chmod for an ordinary user, the immutable attribute (chattr +i) for root, whom chmod
does not stop. Used by the storage-outage test and bench/chaos.py."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def block(folders: list[Path]) -> None:
    """No file or folder can be created in `folders` (created first if need be) until unblock()."""
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            subprocess.run(["chattr", "+i", str(folder)], check=True, capture_output=True)
        else:
            folder.chmod(0o555)
        probe = folder / ".probe"
        try:
            probe.touch()
        except OSError:
            continue
        probe.unlink()
        unblock(folders)
        raise RuntimeError(f"cannot make {folder} unwritable on this machine")


def unblock(folders: list[Path]) -> None:
    for folder in folders:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=False, capture_output=True)
        else:
            folder.chmod(0o755)


@contextmanager
def unwritable(folders: list[Path]) -> Iterator[None]:
    block(folders)
    try:
        yield
    finally:
        unblock(folders)
