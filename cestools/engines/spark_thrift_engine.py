"""Spark through a Thrift (HiveServer2) server: the `spark_thrift` target. The server is the
local cluster of `make spark-cluster` or a team's own (EMR, Dataproc, a self-managed cluster),
named by CES_SPARK_HOST, CES_SPARK_PORT and CES_SPARK_USER, as dbt's profile names it.

Everything goes through the server's SQL, so it works where this machine cannot write the
server's disk: the demo data is landed with `insert` statements, each carrying a batch of rows
as one JSON string literal that the server unpacks (`inline(from_json(...))`). A literal is
parsed once, where a `values` list of the same rows costs the SQL parser a node per value.
What the Spark databases hold, and how the publish step repoints the serving views, is the
same as for the local session (spark_engine.py): only the connection differs.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from cestools.config import Config
from cestools.engines.base import Log
from cestools.engines.duckdb_engine import connect as duckdb_connect
from cestools.engines.duckdb_engine import table_columns
from cestools.engines.spark_engine import SparkWarehouse
from cestools.errors import CesError

# rows per insert statement: about 3 MB of JSON for raw.product_events
BATCH_ROWS = 20_000
SPARK_TYPES = {"VARCHAR": "string", "TIMESTAMP": "timestamp", "BIGINT": "bigint", "INTEGER": "int",
               "BOOLEAN": "boolean", "DOUBLE": "double", "DATE": "date"}


def thrift_connect(host: str, port: int, user: str):
    """A PyHive connection to the Thrift server (binary transport, no authentication)."""
    import logging

    from pyhive import hive

    # thrift logs every refused connection at ERROR; the caller says what to do instead
    logging.getLogger("thrift.transport.TSocket").setLevel(logging.CRITICAL)
    return hive.connect(host=host, port=port, username=user)


def answers(host: str, port: int, user: str) -> bool:
    """Whether a Thrift server at host:port answers a query."""
    try:
        con = thrift_connect(host, port, user)
    except Exception:
        return False
    try:
        cur = con.cursor()
        cur.execute("select 1")
        return cur.fetchall() == [(1,)]
    except Exception:
        return False
    finally:
        con.close()


def unreachable(cfg: Config, exc: Exception | None = None) -> CesError:
    why = f" ({str(exc).strip()[:200]})" if exc else ""
    return CesError(f"no Spark Thrift server answers at {cfg.spark_host}:{cfg.spark_port}{why}. Start the local "
                    "one with `make spark-cluster`, or name yours with CES_SPARK_HOST and CES_SPARK_PORT "
                    "(and CES_SPARK_USER); docs/engines.md.")


def sql_string(text: str) -> str:
    """A Spark SQL string literal: Spark reads backslash escapes inside quotes, so both the
    backslash and the quote are escaped."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def batch_insert_sql(schema: str, table: str, columns: list[tuple[str, str]], rows: list[tuple]) -> str:
    """One insert of rows (every value as text, or None) into `schema`.`table`: the rows travel
    as one JSON literal of string fields, cast to the column types on the server."""
    payload = json.dumps([dict(zip([c for c, _ in columns], row, strict=True)) for row in rows], ensure_ascii=True)
    struct = ",".join(f"`{c}`:string" for c, _ in columns)
    select = ", ".join(f"cast(`{c}` as {SPARK_TYPES[t]}) as `{c}`" for c, t in columns)
    return (f"insert into `{schema}`.`{table}` select {select} from "
            f"(select inline(from_json({sql_string(payload)}, 'array<struct<{struct}>>')))")


def land_duckdb_tables_over_sql(duck_path: Path, wh: SparkThriftWarehouse, tables: list[tuple[str, str]],
                                where: str = "true", append: bool = False, log: Log | None = None) -> dict[str, int]:
    """Copy DuckDB tables (schema, table) into Parquet tables of the same names through the
    server's SQL: without append each is first dropped and created again (the callers check that
    it is the project's), with append the rows are one more load. Timestamps travel as UTC
    wall-clock text, which the server (session time zone UTC) reads back as the same instant.
    Returns rows per table."""
    con = duckdb_connect(str(duck_path), read_only=True)
    landed = {}
    try:
        for schema, table in tables:
            started = time.monotonic()
            columns = table_columns(con, schema, table)
            unknown = sorted({t for _c, t in columns} - set(SPARK_TYPES))
            if unknown:
                raise CesError(f"{schema}.{table} has column types the Thrift landing does not carry: {unknown}")
            wh.execute(f"create database if not exists `{schema}`")
            if not append:
                wh.execute(f"drop table if exists `{schema}`.`{table}`")
            wh.execute(f"create table if not exists `{schema}`.`{table}` ("
                       + ", ".join(f"`{c}` {SPARK_TYPES[t]}" for c, t in columns) + ") using parquet")
            as_text = ", ".join(f"strftime(\"{c}\", '%Y-%m-%d %H:%M:%S.%f')" if t == "TIMESTAMP"
                                else f'cast("{c}" as varchar)' for c, t in columns)
            result = con.execute(f'select {as_text} from "{schema}"."{table}" where {where}')
            count = 0
            while rows := result.fetchmany(BATCH_ROWS):
                wh.execute(batch_insert_sql(schema, table, columns, rows))
                count += len(rows)
                if log and count % (BATCH_ROWS * 5) == 0:
                    log(f"{schema}.{table}: {count:,} rows so far")
            landed[f"{schema}.{table}"] = count
            if log:
                log(f"{schema}.{table}: {count:,} rows in {time.monotonic() - started:.1f} s")
    finally:
        con.close()
    return landed


def typed_rows(cur) -> list[tuple]:
    """A PyHive cursor's rows with the types a Spark session gives: the server sends a date as
    text ('2026-10-31'), which becomes a datetime.date; every other type already arrives as
    the session's (timestamps, decimals, numbers, booleans)."""
    dates = [i for i, d in enumerate(cur.description or []) if d[1] == "DATE_TYPE"]
    rows = cur.fetchall()
    if not dates:
        return [tuple(r) for r in rows]
    out = []
    for row in rows:
        values = list(row)
        for i in dates:
            if isinstance(values[i], str):
                values[i] = dt.date.fromisoformat(values[i])
        out.append(tuple(values))
    return out


class SparkThriftWarehouse(SparkWarehouse):
    engine = "spark_thrift"

    @classmethod
    def open(cls, cfg: Config, read_only: bool = True) -> SparkThriftWarehouse:
        try:
            con = thrift_connect(cfg.spark_host, cfg.spark_port, cfg.spark_user)
        except Exception as exc:
            raise unreachable(cfg, exc) from exc
        return cls(f"spark-thrift://{cfg.spark_host}:{cfg.spark_port}", con, cfg)

    def _fetchall(self, sql: str) -> list[tuple]:
        cur = self.con.cursor()
        try:
            cur.execute(sql)
            return typed_rows(cur)
        finally:
            cur.close()

    def _execute(self, sql: str) -> None:
        cur = self.con.cursor()
        try:
            cur.execute(sql)
        finally:
            cur.close()

    def _frame(self, sql: str):
        import pandas as pd

        cur = self.con.cursor()
        try:
            cur.execute(sql)
            # PyHive names a column `alias` as written, or `table.column` for a bare column
            columns = [d[0].rsplit(".", 1)[-1] for d in cur.description]
            return pd.DataFrame(typed_rows(cur), columns=columns)
        finally:
            cur.close()

    def close(self) -> None:
        self.con.close()

    def land(self, duck_path: Path, tables: list[tuple[str, str]], where: str = "true",
             append: bool = False, log: Log | None = None) -> dict[str, int]:
        return land_duckdb_tables_over_sql(duck_path, self, tables, where, append, log)

    def bi_hint(self) -> str:
        return (f"BI tools: read the views of the Spark database {self.cfg.spark_serving_database} through the "
                f"Thrift server at {self.cfg.spark_host}:{self.cfg.spark_port};")

    @classmethod
    def preflight(cls, cfg: Config, built: bool = False) -> None:
        if not answers(cfg.spark_host, cfg.spark_port, cfg.spark_user):
            raise unreachable(cfg)
