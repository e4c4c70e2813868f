"""DuckDB, the default engine: the build is one file (CES_DUCKDB_PATH) and what BI tools read is
another file beside it (CES_SERVING_PATH) plus one Parquet file per mart.

Publishing writes each file under a temporary name beside its destination and renames it over
the destination: a rename is atomic, so a reader sees the last good file or the new one, never
a half-written one, and a reader holding the old file open keeps reading the old snapshot. The
serving file is never opened for writing, so a BI tool holding it open cannot block a build.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from cestools.config import Config
from cestools.engines.base import Log, Warehouse
from cestools.errors import CesError, lock_message
from cestools.leftovers import remove_leftovers
from cestools.ownership import DEMO_SCHEMA, DEMO_WORK_SCHEMA, SYSTEM_SCHEMAS
from cestools.serving import served_columns, temporary_name

# the schemas the demo generator writes into a file that may have none yet
GENERATED_SCHEMAS = ("raw", DEMO_SCHEMA, DEMO_WORK_SCHEMA)


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    """(column name, DuckDB type) of schema.table, in order: what a landing into another engine
    creates its table from (each engine maps the types its own way)."""
    return con.execute("""select column_name, data_type from duckdb_columns()
                          where schema_name = ? and table_name = ? order by column_index""",
                       [schema, table]).fetchall()


def connect(path: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """duckdb.connect with the lock and missing-file cases turned into CesError."""
    if read_only and not os.path.exists(path):
        raise CesError(f"{path} does not exist yet: run `make build` first (or set CES_DUCKDB_PATH "
                       "to the warehouse file you built).")
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise CesError(lock_message(path, exc)) from exc
        raise CesError(f"{path} could not be opened: {exc}") from exc
    check_catalog_name(con, path)
    return con


def check_catalog_name(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """DuckDB names a file's catalog after the file (demo.duckdb: `demo`), and a name that is
    also a schema makes every `schema.table` ambiguous ("Ambiguous reference to catalog or
    schema"). Refuse such a file name up front, with the fix, rather than fail half-way."""
    if path == ":memory:":
        return
    catalog = con.execute("select current_database()").fetchone()[0]
    schemas = {name for (name,) in con.execute(
        "select schema_name from duckdb_schemas() where database_name = current_database()").fetchall()}
    if catalog in schemas | set(GENERATED_SCHEMAS):
        con.close()
        raise CesError(f"{path}: DuckDB names the file's catalog {catalog!r}, which is also the name of a schema "
                       f"the project reads or writes, so `{catalog}.<table>` would be ambiguous. Give the file "
                       f"another name (for example CES_DUCKDB_PATH={os.path.join(os.path.dirname(path), 'ces-' + os.path.basename(path))}).")


def replace_atomically(tmp: Path, final: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)


class DuckDBWarehouse(Warehouse):
    engine = "duckdb"
    lands_from_scratch = False  # the demo generator writes into the file itself

    @classmethod
    def open(cls, cfg: Config, read_only: bool = True, path: str | None = None) -> DuckDBWarehouse:
        path = path or cfg.duckdb_path
        return cls(path, connect(path, read_only=read_only), cfg)

    def _fetchall(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def _execute(self, sql: str) -> None:
        self.con.execute(sql)

    def _frame(self, sql: str):
        return self.con.execute(sql).df()

    def schemas(self) -> list[str]:
        return [s for (s,) in self.con.execute(
            "select schema_name from duckdb_schemas() where database_name = current_database()").fetchall()]

    def relations(self) -> list[str]:
        return [f"{s}.{t}" for s, t in self.con.execute("""
            select schema_name, table_name from duckdb_tables() where database_name = current_database()
            union all
            select schema_name, view_name from duckdb_views()
            where database_name = current_database() and not internal
            order by 1, 2""").fetchall() if s not in SYSTEM_SCHEMAS]

    def has_marts(self) -> bool:
        return "marts" in self.schemas()

    def land(self, duck_path: Path, tables: list[tuple[str, str]], where: str = "true",
             append: bool = False, log: Log | None = None) -> dict[str, int]:
        raise CesError("landing copies DuckDB tables into PostgreSQL or Spark, not into DuckDB")

    def publish(self, marts: list[tuple[str, str]], with_pii: bool, invocation: str, log: Log) -> str:
        """The serving DuckDB file (one table per mart, in a storage version older DuckDB clients
        read) and one Parquet file per mart in the serving/ folder beside it."""
        build = self.name
        self.con.close()  # the publish reads the build through its own attachment
        serving = Path(self.cfg.serving_path)
        parquet_dir = Path(self.cfg.serving_parquet_dir)
        serving.parent.mkdir(parents=True, exist_ok=True)
        parquet_dir.mkdir(parents=True, exist_ok=True)
        removed = [*remove_leftovers(serving.parent, {serving.name}),
                   *remove_leftovers(parquet_dir, {f"{name}.parquet" for _schema, name in marts})]
        if removed:
            log(f"removed {len(removed)} temporary file(s) of publishes that died: {', '.join(removed)}")
        tmp_db = serving.with_name(temporary_name(serving.name, os.getpid()))
        tmp_db.unlink(missing_ok=True)
        staged: list[tuple[Path, Path]] = []  # (temporary file, destination)
        con = duckdb.connect()
        try:
            con.execute(f"attach '{tmp_db}' as serving (storage_version '{self.cfg.serving_storage_version}')")
            con.execute(f"attach '{build}' as build (read_only)")
            for i, (schema, name) in enumerate(marts, 1):
                columns = [c for (c,) in con.execute(
                    "select column_name from duckdb_columns() where database_name = 'build' "
                    "and schema_name = ? and table_name = ? order by column_index", [schema, name]).fetchall()]
                if not columns:
                    raise CesError(f"build.{schema}.{name} does not exist: run make build first")
                cols = ", ".join(f'"{c}"' for c in served_columns(columns, with_pii))
                con.execute(f'create table serving.main."{name}" as select {cols} from build."{schema}"."{name}"')
                tmp_parquet = parquet_dir / temporary_name(f"{name}.parquet", os.getpid())
                con.execute(f"copy serving.main.\"{name}\" to '{tmp_parquet}' (format parquet)")
                staged.append((tmp_parquet, parquet_dir / f"{name}.parquet"))
                rows = con.execute(f'select count(*) from serving.main."{name}"').fetchone()[0]
                log(f"{i}/{len(marts)} {name}: {rows:,} rows")
            con.execute("detach build")
            con.execute("checkpoint serving")
            con.execute("detach serving")
            con.close()
        except BaseException:
            con.close()
            for tmp, _final in staged:
                tmp.unlink(missing_ok=True)
            tmp_db.unlink(missing_ok=True)
            raise
        # every file is complete before the first rename
        for tmp, final in [*staged, (tmp_db, serving)]:
            replace_atomically(tmp, final)
        return f"to {serving} and {parquet_dir}/"

    def close(self) -> None:
        try:
            self.con.close()
        except duckdb.Error:  # pragma: no cover - closed by publish already
            pass

    def bi_hint(self) -> str:
        return f"BI tools: read {self.cfg.serving_path} read-only (or the Parquet files beside it in serving/);"

    @classmethod
    def preflight(cls, cfg: Config, built: bool = False) -> None:
        """The build file is not locked by another process; built: it holds the marts already
        (the docs site reads their columns and types from the warehouse)."""
        if built:
            has_marts = False
            if os.path.exists(cfg.duckdb_path):
                wh = cls.open(cfg, read_only=True)
                try:
                    has_marts = wh.has_marts()
                finally:
                    wh.close()
            if not has_marts:
                raise CesError(f"{cfg.duckdb_path} holds no built marts yet, and the docs site reads their "
                               "columns and types from the warehouse: run `make build` first (or set "
                               "CES_DUCKDB_PATH to a built file).")
        if os.path.exists(cfg.duckdb_path):
            connect(cfg.duckdb_path).close()
