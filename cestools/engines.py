"""What differs by engine outside dbt: how to reach a warehouse and land raw tables in it.

DuckDB is the default and is reached through cestools.errors.connect. PostgreSQL is reached
with the same CES_PG_* environment variables the dbt profile reads, and JIT is off for every
session (PGOPTIONS): PostgreSQL's JIT adds 1-3 s to each query over this project's chain of
views (a count on int_customer_scores_by_version: 3.05 s with JIT, 0.06 s without).

Landing tables replaces them, so only the tests call it, on servers they start themselves;
`make demo-data TARGET=postgres` (with the ownership rules of cestools/warehouse.py) is the
next step of the engines issue.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cestools import errors
from cestools.errors import CesError

RAW_TABLES = ("customers", "product_events", "support_tickets")
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


def target() -> str:
    """The profile target this run uses: CES_TARGET (default duckdb), as profiles.yml reads it."""
    return os.environ.get("CES_TARGET", "duckdb")


class Warehouse:
    """The few queries cestools runs on the built warehouse, on whichever engine holds it."""

    def __init__(self, name: str, con, engine: str) -> None:
        self.name, self.con, self.engine = name, con, engine

    def fetchall(self, sql: str) -> list[tuple]:
        if self.engine == "duckdb":
            return self.con.execute(sql).fetchall()
        with self.con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def close(self) -> None:
        self.con.close()


def open_warehouse(read_only: bool = True) -> Warehouse:
    engine = target()
    if engine == "postgres":
        params = pg_params()
        con = pg_connect()
        con.autocommit = True
        return Warehouse(f"postgres://{params['host']}:{params['port']}/{params['dbname']}", con, engine)
    if engine != "duckdb":
        raise CesError(f"CES_TARGET={engine}: the cestools commands run on duckdb and postgres so far.")
    path = os.environ.get("CES_DUCKDB_PATH", "warehouse/ces.duckdb")
    return Warehouse(path, errors.connect(path, read_only=read_only), engine)


def quote(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"
