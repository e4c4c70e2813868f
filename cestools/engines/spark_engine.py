"""Spark: a local session built from the spark target's own settings in profiles/profiles.yml
(rendered as dbt renders them), so dbt and cestools share one warehouse folder and metastore
(CES_SPARK_DIR, default warehouse/spark). The metastore is an embedded Derby database: one
process at a time, so cestools opens its session only between dbt runs.

Publishing: Spark has no multi-table transaction, so each mart is copied into a table of this
build's own in the database <serving>_builds, and then the views in <serving> are repointed at
them, one `create or replace view` each: a BI query reads one whole build's table, never a
half-written one. The previous build's tables are dropped last. Both databases are marked as
the publish step's, and it never replaces a database of those names that it did not create.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from cestools.config import PROFILES_DIR, Config
from cestools.engines.base import Log, Warehouse, quote
from cestools.engines.duckdb_engine import connect as duckdb_connect
from cestools.engines.duckdb_engine import table_columns
from cestools.errors import CesError
from cestools.serving import SERVING_MARK, build_table, is_earlier_build_table, served_columns


def profile_output(cfg: Config, target: str) -> dict:
    """A target of profiles/profiles.yml, rendered with the same environment dbt sees."""
    import jinja2
    import yaml

    values = dict(cfg.env or {})
    text = (PROFILES_DIR / "profiles.yml").read_text()
    rendered = jinja2.Environment().from_string(text).render(
        env_var=lambda name, default=None: values.get(name, default))
    return yaml.safe_load(rendered)["ces"]["outputs"][target]


def spark_conf(cfg: Config) -> dict[str, str]:
    """The spark target's server_side_parameters, plus what dbt-spark adds itself (ANSI mode
    off)."""
    conf = profile_output(cfg, "spark")["server_side_parameters"]
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


def check_spark(cfg: Config) -> None:
    """Before dbt runs on Spark: Java is there, and no other process holds the metastore. A
    holder gets CES_SPARK_LOCK_WAIT seconds (default 30) to finish first: the JVM of a command
    that just ended can hold the lock for a few seconds more."""
    if shutil.which("java") is None and not (cfg.env or {}).get("JAVA_HOME"):
        raise CesError("Spark needs Java 17 (java on PATH, or JAVA_HOME): apt-get install openjdk-17-jre-headless")
    Path(cfg.spark_dir).mkdir(parents=True, exist_ok=True)  # Derby writes its log there
    # Derby keeps dbex.lck open, with an exclusive lock, for as long as a process has the database
    lock = Path(cfg.spark_dir) / "metastore_db" / "dbex.lck"
    if lock.exists() and shutil.which("fuser"):
        deadline = time.monotonic() + cfg.spark_lock_wait
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


def spark_session(cfg: Config):
    """A local Spark session on the spark target's warehouse and metastore."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - requirements.txt installs it
        raise CesError("pyspark is not installed in .venv: run `make setup`.") from exc
    check_spark(cfg)
    builder = SparkSession.builder.enableHiveSupport().appName("cestools")
    for key, value in spark_conf(cfg).items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:
        raise CesError(f"the local Spark session could not start ({str(exc).strip()[:400]}). Another "
                       f"process may hold the metastore in {cfg.spark_dir}/metastore_db (a dbt run, or "
                       "another cestools command): wait for it, or find it with `fuser -v "
                       f"{cfg.spark_dir}/metastore_db/dbex.lck`.") from exc


def land_duckdb_tables_in_spark(duck_path: Path, spark, tables: list[tuple[str, str]], spark_dir: str,
                                where: str = "true", append: bool = False,
                                log: Log | None = None) -> dict[str, int]:
    """Copy DuckDB tables (schema, table) into Spark as Parquet files with a table over them,
    under <spark_dir>/landed/<schema>/<table>/: each call writes one more file (one load), and
    without append it first replaces the table and its folder. Timestamps are written as UTC
    instants, which Spark reads as its timestamp type. Returns rows per table."""
    con = duckdb_connect(str(duck_path), read_only=True)
    landed = {}
    try:
        for schema, table in tables:
            started = time.monotonic()
            folder = (Path(spark_dir) / "landed" / schema / table).resolve()
            if not append:
                spark.sql(f"drop table if exists `{schema}`.`{table}`")
                shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
            columns = table_columns(con, schema, table)
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
            if log:
                log(f"{schema}.{table}: {landed[f'{schema}.{table}']:,} rows in {time.monotonic() - started:.1f} s")
    finally:
        con.close()
    return landed


class SparkWarehouse(Warehouse):
    engine = "spark"

    @classmethod
    def open(cls, cfg: Config, read_only: bool = True) -> SparkWarehouse:
        return cls(f"spark://{cfg.spark_dir}", spark_session(cfg), cfg)

    def _fetchall(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.con.sql(sql).collect()]

    def _execute(self, sql: str) -> None:
        self.con.sql(sql)

    def _frame(self, sql: str):
        import pandas as pd

        result = self.con.sql(sql)
        return pd.DataFrame([tuple(r) for r in result.collect()], columns=result.columns)

    def close(self) -> None:
        stop_spark(self.con)

    def ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def drop_schema(self, schema: str) -> None:
        self.execute(f"drop database if exists {self.ident(schema)} cascade")

    def schemas(self) -> list[str]:
        return [d for (d,) in self.fetchall("show databases")]

    def relations(self) -> list[str]:
        # `default` is listed too: a table of the user's there counts like any other (it is never dropped)
        return sorted(f"{d}.{t}" for d in self.schemas()
                      for _db, t, temporary in self.fetchall(f"show tables in `{d}`") if not temporary)

    def database_comment(self, database: str) -> str | None:
        """The comment of a Spark database (the publish step marks its serving databases)."""
        rows = {str(k).lower(): v for k, v in self.fetchall(f"describe database extended `{database}`")}
        return rows.get("comment") or None

    def marked_serving_schemas(self) -> set[str]:
        return {d for d in self.schemas() if d != "default" and self.database_comment(d) == SERVING_MARK}

    def land(self, duck_path: Path, tables: list[tuple[str, str]], where: str = "true",
             append: bool = False, log: Log | None = None) -> dict[str, int]:
        return land_duckdb_tables_in_spark(duck_path, self.con, tables, self.cfg.spark_dir, where, append, log)

    def publish(self, marts: list[tuple[str, str]], with_pii: bool, invocation: str, log: Log) -> str:
        serving_db = self.cfg.spark_serving_database
        store = f"{serving_db}_builds"
        databases = set(self.schemas())
        for db in (serving_db, store):
            if db in databases and self.database_comment(db) != SERVING_MARK:
                raise CesError(f"nothing is published: a database {db} exists that the publish step did not "
                               "create, and it never replaces what it did not create. Rename it, or set "
                               "CES_SPARK_SERVING_DATABASE to another name.")
            if db not in databases:
                self.execute(f"create database `{db}` comment {quote(SERVING_MARK)}")
        for i, (schema, name) in enumerate(marts, 1):
            columns = [c for c, *_rest in self.fetchall(f"describe `{schema}`.`{name}`") if c and not c.startswith("#")]
            cols = ", ".join(f"`{c}`" for c in served_columns(columns, with_pii))
            table = build_table(name, invocation)
            self.execute(f"drop table if exists `{store}`.`{table}`")
            self.execute(f"create table `{store}`.`{table}` using parquet as select {cols} from `{schema}`.`{name}`")
            rows = self.fetchall(f"select count(*) from `{store}`.`{table}`")[0][0]
            log(f"{i}/{len(marts)} {name}: {rows:,} rows")
        # every table is complete before the first view moves
        for _schema, name in marts:
            self.execute(f"create or replace view `{serving_db}`.`{name}` as "
                         f"select * from `{store}`.`{build_table(name, invocation)}`")
        names = [name for _s, name in marts]
        for _db, table, _tmp in self.fetchall(f"show tables in `{store}`"):
            if is_earlier_build_table(table, names, invocation):
                self.execute(f"drop table if exists `{store}`.`{table}`")
        return f"as the views of the database {serving_db}"

    def bi_hint(self) -> str:
        return (f"BI tools: read the views of the Spark database {self.cfg.spark_serving_database} "
                "(Thrift server or Spark SQL);")

    @classmethod
    def preflight(cls, cfg: Config, built: bool = False) -> None:
        check_spark(cfg)
