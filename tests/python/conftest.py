"""Shared helpers: every test builds its own DuckDB file in a temporary folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROJECT_FILES = ["dbt_project.yml", "Makefile", "requirements.txt", "pyproject.toml", "profiles.yml"]
PROJECT_DIRS = ["models", "macros", "seeds", "tests/generic", "tests/singular", "profiles", "cestools"]


def dbt(db_path: Path, *args: str, vars: dict | None = None, check: bool = True,
        env: dict | None = None) -> subprocess.CompletedProcess:
    """Run dbt against db_path with its own target and log folders beside it."""
    work = db_path.parent
    cmd = [str(BIN / "dbt"), *args, "--target-path", str(work / "target"),
           "--log-path", str(work / "logs")]
    if vars:
        cmd += ["--vars", json.dumps(vars)]
    run_env = {**os.environ, "CES_DUCKDB_PATH": str(db_path), "DBT_PROFILES_DIR": str(ROOT / "profiles"),
               "CES_DUCKDB_TEMP_DIR": str(work / "tmp"), **(env or {})}
    proc = subprocess.run(cmd, cwd=ROOT, env=run_env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")
    return proc


def copy_project(dest: Path) -> Path:
    """A copy of the project (sharing .venv) that a test may edit; the repository never is."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in PROJECT_FILES:
        shutil.copy2(ROOT / f, dest / f, follow_symlinks=False)  # profiles.yml stays a link
    for d in PROJECT_DIRS:
        shutil.copytree(ROOT / d, dest / d, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / ".venv").symlink_to(BIN.parent.resolve())
    return dest


def make(project: Path, target: str, db: Path, serving: Path, *args: str) -> subprocess.CompletedProcess:
    """`make <target>` in a project copy, on the warehouse file db and the serving file serving."""
    env = {**os.environ, "CES_DUCKDB_PATH": str(db), "CES_SERVING_PATH": str(serving),
           "CES_DUCKDB_TEMP_DIR": str(db.parent / "tmp"), "DBT_PROFILES_DIR": str(project / "profiles")}
    return subprocess.run(["make", "--no-print-directory", target, *args], cwd=project, env=env,
                          capture_output=True, text=True)


def serving_bytes(serving: Path) -> dict[str, bytes]:
    """Every serving file's bytes: the DuckDB file and the Parquet folder beside it."""
    files = [serving, *sorted((serving.parent / "serving").glob("*.parquet"))]
    return {f.name: f.read_bytes() for f in files if f.exists()}


def generate(db_path: Path, *extra: str) -> None:
    subprocess.run([sys.executable, "-m", "cestools.demo_data", "--path", str(db_path), "--quiet",
                    *extra], cwd=ROOT, check=True)


def query(db_path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def except_both_ways(con: duckdb.DuckDBPyConnection, left: str, right: str,
                     columns: str = "*") -> tuple[int, int]:
    """(rows of left missing from right, rows of right missing from left), duplicates counted."""
    def missing(a: str, b: str) -> int:
        return con.execute(f"select count(*) from (select {columns} from {a} "
                           f"except all select {columns} from {b})").fetchone()[0]
    return missing(left, right), missing(right, left)


def create_raw(db_path: Path) -> duckdb.DuckDBPyConnection:
    """An empty raw contract, for hand-made datasets."""
    con = duckdb.connect(str(db_path))
    con.execute("create schema raw")
    con.execute("""create table raw.customers (customer_id varchar, customer_name varchar,
        segment varchar, plan varchar, lifecycle_stage varchar, country varchar,
        created_at timestamp, loaded_at timestamp)""")
    con.execute("""create table raw.product_events (event_id varchar, customer_id varchar,
        user_id varchar, event_name varchar, occurred_at timestamp, loaded_at timestamp)""")
    con.execute("""create table raw.support_tickets (ticket_id varchar, customer_id varchar,
        created_at timestamp, priority varchar, loaded_at timestamp)""")
    return con


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The default-size demo warehouse (400k events, 2,000 customers, seed 7) with every
    catalogued defect injected (cestools/defects.py), built once."""
    db = tmp_path_factory.mktemp("demo") / "ces.duckdb"
    generate(db, "--seed", "7", "--defects")
    dbt(db, "build")
    return db


def find_pg_bin(name: str) -> str | None:
    """A PostgreSQL server binary: on PATH, else in Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server of the tests' own: initdb in a temporary folder, a free port on
    127.0.0.1, stopped at the end whatever happens. initdb refuses root, so as root it runs as
    the `postgres` OS user. Yields the CES_PG_* environment that reaches it."""
    initdb, pg_ctl = find_pg_bin("initdb"), find_pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are missing: .ci/run installs them "
                    "(apt-get install postgresql)")
    # not under pytest's own temporary folder: as root that one is closed to the postgres user
    import tempfile
    base = Path(tempfile.mkdtemp(prefix="ces-postgres-"))
    data = base / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(base / "server.log"), "-w", "-o",
                    f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off", "start"],
                   check=True, capture_output=True)
    env = {"CES_PG_HOST": "127.0.0.1", "CES_PG_PORT": str(port), "CES_PG_USER": "postgres",
           "CES_PG_PASSWORD": "", "CES_PG_DBNAME": "postgres", "PGOPTIONS": "-c jit=off"}
    try:
        yield env
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
