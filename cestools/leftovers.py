"""Removing what a process of the project wrote under a temporary name and left behind when it
died: the files of a publish, the work folder of a benchmark, the scratch folder of a landing.
Which names qualify is the pure rule serving.leftover_temporaries; this module only asks the
system which processes are alive and removes what the rule returns."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cestools.serving import leftover_temporaries, temporary_name


def is_alive(pid: int) -> bool:
    """Whether a process with this id is running (one of another user counts: it may be one of
    ours too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(folder: Path, finals: set[str]) -> list[str]:
    """Remove the temporaries in folder (files, or folders such as a benchmark's work folder) of
    processes that died, for the names in finals (serving.leftover_temporaries), and return
    their names; nothing else in the folder is touched."""
    if not folder.is_dir():
        return []
    names = leftover_temporaries([p.name for p in folder.iterdir()], finals, is_alive)
    for name in names:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return names


@contextmanager
def scratch_folder(purpose: str) -> Iterator[Path]:
    """A folder of this process's own in the system's temporary folder, named
    .ces-<purpose>.ces-<pid>.tmp and removed on exit. On entry, the folders of the same purpose
    left by processes that died (a landing killed half-way leaves its CSV copies, as large as
    the tables) are removed first."""
    parent, final = Path(tempfile.gettempdir()), f"ces-{purpose}"
    remove_leftovers(parent, {final})
    folder = parent / temporary_name(final, os.getpid())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
