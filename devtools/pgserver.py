"""A throwaway PostgreSQL server for the tests and the benchmark: initdb in a temporary folder,
a free port on 127.0.0.1, stopped and removed at the end whatever happens. initdb refuses
root, so as root it runs as the `postgres` OS user. It never touches a server of the user's."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cestools.errors import CesError
from cestools.ports import free_port


def find_pg_bin(name: str) -> str | None:
    """A PostgreSQL server binary: on PATH, else in Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


@contextmanager
def local_postgres() -> Iterator[dict[str, str]]:
    """Start a server of our own; yield the CES_PG_* environment that reaches it."""
    initdb, pg_ctl = find_pg_bin("initdb"), find_pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise CesError("the PostgreSQL server binaries (initdb, pg_ctl) are missing: apt-get install postgresql "
                       "(make test does it when it runs as root)")
    # not under pytest's own temporary folder: as root that one is closed to the postgres user
    base = Path(tempfile.mkdtemp(prefix="ces-postgres-"))
    data = base / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    try:
        subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                        "--no-sync"], check=True, capture_output=True)
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(base / "server.log"), "-w", "-o",
                        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c synchronous_commit=off -c full_page_writes=off", "start"],
                       check=True, capture_output=True)
        yield {"CES_PG_HOST": "127.0.0.1", "CES_PG_PORT": str(port), "CES_PG_USER": "postgres",
               "CES_PG_PASSWORD": "", "CES_PG_DBNAME": "postgres", "PGOPTIONS": "-c jit=off"}
    finally:
        if data.exists():
            subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
