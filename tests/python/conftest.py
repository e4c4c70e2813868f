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

from cestools import config
from cestools.engines import postgres_engine
from cestools.errors import CesError
from devtools.pgserver import local_postgres

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROJECT_FILES = ["dbt_project.yml", "Makefile", "requirements.txt", "pyproject.toml", "profiles.yml"]
PROJECT_DIRS = ["models", "macros", "seeds", "tests/generic", "tests/singular", "profiles", "cestools"]


def dbt(db_path: Path, *args: str, vars: dict | None = None, check: bool = True,
        env: dict | None = None, unit_tests: bool = False) -> subprocess.CompletedProcess:
    """Run dbt against db_path with its own target and log folders beside it.

    A `dbt build` here leaves out the dbt unit tests unless unit_tests is set: they read only
    their own given rows, so they give the same answer on every dataset. `make test` runs them
    in the demo_db fixture's build, and the make builds on PostgreSQL and Spark run them there;
    repeated in each of these builds they were a third of a small build's time. A build that
    is then published must include them: publish serves only a whole build."""
    work = db_path.parent
    cmd = [str(BIN / "dbt"), *args, "--target-path", str(work / "target"),
           "--log-path", str(work / "logs")]
    if args and args[0] == "build" and not unit_tests:
        cmd += ["--exclude-resource-type", "unit_test"]
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


def make_env(project: Path, db: Path, serving: Path) -> dict[str, str]:
    """The environment of `make` in a project copy, on the warehouse file db and the serving
    file serving."""
    return {**os.environ, "CES_DUCKDB_PATH": str(db), "CES_SERVING_PATH": str(serving),
            "CES_DUCKDB_TEMP_DIR": str(db.parent / "tmp"), "DBT_PROFILES_DIR": str(project / "profiles")}


def make(project: Path, target: str, db: Path, serving: Path, *args: str) -> subprocess.CompletedProcess:
    """`make <target>` in a project copy, on the warehouse file db and the serving file serving."""
    return subprocess.run(["make", "--no-print-directory", target, *args], cwd=project,
                          env=make_env(project, db, serving), capture_output=True, text=True)


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


def public_marts(db: Path) -> list[str]:
    """The public marts, from the manifest of the DuckDB build beside db."""
    manifest = json.loads((db.parent / "target" / "manifest.json").read_text())
    return sorted(n["name"] for n in manifest["nodes"].values()
                  if n["resource_type"] == "model" and n.get("access") == "public")


def common_columns(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """Every column cast to text in a canonical form, so types that differ by engine (numeric
    vs decimal(18,4), timestamp precision) compare by value."""
    cols = con.execute(f"""select column_name, data_type from duckdb_columns()
                           where schema_name = 'marts' and table_name = '{table}'
                           order by column_index""").fetchall()
    out = []
    for name, data_type in cols:
        if data_type.startswith("DECIMAL"):
            scale = int(data_type.rstrip(")").split(",")[1])
            out.append(f"cast(round(cast({name} as decimal(38, {scale})), {scale}) as varchar) as {name}")
        elif data_type in ("DOUBLE", "FLOAT"):
            out.append(f"cast(round({name}, 6) as varchar) as {name}")
        else:
            out.append(f"cast({name} as varchar) as {name}")
    return ", ".join(out)


def pg_connect(env: dict):
    """A psycopg2 connection from a CES_PG_* environment, as the project's engine makes it."""
    return postgres_engine.pg_connect(config.load(env))


def create_database(env: dict, name: str) -> None:
    pg = pg_connect(env)
    pg.autocommit = True
    with pg.cursor() as cur:
        cur.execute(f'drop database if exists "{name}"')
        cur.execute(f'create database "{name}"')
    pg.close()


def pg_to_duckdb(env: dict, database: str, tables: list[str], con: duckdb.DuckDBPyConnection,
                 schema: str = "marts") -> None:
    """Copy marts from PostgreSQL (its schema `schema`) into schema pg of a DuckDB connection:
    fetched as text, then cast to the types of the same mart in schema marts (the DuckDB build)."""
    import pandas as pd

    pg = pg_connect({**env, "CES_PG_DBNAME": database})
    con.execute("create schema if not exists pg")
    try:
        for t in tables:
            types = dict(con.execute(f"""select column_name, data_type from duckdb_columns()
                                         where schema_name = 'marts' and table_name = '{t}'""").fetchall())
            with pg.cursor() as cur:
                cur.execute(f"select * from {schema}.{t}")
                columns = [d.name for d in cur.description]
                rows = [[None if v is None else str(v) for v in r] for r in cur.fetchall()]
            assert set(columns) == set(types), (t, set(columns) ^ set(types))
            con.register("incoming", pd.DataFrame(rows, columns=columns, dtype=object))
            con.execute(f"create or replace table pg.{t} as select "
                        + ", ".join(f'cast("{c}" as {types[c]}) as "{c}"' for c in columns) + " from incoming")
            con.unregister("incoming")
    finally:
        pg.close()


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
    catalogued defect injected (cestools/defects.py), built once by a whole `dbt build`: every
    model, seed, data test and unit test. This is make test's build of the project (test_defects
    checks that all of it passed); demo_serving publishes it.

    Seed 7, not the README's 42, so the statistical checks (the planted archetypes, the weights
    suggest-weights recovers, the flags against the outcomes, the shipped calibration, fitted
    on seed 42) are judged on a demo the defaults were not tuned on. They hold on both seeds."""
    db = tmp_path_factory.mktemp("demo") / "ces.duckdb"
    generate(db, "--seed", "7", "--defects")
    dbt(db, "build", unit_tests=True)
    return db


@pytest.fixture(scope="session")
def demo_serving(demo_db, tmp_path_factory) -> Path:
    """demo_db's marts published as make build publishes them: what BI tools, MetricFlow's
    `serving` target and the dashboard read."""
    out = tmp_path_factory.mktemp("serving") / "serving.duckdb"
    subprocess.run([sys.executable, "-m", "cestools.publish", "--build", str(demo_db), "--serving", str(out),
                    "--parquet-dir", str(out.parent / "serving"), "--target-path", str(demo_db.parent / "target")],
                   cwd=ROOT, check=True, capture_output=True)
    return out


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server of the tests' own (devtools/pgserver.py: initdb in a temporary
    folder, a free port on 127.0.0.1, stopped at the end whatever happens). Yields the CES_PG_*
    environment that reaches it."""
    try:
        with local_postgres() as env:
            yield env
    except CesError as exc:  # the binaries are missing: say how to install them
        pytest.fail(str(exc))


def pytest_collection_modifyitems(items):
    """The Spark tests first: they are the longest module and bound by the JVM's start-up, so
    under `make pytest` (two workers, a module per worker) they run beside all the others."""
    items.sort(key=lambda item: 0 if item.path.name == "test_spark.py" else 1)


def pytest_terminal_summary(terminalreporter):
    """The figures tests record (record_property("figures", ...)), printed after the run, from
    whichever worker ran them."""
    reports = [r for key in ("passed", "failed") for r in terminalreporter.stats.get(key, [])
               if getattr(r, "when", "call") == "call"]
    lines = sorted(value for r in reports for name, value in r.user_properties if name == "figures")
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(f"  {line}")


def flag_backtest_and_suggestions(db_path: Path, cli_vars: str | None, monkeypatch) -> tuple[list[str], dict]:
    """`make suggest-thresholds`' lines for the build in db_path under cli_vars, and the totals
    of its fct_flag_backtest (version in force) per flag: (true positives, flagged, positives)."""
    from cestools import backtest, config, engines, settings

    monkeypatch.setenv("CES_DUCKDB_PATH", str(db_path))
    monkeypatch.setenv("CES_TARGET", "duckdb")
    grid_sql = backtest.threshold_grid_sql(cli_vars)
    wh = engines.open_warehouse(config.load())
    try:
        lines = backtest.suggest_thresholds(wh, settings.project_vars(cli_vars), None, grid_sql)
        totals = {flag: (tp, flagged, pos) for flag, tp, flagged, pos in wh.fetchall("""
            select flag, sum(true_positives), sum(flagged), sum(positives) from marts.fct_flag_backtest
            where is_version_in_force group by flag""")}
    finally:
        wh.close()
    return lines, totals
