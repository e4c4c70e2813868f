"""Cheap checks before dbt runs, so their failures read as messages, not dbt tracebacks.

    python -m cestools.preflight [--vars YAML] [--built]

  - VARS parses as dbt would read it, and each seed var (ces_event_weights_seed, ...) names a
    seed that exists;
  - the target's warehouse can be reached: the DuckDB file is not locked by another process,
    the PostgreSQL server answers, Spark has Java and a free metastore;
  - --built (make docs): the command reads what dbt built, so a DuckDB file must hold the marts.
"""

from __future__ import annotations

import argparse
import sys

from cestools import config, engines, errors, settings


def check(cfg: config.Config, cli_vars: str | None, built: bool = False) -> None:
    settings.check_seed_vars(settings.project_vars(cli_vars))
    engines.preflight(cfg, built)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--vars", default=None)
    p.add_argument("--built", action="store_true", help="the command reads the built marts (make docs)")
    a = p.parse_args(argv)
    check(config.load(), a.vars, a.built)
    return 0


if __name__ == "__main__":
    sys.exit(errors.run(main))
