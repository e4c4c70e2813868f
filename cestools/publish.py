"""Publish step of write-audit-publish: copy the public marts to where BI tools read them.

    python -m cestools.publish [--build PATH] [--serving PATH] [--parquet-dir DIR] [--vars YAML]
                               [--target-path DIR]

It publishes only what passed. Before writing anything it checks, and otherwise refuses with
the serving files left byte for byte as they were:
  - the newest dbt command in the target folder (run_results.json) is a `dbt build`;
  - that build ran every model, seed and test of the project (no --select), and each one
    passed: nothing errored, failed or was skipped (a warning is allowed);
  - it is this warehouse file's build: its invocation id is the newest `build` that the file
    itself recorded (intermediate.ces_build_log, written by an on-run-start hook).
Then it reads the public, contracted models from dbt's manifest and writes
  - a DuckDB file (CES_SERVING_PATH, default warehouse/serving.duckdb), one table per mart;
  - one Parquet file per mart in warehouse/serving/<mart>.parquet.
Each file is written under a temporary name beside its destination and then renamed over it.
A rename is atomic, so a reader sees either the last good file or the new one, never a
half-written one, and a reader holding the old file open keeps reading the old snapshot.
The serving file is never opened for writing, so a BI tool holding it open cannot block
a build.

customer_name is personal data: it is left out of every served table unless the dbt var
ces_serve_customer_name is true (pass the same --vars as to dbt).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import duckdb

from cestools import engines, errors, settings, warehouse
from cestools.errors import CesError

PII_COLUMNS = ("customer_name",)
# the serving file's DuckDB storage format: v1.0.0 is read by every DuckDB client from 1.0 on
# (DuckDB 2.0's own default, the newest format, is refused by 1.x clients: "version number 999")
DEFAULT_STORAGE_VERSION = "v1.0.0"
PASSED = ("success", "pass", "warn")


def log(message: str) -> None:
    print(f"[publish] {message}", flush=True)


def public_marts(manifest_path: Path) -> list[tuple[str, str]]:
    """(schema, name) of every public model with an enforced contract, from the manifest."""
    manifest = json.loads(manifest_path.read_text())
    marts = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["package_name"] != "ces":
            continue
        if node.get("access") == "public" and node["config"].get("contract", {}).get("enforced"):
            marts.append((node["schema"], node["name"]))
    if not marts:
        raise CesError(f"no public contracted models in {manifest_path}: run make build first")
    return sorted(marts, key=lambda m: m[1])


def check_run_results(target: Path) -> str:
    """Refuse (CesError) unless the newest dbt command recorded in target/ is a whole `dbt build`
    that passed. Returns its invocation id."""
    results_path, manifest_path = target / "run_results.json", target / "manifest.json"
    if not results_path.exists() or not manifest_path.exists():
        raise CesError(f"nothing is published: {target}/ holds no record of a dbt build. Run "
                       "`make build`, which publishes when the build passes.")
    run = json.loads(results_path.read_text())
    command = run.get("args", {}).get("which")
    if command != "build":
        raise CesError(f"nothing is published: the newest dbt command recorded in {target}/ is "
                       f"`dbt {command}`, not a `dbt build`. Run `make build` (or `dbt build`, then "
                       "`make publish` right after it).")
    # what the build ran and tested; an exposure (a record of who reads the marts) runs nothing
    # and is reported as no-op
    statuses = {r["unique_id"]: r["status"] for r in run["results"]
                if r["unique_id"].split(".")[0] in ("model", "seed", "test", "unit_test")}
    bad = sorted((status, uid.split(".")[-1]) for uid, status in statuses.items() if status not in PASSED)
    if bad:
        counts: dict[str, int] = {}
        for status, _ in bad:
            counts[status] = counts.get(status, 0) + 1
        named = ", ".join(f"{name} ({status})" for status, name in bad if status != "skipped")
        raise CesError("nothing is published: the newest dbt build did not pass ("
                       + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
                       + f"{': ' + named[:600] if named else ''}). Fix what its output says and run "
                       "`make build` again; the serving data was left as it was.")
    manifest = json.loads(manifest_path.read_text())
    expected = {uid for uid, n in {**manifest["nodes"], **manifest.get("unit_tests", {})}.items()
                if n["package_name"] == "ces" and n["resource_type"] in ("model", "seed", "test", "unit_test")}
    missing = expected - statuses.keys()
    if missing:
        raise CesError(f"nothing is published: the newest dbt build ran {len(expected) - len(missing)} of "
                       f"the project's {len(expected)} models, seeds and tests (a build with --select, "
                       "such as `make weights-impact`). Publishing needs a whole build that passed: "
                       "run `make build`.")
    return run["metadata"]["invocation_id"]


def check_same_warehouse(invocation: str, recorded: str | None, where: str, results_path: Path) -> None:
    """The build in run_results.json must be the newest build the warehouse itself recorded."""
    if recorded != invocation:
        raise CesError(f"nothing is published: {results_path} records a dbt build of another warehouse, "
                       f"not of {where} (its newest build is {recorded or 'none'}, the record's is "
                       f"{invocation}). Run `make build` on this warehouse.")


def check_build_passed(build: Path, target: Path) -> str:
    """Refuse (CesError) unless the newest dbt build of this warehouse file passed whole.
    Returns the build's invocation id."""
    invocation = check_run_results(target)
    con = errors.connect(str(build), read_only=True)
    try:
        recorded = con.execute(f"""
            select invocation_id from {warehouse.BUILD_LOG} where command = 'build'
            order by started_at desc limit 1""").fetchone()
    except duckdb.CatalogException:
        recorded = None
    finally:
        con.close()
    check_same_warehouse(invocation, recorded[0] if recorded else None, str(build), target / "run_results.json")
    return invocation


def serve_customer_name(cli_vars: str | None) -> bool:
    """The dbt var ces_serve_customer_name: --vars first, then dbt_project.yml's default."""
    value = settings.project_vars(cli_vars).get("ces_serve_customer_name", False)
    return str(value).strip().lower() in ("true", "1", "yes")


def served_columns(con: duckdb.DuckDBPyConnection, schema: str, name: str, with_pii: bool) -> str:
    columns = [c for (c,) in con.execute(
        "select column_name from duckdb_columns() where database_name = 'build' "
        "and schema_name = ? and table_name = ? order by column_index", [schema, name]).fetchall()]
    if not columns:
        raise CesError(f"build.{schema}.{name} does not exist: run make build first")
    kept = [c for c in columns if with_pii or c not in PII_COLUMNS]
    return ", ".join(f'"{c}"' for c in kept)


def replace_atomically(tmp: Path, final: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)


def publish(build: Path, serving: Path, parquet_dir: Path, target: Path, with_pii: bool,
            storage_version: str = DEFAULT_STORAGE_VERSION) -> None:
    started = time.time()
    invocation = check_build_passed(build, target)
    marts = public_marts(target / "manifest.json")
    serving.parent.mkdir(parents=True, exist_ok=True)
    parquet_dir.mkdir(parents=True, exist_ok=True)
    tmp_db = serving.with_name(f".{serving.name}.{os.getpid()}.tmp")
    tmp_db.unlink(missing_ok=True)
    staged: list[tuple[Path, Path]] = []  # (temporary file, destination)
    con = duckdb.connect()
    try:
        # written in a storage version that older DuckDB clients (BI drivers) can read
        con.execute(f"attach '{tmp_db}' as serving (storage_version '{storage_version}')")
        con.execute(f"attach '{build}' as build (read_only)")
        for i, (schema, name) in enumerate(marts, 1):
            cols = served_columns(con, schema, name, with_pii)
            con.execute(f'create table serving.main."{name}" as select {cols} from build."{schema}"."{name}"')
            tmp_parquet = parquet_dir / f".{name}.parquet.{os.getpid()}.tmp"
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
    log(f"published {len(marts)} marts of build {invocation} to {serving} and {parquet_dir}/ "
        f"in {time.time() - started:.1f} s"
        + ("" if with_pii else " (customer_name left out; set ces_serve_customer_name to serve it)"))


SERVING_MARK = "published by the CES warehouse: replaced on every publish"


def publish_postgres(target: Path, with_pii: bool, serving_schema: str, bi_role: str) -> None:
    """Write-audit-publish on PostgreSQL: the marts are copied into a schema of their own and
    swapped in for the serving schema in one transaction, so a BI query sees the old tables or
    the new ones, never half. The read-only role bi_role may read the serving schema only."""
    started = time.time()
    invocation = check_run_results(target)
    pg = engines.pg_connect()
    try:
        with pg.cursor() as cur:
            cur.execute("select to_regclass('intermediate.ces_build_log') is not null")
            recorded = None
            if cur.fetchone()[0]:
                cur.execute(f"select invocation_id from {warehouse.BUILD_LOG} where command = 'build' "
                            "order by started_at desc limit 1")
                row = cur.fetchone()
                recorded = row[0] if row else None
            params = engines.pg_params()
            check_same_warehouse(invocation, recorded, f"{params['host']}:{params['port']}/{params['dbname']}",
                                 target / "run_results.json")
            staging, previous = f"{serving_schema}__next", f"{serving_schema}__previous"
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
            marts = public_marts(target / "manifest.json")
            for i, (schema, name) in enumerate(marts, 1):
                cur.execute("select column_name from information_schema.columns where table_schema = %s "
                            "and table_name = %s order by ordinal_position", [schema, name])
                cols = ", ".join(f'"{c}"' for (c,) in cur.fetchall() if with_pii or c not in PII_COLUMNS)
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
        pg.commit()
    except BaseException:
        pg.rollback()
        raise
    finally:
        pg.close()
    log(f"published {len(marts)} marts of build {invocation} to the schema {serving_schema} "
        f"(read-only role {bi_role}) in {time.time() - started:.1f} s"
        + ("" if with_pii else " (customer_name left out; set ces_serve_customer_name to serve it)"))


def publish_spark(target: Path, with_pii: bool, serving_db: str) -> None:
    """Write-audit-publish on Spark. Spark has no multi-table transaction, so each mart is
    copied into a table of this build's own in the database <serving_db>_builds, and then the
    views in <serving_db> are repointed at them, one `create or replace view` each: a BI query
    reads one whole build's table, never a half-written one. The previous build's tables are
    dropped last. Both databases are marked as the publish step's, and it never replaces a
    database of those names that it did not create."""
    started = time.time()
    invocation = check_run_results(target)
    wh = engines.open_warehouse(read_only=False)
    try:
        tables = {t for _db, t, _tmp in wh.fetchall("show tables in intermediate")} if any(
            d == "intermediate" for (d,) in wh.fetchall("show databases")) else set()
        recorded = None
        if "ces_build_log" in tables:
            rows = wh.fetchall(f"select invocation_id from {warehouse.BUILD_LOG} where command = 'build' "
                               "order by started_at desc limit 1")
            recorded = rows[0][0] if rows else None
        check_same_warehouse(invocation, recorded, wh.name, target / "run_results.json")
        store = f"{serving_db}_builds"
        databases = {d for (d,) in wh.fetchall("show databases")}
        for db in (serving_db, store):
            if db in databases and engines.spark_database_comment(wh, db) != SERVING_MARK:
                raise CesError(f"nothing is published: a database {db} exists that the publish step did not "
                               "create, and it never replaces what it did not create. Rename it, or set "
                               "CES_SPARK_SERVING_DATABASE to another name.")
            if db not in databases:
                wh.execute(f"create database `{db}` comment {engines.quote(SERVING_MARK)}")
        suffix = "b" + invocation.replace("-", "")[:12]
        marts = public_marts(target / "manifest.json")
        for i, (schema, name) in enumerate(marts, 1):
            columns = [c for c, *_rest in wh.fetchall(f"describe `{schema}`.`{name}`") if c and not c.startswith("#")]
            cols = ", ".join(f"`{c}`" for c in columns if with_pii or c not in PII_COLUMNS)
            wh.execute(f"drop table if exists `{store}`.`{name}__{suffix}`")
            wh.execute(f"create table `{store}`.`{name}__{suffix}` using parquet as "
                       f"select {cols} from `{schema}`.`{name}`")
            rows = wh.fetchall(f"select count(*) from `{store}`.`{name}__{suffix}`")[0][0]
            log(f"{i}/{len(marts)} {name}: {rows:,} rows")
        # every table is complete before the first view moves
        for _schema, name in marts:
            wh.execute(f"create or replace view `{serving_db}`.`{name}` as select * from `{store}`.`{name}__{suffix}`")
        # only the tables an earlier publish wrote (<mart>__b<12 hex>); anything else stays
        written_by_publish = re.compile("^(" + "|".join(re.escape(name) for _s, name in marts) + r")__b[0-9a-f]{12}$")
        for _db, table, _tmp in wh.fetchall(f"show tables in `{store}`"):
            if written_by_publish.match(table) and not table.endswith(f"__{suffix}"):
                wh.execute(f"drop table if exists `{store}`.`{table}`")
    finally:
        wh.close()
    log(f"published {len(marts)} marts of build {invocation} as the views of the database {serving_db} "
        f"in {time.time() - started:.1f} s"
        + ("" if with_pii else " (customer_name left out; set ces_serve_customer_name to serve it)"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build", type=Path,
                   default=Path(os.environ.get("CES_DUCKDB_PATH", "warehouse/ces.duckdb")))
    p.add_argument("--serving", type=Path,
                   default=Path(os.environ.get("CES_SERVING_PATH", "warehouse/serving.duckdb")))
    p.add_argument("--parquet-dir", type=Path, default=None,
                   help="default: a 'serving' folder beside the serving file")
    p.add_argument("--target-path", type=Path, default=Path(os.environ.get("DBT_TARGET_PATH", "target")),
                   help="dbt's target folder of the build: run_results.json and manifest.json")
    p.add_argument("--vars", default=None, help="the --vars given to dbt build (YAML)")
    p.add_argument("--storage-version", default=os.environ.get("CES_SERVING_STORAGE_VERSION",
                                                               DEFAULT_STORAGE_VERSION),
                   help="DuckDB storage version of the serving file (default %(default)s: DuckDB 1.0 "
                        "and later read it); CES_SERVING_STORAGE_VERSION")
    a = p.parse_args(argv)
    if engines.target() == "spark":
        publish_spark(a.target_path, serve_customer_name(a.vars), os.environ.get("CES_SPARK_SERVING_DATABASE", "serving"))
        return 0
    if engines.target() == "postgres":
        publish_postgres(a.target_path, serve_customer_name(a.vars),
                         os.environ.get("CES_PG_SERVING_SCHEMA", "serving"), os.environ.get("CES_PG_BI_ROLE", "ces_bi"))
        return 0
    publish(a.build, a.serving, a.parquet_dir or a.serving.parent / "serving", a.target_path,
            serve_customer_name(a.vars), a.storage_version)
    return 0


if __name__ == "__main__":
    sys.exit(errors.run(main))
