"""Publish step of write-audit-publish: copy the public marts to where BI tools read them.

    python -m cestools.publish [--build PATH] [--serving PATH] [--parquet-dir DIR] [--vars YAML]

Run it only after `dbt build` passed (the Makefile does: `make build`). It reads the public,
contracted models from dbt's manifest and writes
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
import yaml

ROOT = Path(__file__).resolve().parents[1]
PII_COLUMNS = ("customer_name",)


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
        raise SystemExit(f"no public contracted models in {manifest_path}: run dbt build first")
    return sorted(marts, key=lambda m: m[1])


def serve_customer_name(cli_vars: str | None) -> bool:
    """The dbt var ces_serve_customer_name: --vars first, then dbt_project.yml's default."""
    project = yaml.safe_load((ROOT / "dbt_project.yml").read_text())
    value = project.get("vars", {}).get("ces_serve_customer_name", False)
    if cli_vars:
        value = (yaml.safe_load(cli_vars) or {}).get("ces_serve_customer_name", value)
    return str(value).strip().lower() in ("true", "1", "yes")


def served_columns(con: duckdb.DuckDBPyConnection, schema: str, name: str, with_pii: bool) -> str:
    columns = [c for (c,) in con.execute(
        "select column_name from duckdb_columns() where database_name = 'build' "
        "and schema_name = ? and table_name = ? order by column_index", [schema, name]).fetchall()]
    if not columns:
        raise SystemExit(f"build.{schema}.{name} does not exist: run dbt build first")
    kept = [c for c in columns if with_pii or c not in PII_COLUMNS]
    return ", ".join(f'"{c}"' for c in kept)


def replace_atomically(tmp: Path, final: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)


def publish(build: Path, serving: Path, parquet_dir: Path, manifest: Path, with_pii: bool) -> None:
    started = time.time()
    marts = public_marts(manifest)
    serving.parent.mkdir(parents=True, exist_ok=True)
    parquet_dir.mkdir(parents=True, exist_ok=True)
    tmp_db = serving.with_name(f".{serving.name}.{os.getpid()}.tmp")
    tmp_db.unlink(missing_ok=True)
    staged: list[tuple[Path, Path]] = []  # (temporary file, destination)
    con = duckdb.connect(str(tmp_db))
    try:
        con.execute(f"attach '{build}' as build (read_only)")
        for i, (schema, name) in enumerate(marts, 1):
            cols = served_columns(con, schema, name, with_pii)
            con.execute(f'create table main."{name}" as select {cols} from build."{schema}"."{name}"')
            tmp_parquet = parquet_dir / f".{name}.parquet.{os.getpid()}.tmp"
            con.execute(f"copy main.\"{name}\" to '{tmp_parquet}' (format parquet)")
            staged.append((tmp_parquet, parquet_dir / f"{name}.parquet"))
            rows = con.execute(f'select count(*) from main."{name}"').fetchone()[0]
            log(f"{i}/{len(marts)} {name}: {rows:,} rows")
        con.execute("detach build")
        con.execute("checkpoint")
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
    log(f"published {len(marts)} marts to {serving} and {parquet_dir}/ in {time.time() - started:.1f} s"
        + ("" if with_pii else " (customer_name left out; set ces_serve_customer_name to serve it)"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build", type=Path,
                   default=Path(os.environ.get("CES_DUCKDB_PATH", "warehouse/ces.duckdb")))
    p.add_argument("--serving", type=Path,
                   default=Path(os.environ.get("CES_SERVING_PATH", "warehouse/serving.duckdb")))
    p.add_argument("--parquet-dir", type=Path, default=None,
                   help="default: a 'serving' folder beside the serving file")
    p.add_argument("--manifest", type=Path, default=Path("target/manifest.json"))
    p.add_argument("--vars", default=None, help="the --vars given to dbt build (YAML)")
    a = p.parse_args(argv)
    publish(a.build, a.serving, a.parquet_dir or a.serving.parent / "serving", a.manifest,
            serve_customer_name(a.vars))
    return 0


if __name__ == "__main__":
    sys.exit(main())
