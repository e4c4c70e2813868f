"""What differs by engine outside dbt: how to reach a warehouse and land raw tables in it.

DuckDB is the default and is reached through cestools.errors.connect. PostgreSQL is reached
with the same CES_PG_* environment variables the dbt profile reads, and JIT is off for every
session (PGOPTIONS): PostgreSQL's JIT adds 1-3 s to each query over this project's chain of
views (a count on int_customer_scores_by_version: 3.05 s with JIT, 0.06 s without).

Spark is reached through a local session built from the spark target's own settings in
profiles/profiles.yml (rendered as dbt renders them), so dbt and cestools share one warehouse
folder and metastore (CES_SPARK_DIR, default warehouse/spark). The metastore is an embedded
Derby database: one process at a time, so cestools opens its session only between dbt runs.

Landing tables replaces them (or appends a batch): demo_data calls it under the ownership
rules of cestools/warehouse.py, and the tests call it on servers they start themselves.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import duckdb

from cestools import errors
from cestools.errors import CesError

ROOT = Path(__file__).resolve().parents[1]
# the raw contract as the landing helpers copy it (customer_outcomes is optional for the models)
RAW_TABLES = ("customers", "product_events", "support_tickets", "customer_outcomes")
ENGINES = ("duckdb", "postgres", "spark")
# a Spark cluster through its Thrift server: dbt only (make dbt-build); cestools uses the local session
DBT_ONLY_TARGETS = ("spark_thrift",)
PG_TYPES = {"VARCHAR": "text", "TIMESTAMP": "timestamp", "INTEGER": "integer", "BIGINT": "bigint",
            "DATE": "date", "BOOLEAN": "boolean", "DOUBLE": "double precision"}
PG_SESSION = "-c jit=off"


def pg_params(env: dict[str, str] | None = None) -> dict[str, object]:
    """Connection settings from the environment, as profiles/profiles.yml reads them."""
    env = dict(os.environ if env is None else env)
    return {"host": env.get("CES_PG_HOST", "localhost"), "port": int(env.get("CES_PG_PORT", "5432")),
            "user": env.get("CES_PG_USER", "postgres"), "password": env.get("CES_PG_PASSWORD", ""),
            "dbname": env.get("CES_PG_DBNAME", "ces"), "options": PG_SESSION}


def pg_connect(env: dict[str, str] | None = None):
    import psycopg2

    params = pg_params(env)
    try:
        return psycopg2.connect(**params)
    except psycopg2.OperationalError as exc:
        raise CesError(f"PostgreSQL at {params['host']}:{params['port']} (database {params['dbname']}, "
                       f"user {params['user']}) could not be reached: {str(exc).strip()}. Set CES_PG_HOST, "
                       "CES_PG_PORT, CES_PG_USER, CES_PG_PASSWORD and CES_PG_DBNAME.") from exc


def land_duckdb_tables_in_postgres(duck_path: Path, pg, tables: list[tuple[str, str]],
                                   where: str = "true", append: bool = False) -> dict[str, int]:
    """Copy DuckDB tables (schema, table) into the same names in PostgreSQL with COPY, creating
    the schema and replacing each table (append: adding to it, as a loader lands a new batch);
    `where` filters the rows of every table. Returns rows per table."""
    con = errors.connect(str(duck_path), read_only=True)
    landed = {}
    try:
        with tempfile.TemporaryDirectory() as tmp, pg.cursor() as cur:
            for schema, table in tables:
                columns = con.execute("""select column_name, data_type from duckdb_columns()
                                         where schema_name = ? and table_name = ? order by column_index""",
                                      [schema, table]).fetchall()
                cur.execute(f'create schema if not exists "{schema}"')
                if not append:
                    cur.execute(f'drop table if exists "{schema}"."{table}"')
                cur.execute(f'create table if not exists "{schema}"."{table}" ('
                            + ", ".join(f'"{c}" {PG_TYPES[t]}' for c, t in columns) + ")")
                csv = Path(tmp) / f"{schema}.{table}.csv"
                con.execute(f"copy (select * from \"{schema}\".\"{table}\" where {where}) to '{csv}' (header false)")
                with open(csv) as f:
                    cur.copy_expert(f'copy "{schema}"."{table}" from stdin with (format csv)', f)
                landed[f"{schema}.{table}"] = cur.rowcount
        pg.commit()
    finally:
        con.close()
    return landed


def spark_dir(env: dict[str, str] | None = None) -> Path:
    """Where the spark target keeps its tables and metastore (CES_SPARK_DIR)."""
    return Path((os.environ if env is None else env).get("CES_SPARK_DIR", "warehouse/spark"))


def spark_conf(env: dict[str, str] | None = None) -> dict[str, str]:
    """The spark target's server_side_parameters, rendered from profiles/profiles.yml with the
    same environment dbt sees, plus what dbt-spark adds itself (ANSI mode off)."""
    import jinja2
    import yaml

    values = dict(os.environ if env is None else env)
    text = (ROOT / "profiles" / "profiles.yml").read_text()
    rendered = jinja2.Environment().from_string(text).render(
        env_var=lambda name, default=None: values.get(name, default))
    conf = yaml.safe_load(rendered)["ces"]["outputs"]["spark"]["server_side_parameters"]
    return {**{str(k): str(v) for k, v in conf.items()}, "spark.sql.ansi.enabled": "false"}


def describe_process(pid: int) -> str:
    """'pid (name, started by ppid: command)': the lock holder is a JVM that dbt or cestools started."""
    import psutil

    try:
        process = psutil.Process(pid)
        parent = process.parent()
        if parent is None or parent.pid == 1:
            started_by = ", left behind by a command that has ended: it should exit within seconds"
        else:
            started_by = f", started by {parent.pid}: {' '.join(parent.cmdline())[:100]}"
        return f"{pid} ({process.name()}{started_by})"
    except psutil.Error:
        return str(pid)


def check_spark(env: dict[str, str] | None = None) -> None:
    """Before dbt runs on Spark: Java is there, and no other process holds the metastore. A
    holder gets CES_SPARK_LOCK_WAIT seconds (default 30) to finish first: the JVM of a command
    that just ended can hold the lock for a few seconds more."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise CesError("Spark needs Java 17 (java on PATH, or JAVA_HOME): apt-get install openjdk-17-jre-headless")
    spark_dir(env).mkdir(parents=True, exist_ok=True)  # Derby writes its log there
    # Derby keeps dbex.lck open, with an exclusive lock, for as long as a process has the database
    lock = spark_dir(env) / "metastore_db" / "dbex.lck"
    if lock.exists() and shutil.which("fuser"):
        import subprocess
        import time

        deadline = time.monotonic() + float((os.environ if env is None else env).get("CES_SPARK_LOCK_WAIT", "30"))
        while True:
            found = subprocess.run(["fuser", str(lock)], capture_output=True, text=True).stdout.split()
            pids = [int(pid) for pid in found if pid.isdigit() and int(pid) != os.getpid()]
            if not pids or time.monotonic() > deadline:
                break
            time.sleep(1)
        holders = [describe_process(pid) for pid in pids]
        if holders:
            raise CesError(f"the Spark metastore {lock.parent} is held by process {', '.join(holders)} (a dbt run "
                           "or a cestools command on the same CES_SPARK_DIR): the embedded metastore takes one "
                           "process at a time. Wait for it to end (`ps -p <pid>` shows what it is).")


def stop_spark(session) -> None:
    """Stop the session and end its JVM before returning, so the metastore is free for the next
    command at once: a stopped session's JVM otherwise lingers for seconds after Python exits.
    pyspark's JVM exits when its standard input closes."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    session.stop()
    proc = getattr(gateway, "proc", None)
    if proc is None:
        return
    try:
        gateway.shutdown()
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=60)
        except Exception:  # a JVM that does not end is killed rather than left holding the lock
            proc.kill()
        SparkContext._gateway = None
        SparkContext._jvm = None


def spark_session(env: dict[str, str] | None = None):
    """A local Spark session on the spark target's warehouse and metastore."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - requirements.txt installs it
        raise CesError("pyspark is not installed in .venv: run `make setup`.") from exc
    check_spark(env)
    builder = SparkSession.builder.enableHiveSupport().appName("cestools")
    for key, value in spark_conf(env).items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:
        raise CesError(f"the local Spark session could not start ({str(exc).strip()[:400]}). Another "
                       f"process may hold the metastore in {spark_dir(env)}/metastore_db (a dbt run, or "
                       "another cestools command): wait for it, or find it with `fuser -v "
                       f"{spark_dir(env)}/metastore_db/dbex.lck`.") from exc


def spark_database_comment(wh: Warehouse, database: str) -> str | None:
    """The comment of a Spark database (the publish step marks its serving databases)."""
    rows = {str(k).lower(): v for k, v in wh.fetchall(f"describe database extended `{database}`")}
    return rows.get("comment") or None


def land_duckdb_tables_in_spark(duck_path: Path, spark, tables: list[tuple[str, str]],
                                where: str = "true", append: bool = False) -> dict[str, int]:
    """Copy DuckDB tables (schema, table) into Spark as Parquet files with a table over them,
    under CES_SPARK_DIR/landed/<schema>/<table>/: each call writes one more file (one load), and
    without append it first replaces the table and its folder. Timestamps are written as UTC
    instants, which Spark reads as its timestamp type. Returns rows per table."""
    con = errors.connect(str(duck_path), read_only=True)
    landed = {}
    try:
        for schema, table in tables:
            folder = (spark_dir() / "landed" / schema / table).resolve()
            if not append:
                spark.sql(f"drop table if exists `{schema}`.`{table}`")
                shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
            columns = con.execute("""select column_name, data_type from duckdb_columns()
                                     where schema_name = ? and table_name = ? order by column_index""",
                                  [schema, table]).fetchall()
            select = ", ".join(f'cast("{c}" as timestamptz) as "{c}"' if t == "TIMESTAMP" else f'"{c}"'
                               for c, t in columns)
            batch = len(list(folder.glob("*.parquet")))
            con.execute("set timezone = 'UTC'")
            con.execute(f"copy (select {select} from \"{schema}\".\"{table}\" where {where}) "
                        f"to '{folder}/load-{batch:04d}.parquet' (format parquet)")
            landed[f"{schema}.{table}"] = con.execute(
                f"select count(*) from \"{schema}\".\"{table}\" where {where}").fetchone()[0]
            spark.sql(f"create database if not exists `{schema}`")
            spark.sql(f"create table if not exists `{schema}`.`{table}` using parquet location '{folder}'")
            spark.sql(f"refresh table `{schema}`.`{table}`")
    finally:
        con.close()
    return landed


def target() -> str:
    """The profile target this run uses: CES_TARGET (default duckdb), as profiles.yml reads it."""
    engine = os.environ.get("CES_TARGET", "duckdb")
    if engine not in ENGINES + DBT_ONLY_TARGETS:
        raise CesError(f"CES_TARGET (TARGET=) is {engine!r}; allowed: {', '.join(ENGINES + DBT_ONLY_TARGETS)}.")
    return engine


class Warehouse:
    """The few queries cestools runs on the built warehouse, on whichever engine holds it."""

    def __init__(self, name: str, con, engine: str) -> None:
        self.name, self.con, self.engine = name, con, engine

    def fetchall(self, sql: str) -> list[tuple]:
        if self.engine == "duckdb":
            return self.con.execute(sql).fetchall()
        if self.engine == "spark":
            return [tuple(row) for row in self.con.sql(sql).collect()]
        with self.con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def execute(self, sql: str) -> None:
        if self.engine == "duckdb":
            self.con.execute(sql)
        elif self.engine == "spark":
            self.con.sql(sql)
        else:
            with self.con.cursor() as cur:
                cur.execute(sql)

    def drop_schema(self, schema: str) -> None:
        """Drop a schema the project owns (callers check that), with everything in it."""
        quoted = f"`{schema}`" if self.engine == "spark" else f'"{schema}"'
        self.execute(f"drop {'database' if self.engine == 'spark' else 'schema'} if exists {quoted} cascade")

    def land(self, duck_path: Path, tables: list[tuple[str, str]], where: str = "true",
             append: bool = False) -> dict[str, int]:
        """Copy DuckDB tables into this warehouse under the same names (see land_duckdb_tables_in_*)."""
        if self.engine == "postgres":
            return land_duckdb_tables_in_postgres(duck_path, self.con, tables, where, append)
        if self.engine == "spark":
            return land_duckdb_tables_in_spark(duck_path, self.con, tables, where, append)
        raise CesError("landing copies DuckDB tables into PostgreSQL or Spark, not into DuckDB")

    def close(self) -> None:
        if self.engine == "spark":
            stop_spark(self.con)
        else:
            self.con.close()


def open_warehouse(read_only: bool = True) -> Warehouse:
    engine = target()
    if engine in DBT_ONLY_TARGETS:
        raise CesError(f"TARGET={engine} is for dbt itself (make dbt-build, or dbt with CES_TARGET={engine}); the "
                       "cestools commands (demo-data, publish, summary, weights-impact) run on duckdb, postgres "
                       "and the local spark session.")
    if engine == "postgres":
        params = pg_params()
        con = pg_connect()
        con.autocommit = True
        return Warehouse(f"postgres://{params['host']}:{params['port']}/{params['dbname']}", con, engine)
    if engine == "spark":
        return Warehouse(f"spark://{spark_dir()}", spark_session(), engine)
    path = os.environ.get("CES_DUCKDB_PATH", "warehouse/ces.duckdb")
    return Warehouse(path, errors.connect(path, read_only=read_only), engine)


def quote(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def check_landing_is_ours(wh: Warehouse, names: list[str]):
    """Refuse (CesError, nothing written) to land over a table the project did not write, or
    when a table of the user's sits in the demo schema, where the marker goes. Returns the
    warehouse's contents (warehouse.Contents)."""
    from cestools import demo_data, warehouse

    owned, built = warehouse.project_objects()
    contents = demo_data.server_contents(wh, owned, built)
    user = {t.lower() for t in contents.user}
    theirs = [n for n in names if n.lower() in user]
    theirs += [t for t in contents.user if t.split(".", 1)[0] == warehouse.DEMO_SCHEMA]
    if theirs:
        raise CesError(f"{wh.name} holds tables the project did not write ({', '.join(sorted(set(theirs))[:6])}): "
                       "landing would replace or add to them, so nothing was landed. Land into a warehouse "
                       "of your own (another CES_PG_DBNAME or CES_SPARK_DIR).")
    return contents


def mark_landed(wh: Warehouse, tables: list[tuple[str, str]], contents) -> None:
    """List the landed tables in the demo marker (keeping its rows), landed like any table.
    contents: the warehouse's tables before the landing (check_landing_is_ours)."""
    from cestools import warehouse

    present = {t.lower() for t in [*contents.project, *contents.demo, *contents.user]}
    rows = wh.fetchall(f"select table_schema, table_name, seed, events, customers, generated_at, complete "
                       f"from {warehouse.DEMO_MARKER}") if warehouse.DEMO_MARKER in present else []
    known = {(r[0], r[1]) for r in rows}
    with tempfile.TemporaryDirectory() as tmp:
        marker = Path(tmp) / "marker.duckdb"
        con = duckdb.connect(str(marker))
        try:
            con.execute(f"create schema {warehouse.DEMO_SCHEMA}")
            con.execute(f"""create table {warehouse.DEMO_MARKER} (table_schema varchar, table_name varchar,
                seed integer, events bigint, customers integer, generated_at timestamp, complete boolean)""")
            for row in rows:
                con.execute(f"insert into {warehouse.DEMO_MARKER} values (?, ?, ?, ?, ?, ?, ?)", list(row))
            for schema, table in tables:
                if (schema, table) not in known:
                    con.execute(f"insert into {warehouse.DEMO_MARKER} values (?, ?, null, null, null, now(), true)",
                                [schema, table])
        finally:
            con.close()
        wh.land(marker, [(warehouse.DEMO_SCHEMA, "generated_tables")])


def main(argv: list[str] | None = None) -> int:
    """python -m cestools.engines land --from DUCKDB_FILE [--tables raw.customers,...] [--where SQL] [--append]

    Lands DuckDB tables in the CES_TARGET warehouse (postgres or spark), replacing them, or
    appending one more load with --append. The tests and the benchmark use it to land loads in
    warehouses of their own. It keeps the ownership rules of the demo generator: a table that
    exists and that the project did not write (a team's own raw.customers) is never replaced or
    appended to. What it lands it lists in the demo marker, as the generator does, so a later
    --append may add to it."""
    import argparse

    p = argparse.ArgumentParser(description=main.__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("command", choices=["land"])
    p.add_argument("--from", dest="source", type=Path, required=True)
    p.add_argument("--tables", default=",".join(f"raw.{t}" for t in RAW_TABLES))
    p.add_argument("--where", default="true", help="a filter on every table's rows (DuckDB SQL)")
    p.add_argument("--append", action="store_true")
    a = p.parse_args(argv)
    tables = [tuple(t.split(".", 1)) for t in a.tables.split(",")]
    wh = open_warehouse(read_only=False)
    try:
        contents = check_landing_is_ours(wh, [f"{schema}.{table}" for schema, table in tables])
        landed = wh.land(a.source, tables, a.where, a.append)  # type: ignore[arg-type]
        mark_landed(wh, tables, contents)
    finally:
        wh.close()
    print("landed in " + wh.name + ": " + ", ".join(f"{k} {v:,}" for k, v in landed.items()), flush=True)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(errors.run(main))
