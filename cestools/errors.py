"""One way for every cestools command to fail: a short message that says what happened and what
to do, and a non-zero exit, never a traceback (set CES_DEBUG=1 to see one)."""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from cestools import config


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


def is_missing_table(exc: BaseException) -> bool:
    """DuckDB's error for a table or schema that does not exist (told apart by its class, so
    this module needs no database driver)."""
    kind = type(exc)  # the driver's classes live in its compiled module _duckdb
    return kind.__name__ == "CatalogException" and kind.__module__.split(".")[0].lstrip("_") == "duckdb"


def run(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run a command's main; turn every failure into a message and an exit code."""
    module = main.__module__ if main.__module__ != "__main__" else Path(sys.argv[0]).stem
    module = module.removesuffix(".__main__")  # a package's __main__ (cestools.dashboard): the package
    name = f"[{module.rsplit('.', 1)[-1].replace('_', '-')}]"
    try:
        return main(argv)
    except CesError as exc:
        print(f"{name} error: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print(f"{name} interrupted", file=sys.stderr, flush=True)
        return 130
    except Exception as exc:  # anything unforeseen still gets a message, not a traceback
        if is_missing_table(exc):
            first = str(exc).splitlines()[0]
            print(f"{name} error: a table this step reads is missing ({first}). Run `make build` on "
                  "this warehouse file first; if you point it at your own data, docs/own-data.md lists "
                  "the tables of the raw contract and the var ces_raw_schema.", file=sys.stderr, flush=True)
            return 1
        if config.load().debug:
            traceback.print_exc()
        print(f"{name} error: {type(exc).__name__}: {exc}. This is unexpected: run again with "
              "CES_DEBUG=1 to see where it happened, and report it.", file=sys.stderr, flush=True)
        return 1
