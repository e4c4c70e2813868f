"""Cheap checks before dbt runs, so their failures read as messages, not dbt tracebacks.

    python -m cestools.preflight [--vars YAML] [--built]

  - VARS parses as dbt would read it;
  - the target's warehouse can be reached: the DuckDB file is not locked by another process,
    the PostgreSQL server answers, Spark has Java and a free metastore;
  - --built (make docs): the command reads what dbt built, so a DuckDB file must hold the marts.
"""

from __future__ import annotations

import argparse
import os
import sys

from cestools import config, engines, errors, settings
from cestools.engines.duckdb_engine import DuckDBWarehouse
from cestools.errors import CesError


def check(cfg: config.Config, cli_vars: str | None, built: bool = False) -> None:
    settings.project_vars(cli_vars)
    engine = engines.engine_class(cfg) if cfg.target not in engines.DBT_ONLY_TARGETS else None
    if built and engine is DuckDBWarehouse:
        has_marts = False
        if os.path.exists(cfg.duckdb_path):
            wh = DuckDBWarehouse.open(cfg, read_only=True)
            try:
                has_marts = wh.has_marts()
            finally:
                wh.close()
        if not has_marts:
            raise CesError(f"{cfg.duckdb_path} holds no built marts yet, and the docs site reads their columns "
                           "and types from the warehouse: run `make build` first (or set CES_DUCKDB_PATH to a "
                           "built file).")
    engines.preflight(cfg)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--vars", default=None)
    p.add_argument("--built", action="store_true", help="the command reads the built marts (make docs)")
    a = p.parse_args(argv)
    check(config.load(), a.vars, a.built)
    return 0


if __name__ == "__main__":
    sys.exit(errors.run(main))
