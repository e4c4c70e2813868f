"""Publish step of write-audit-publish: copy the public marts to where BI tools read them.

    python -m cestools.publish [--build PATH] [--serving PATH] [--parquet-dir DIR] [--vars YAML]
                               [--target-path DIR]

It publishes only what passed. Before writing anything it checks, and otherwise refuses with
the serving data left as it was (cestools/artifacts.py):
  - the newest dbt command in the target folder (run_results.json) is a `dbt build`;
  - that build ran every model, seed and test of the project (no --select), and each one
    passed: nothing errored, failed or was skipped (a warning is allowed);
  - it is this warehouse's build: its invocation id is the newest `build` that the warehouse
    itself recorded (intermediate.ces_build_log, written by an on-run-start hook).
Then it reads the public, contracted models from dbt's manifest and hands them to the engine's
publisher (cestools/engines/): on DuckDB a serving file plus Parquet files, on PostgreSQL a
schema swapped in one transaction, on Spark views over one build's tables.

customer_name is personal data: it is left out of every served table unless the dbt var
ces_serve_customer_name is true (pass the same --vars as to dbt).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from cestools import artifacts, config, engines, errors, serving, settings


def log(message: str) -> None:
    print(f"[publish] {message}", flush=True)


def serve_customer_name(cli_vars: str | None) -> bool:
    """The dbt var ces_serve_customer_name: --vars first, then dbt_project.yml's default."""
    value = settings.project_vars(cli_vars).get("ces_serve_customer_name", False)
    return str(value).strip().lower() in ("true", "1", "yes")


def publish(cfg: config.Config, target: Path, with_pii: bool) -> None:
    started = time.time()
    invocation = artifacts.check_run_results(target)
    wh = engines.open_warehouse(cfg, read_only=True)
    try:
        manifest = json.loads((target / "manifest.json").read_text())
        recorded = wh.recorded_build(artifacts.build_log(manifest))
        artifacts.check_same_warehouse(invocation, recorded, wh.name, target / "run_results.json")
        marts = artifacts.public_marts(target / "manifest.json")
        where = wh.publish(marts, with_pii, invocation, log)
    finally:
        wh.close()
    log(f"published {len(marts)} marts of build {invocation} {where} in {time.time() - started:.1f} s"
        + serving.pii_note(with_pii))


def main(argv: list[str] | None = None) -> int:
    cfg = config.load()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build", default=cfg.duckdb_path, help="DuckDB: the build file (CES_DUCKDB_PATH)")
    p.add_argument("--serving", default=cfg.serving_path, help="DuckDB: the serving file (CES_SERVING_PATH)")
    p.add_argument("--parquet-dir", default=cfg.parquet_dir,
                   help="DuckDB: the served Parquet files (default: a 'serving' folder beside the serving file)")
    p.add_argument("--target-path", type=Path, default=Path(cfg.dbt_target_path),
                   help="dbt's target folder of the build: run_results.json and manifest.json")
    p.add_argument("--vars", default=None, help="the --vars given to dbt build (YAML)")
    p.add_argument("--storage-version", default=cfg.serving_storage_version,
                   help="DuckDB storage version of the serving file (default %(default)s: DuckDB 1.0 "
                        "and later read it); CES_SERVING_STORAGE_VERSION")
    a = p.parse_args(argv)
    cfg = dataclasses.replace(cfg, duckdb_path=a.build, serving_path=a.serving, parquet_dir=a.parquet_dir,
                              serving_storage_version=a.storage_version)
    publish(cfg, a.target_path, serve_customer_name(a.vars))
    return 0


if __name__ == "__main__":
    sys.exit(errors.run(main))
