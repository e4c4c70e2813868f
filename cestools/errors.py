"""One way for every cestools command to fail: a short message that says what happened and what
to do, and a non-zero exit, never a traceback (set CES_DEBUG=1 to see one)."""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import duckdb


class CesError(Exception):
    """A failure the user can act on; its text is the whole message."""


def lock_message(path: str, exc: BaseException) -> str:
    """DuckDB lets one process write a file, or any number read it, never both."""
    text = str(exc)
    holder = re.search(r"Conflicting lock is held in (.+?) \(PID (\d+)\)", text)
    who = f"{holder.group(1)} (PID {holder.group(2)})" if holder else "another process"
    find = f"`ps -p {holder.group(2)} -o pid,args`" if holder else f"`fuser -v {path}` or `lsof {path}`"
    return (f"{path} is locked: {who} holds it open, and DuckDB lets only one process use a "
            f"warehouse file while it is being written. Close that process (find it with {find}) "
            "and run the command again. BI tools and notebooks should read the published copy, "
            "warehouse/serving.duckdb (CES_SERVING_PATH), which a build never locks.")


def connect(path: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """duckdb.connect with the lock and missing-file cases turned into CesError."""
    if read_only and not os.path.exists(path):
        raise CesError(f"{path} does not exist yet: run `make build` first (or set CES_DUCKDB_PATH "
                       "to the warehouse file you built).")
    try:
        return duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise CesError(lock_message(path, exc)) from exc
        raise CesError(f"{path} could not be opened: {exc}") from exc


def run(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run a command's main; turn every failure into a message and an exit code."""
    module = main.__module__ if main.__module__ != "__main__" else Path(sys.argv[0]).stem
    name = f"[{module.rsplit('.', 1)[-1].replace('_', '-')}]"
    try:
        return main(argv)
    except CesError as exc:
        print(f"{name} error: {exc}", file=sys.stderr, flush=True)
        return 1
    except duckdb.CatalogException as exc:
        first = str(exc).splitlines()[0]
        print(f"{name} error: a table this step reads is missing ({first}). Run `make build` on "
              "this warehouse file first; if you point it at your own data, the README's 'The raw "
              "contract' lists the tables and the var ces_raw_schema.", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print(f"{name} interrupted", file=sys.stderr, flush=True)
        return 130
    except Exception as exc:  # anything unforeseen still gets a message, not a traceback
        if os.environ.get("CES_DEBUG"):
            traceback.print_exc()
        print(f"{name} error: {type(exc).__name__}: {exc}. This is unexpected: run again with "
              "CES_DEBUG=1 to see where it happened, and report it.", file=sys.stderr, flush=True)
        return 1
