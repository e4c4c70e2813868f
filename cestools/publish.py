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
import sys
import time
from pathlib import Path

import duckdb

from cestools import errors, settings, warehouse
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


def check_build_passed(build: Path, target: Path) -> str:
    """Refuse (CesError) unless the newest dbt build of this warehouse file passed whole.
    Returns the build's invocation id."""
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
    statuses = {r["unique_id"]: r["status"] for r in run["results"]}
    bad = sorted((status, uid.split(".")[-1]) for uid, status in statuses.items() if status not in PASSED)
    if bad:
        counts: dict[str, int] = {}
        for status, _ in bad:
            counts[status] = counts.get(status, 0) + 1
        named = ", ".join(f"{name} ({status})" for status, name in bad if status != "skipped")
        raise CesError("nothing is published: the newest dbt build did not pass ("
                       + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
                       + f"{': ' + named[:600] if named else ''}). Fix what its output says and run "
                       "`make build` again; the serving files were left as they were.")
    manifest = json.loads(manifest_path.read_text())
    expected = {uid for uid, n in {**manifest["nodes"], **manifest.get("unit_tests", {})}.items()
                if n["package_name"] == "ces" and n["resource_type"] in ("model", "seed", "test", "unit_test")}
    missing = expected - statuses.keys()
    if missing:
        raise CesError(f"nothing is published: the newest dbt build ran {len(expected) - len(missing)} of "
                       f"the project's {len(expected)} models, seeds and tests (a build with --select, "
                       "such as `make weights-impact`). Publishing needs a whole build that passed: "
                       "run `make build`.")
    invocation = run["metadata"]["invocation_id"]
    con = errors.connect(str(build), read_only=True)
    try:
        recorded = con.execute(f"""
            select invocation_id from {warehouse.BUILD_LOG} where command = 'build'
            order by started_at desc limit 1""").fetchone()
    except duckdb.CatalogException:
        recorded = None
    finally:
        con.close()
    if not recorded or recorded[0] != invocation:
        raise CesError(f"nothing is published: {results_path} records a dbt build of another warehouse "
                       f"file, not of {build} (its newest build is "
                       f"{recorded[0] if recorded else 'none'}, the record's is {invocation}). Run "
                       f"`make build` with CES_DUCKDB_PATH={build}.")
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
    publish(a.build, a.serving, a.parquet_dir or a.serving.parent / "serving", a.target_path,
            serve_customer_name(a.vars), a.storage_version)
    return 0


if __name__ == "__main__":
    sys.exit(errors.run(main))
