"""Removing what a process of the project wrote under a temporary name and left behind when it
died: the files of a publish, the work folder of a benchmark. Which names qualify is the pure
rule serving.leftover_temporaries; this module only asks the system which processes are alive
and removes what the rule returns."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cestools.serving import leftover_temporaries


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
