"""PostgreSQL: reached with the same CES_PG_* settings the dbt profile reads, with JIT off for
every session: PostgreSQL's JIT adds 1-3 s to each query over this project's chain of views (a
count on the old int_customer_scores_by_version view: 3.05 s with JIT, 0.06 s without).

Publishing copies the marts into a schema of their own and swaps it in for the serving schema
in one transaction, so a BI query sees the old tables or the new ones, never half. The
read-only role CES_PG_BI_ROLE may read the serving schema only.
"""

from __future__ import annotations

import time
from pathlib import Path

from cestools.config import Config
from cestools.engines.base import Log, Warehouse
from cestools.engines.duckdb_engine import connect as duckdb_connect
from cestools.engines.duckdb_engine import table_columns
from cestools.errors import CesError
from cestools.leftovers import scratch_folder
from cestools.serving import SERVING_MARK, served_columns

PG_TYPES = {"VARCHAR": "text", "TIMESTAMP": "timestamp", "INTEGER": "integer", "BIGINT": "bigint",
            "DATE": "date", "BOOLEAN": "boolean", "DOUBLE": "double precision"}
PG_SESSION = "-c jit=off"


def pg_params(cfg: Config) -> dict[str, object]:
    """Connection settings, as profiles/profiles.yml reads them."""
    return {"host": cfg.pg_host, "port": cfg.pg_port, "user": cfg.pg_user, "password": cfg.pg_password,
            "dbname": cfg.pg_dbname, "options": PG_SESSION}


def pg_connect(cfg: Config):
    import psycopg2

    params = pg_params(cfg)
    try:
        return psycopg2.connect(**params)
    except psycopg2.OperationalError as exc:
        raise CesError(f"PostgreSQL at {params['host']}:{params['port']} (database {params['dbname']}, "
                       f"user {params['user']}) could not be reached: {str(exc).strip()}. Set CES_PG_HOST, "
                       "CES_PG_PORT, CES_PG_USER, CES_PG_PASSWORD and CES_PG_DBNAME.") from exc


def land_duckdb_tables_in_postgres(duck_path: Path, pg, tables: list[tuple[str, str]],
                                   where: str = "true", append: bool = False,
                                   log: Log | None = None) -> dict[str, int]:
    """Copy DuckDB tables (schema, table) into the same names in PostgreSQL with COPY, creating
    the schema and replacing each table (append: adding to it, as a loader lands a new batch);
    `where` filters the rows of every table. Returns rows per table."""
    con = duckdb_connect(str(duck_path), read_only=True)
    landed = {}
    try:
        with scratch_folder("landing") as tmp, pg.cursor() as cur:
            for schema, table in tables:
                started = time.monotonic()
                columns = table_columns(con, schema, table)
                cur.execute(f'create schema if not exists "{schema}"')
                if not append:
                    cur.execute(f'drop table if exists "{schema}"."{table}"')
                cur.execute(f'create table if not exists "{schema}"."{table}" ('
                            + ", ".join(f'"{c}" {PG_TYPES[t]}' for c, t in columns) + ")")
                csv = tmp / f"{schema}.{table}.csv"
                con.execute(f"copy (select * from \"{schema}\".\"{table}\" where {where}) to '{csv}' (header false)")
                with open(csv) as f:
                    cur.copy_expert(f'copy "{schema}"."{table}" from stdin with (format csv)', f)
                landed[f"{schema}.{table}"] = cur.rowcount
                if log:
                    log(f"{schema}.{table}: {cur.rowcount:,} rows in {time.monotonic() - started:.1f} s")
        pg.commit()
    finally:
        con.close()
    return landed


class PostgresWarehouse(Warehouse):
    engine = "postgres"

    @classmethod
    def open(cls, cfg: Config, read_only: bool = True) -> PostgresWarehouse:
        con = pg_connect(cfg)
        con.autocommit = True
        return cls(f"postgres://{cfg.pg_host}:{cfg.pg_port}/{cfg.pg_dbname}", con, cfg)

    def _fetchall(self, sql: str, params: list | None = None) -> list[tuple]:
        with self.con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def _execute(self, sql: str, params: list | None = None) -> None:
        with self.con.cursor() as cur:
            cur.execute(sql, params)

    def _frame(self, sql: str):
        import pandas as pd

        with self.con.cursor() as cur:
            cur.execute(sql)
            return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])

    def schemas(self) -> list[str]:
        return [s for (s,) in self.fetchall("select nspname from pg_namespace")]

    def relations(self) -> list[str]:
        return [t for (t,) in self.fetchall("""
            select table_schema || '.' || table_name from information_schema.tables
            where table_schema not in ('pg_catalog', 'information_schema')
            and table_schema not like 'pg\\_%' order by 1""")]

    def marked_serving_schemas(self) -> set[str]:
        return {s for (s,) in self.fetchall(
            "select nspname from pg_namespace where obj_description(oid, 'pg_namespace') = %s", [SERVING_MARK])}

    def schema_comment(self, schema: str) -> str | None:
        rows = self.fetchall("select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = %s",
                             [schema])
        return rows[0][0] if rows else None

    def land(self, duck_path: Path, tables: list[tuple[str, str]], where: str = "true",
             append: bool = False, log: Log | None = None) -> dict[str, int]:
        return land_duckdb_tables_in_postgres(duck_path, self.con, tables, where, append, log)

    def publish(self, marts: list[tuple[str, str]], with_pii: bool, invocation: str, log: Log) -> str:
        serving_schema, bi_role = self.cfg.pg_serving_schema, self.cfg.pg_bi_role
        staging, previous = f"{serving_schema}__next", f"{serving_schema}__previous"
        self.con.autocommit = False
        try:
            with self.con.cursor() as cur:
                for schema in (serving_schema, staging, previous):
                    cur.execute("select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = %s",
                                [schema])
                    row = cur.fetchone()
                    if row and row[0] != SERVING_MARK:
                        raise CesError(f"nothing is published: a schema {schema} exists that the publish step did "
                                       "not create, and it never replaces what it did not create. Rename that "
                                       "schema, or set CES_PG_SERVING_SCHEMA to another name.")
                cur.execute("select 1 from pg_roles where rolname = %s", [bi_role])
                if cur.fetchone() is None:
                    cur.execute(f'create role "{bi_role}" login')
                    cur.execute(f"comment on role \"{bi_role}\" is 'read-only BI role of the CES warehouse'")
                cur.execute(f'drop schema if exists "{staging}" cascade')
                cur.execute(f'create schema "{staging}"')
                cur.execute(f'comment on schema "{staging}" is %s', [SERVING_MARK])
                for i, (schema, name) in enumerate(marts, 1):
                    cur.execute("select column_name from information_schema.columns where table_schema = %s "
                                "and table_name = %s order by ordinal_position", [schema, name])
                    cols = ", ".join(f'"{c}"' for c in served_columns([c for (c,) in cur.fetchall()], with_pii))
                    cur.execute(f'create table "{staging}"."{name}" as select {cols} from "{schema}"."{name}"')
                    log(f"{i}/{len(marts)} {name}: {cur.rowcount:,} rows")
                cur.execute(f'grant usage on schema "{staging}" to "{bi_role}"')
                cur.execute(f'grant select on all tables in schema "{staging}" to "{bi_role}"')
                # the swap: everything above and below commits at once
                cur.execute("select 1 from pg_namespace where nspname = %s", [serving_schema])
                if cur.fetchone():
                    cur.execute(f'alter schema "{serving_schema}" rename to "{previous}"')
                cur.execute(f'alter schema "{staging}" rename to "{serving_schema}"')
                cur.execute(f'drop schema if exists "{previous}" cascade')
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        return f"to the schema {serving_schema} (read-only role {bi_role})"

    def bi_hint(self) -> str:
        return f"BI tools: connect as the read-only role {self.cfg.pg_bi_role} and read the schema serving;"

    @classmethod
    def preflight(cls, cfg: Config, built: bool = False) -> None:
        """The server answers."""
        pg_connect(cfg).close()
