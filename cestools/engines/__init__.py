"""One home per engine: the only place that knows which engine is which.

Each module holds one engine behind the interface of base.Warehouse (query, list relations,
land, drop, the newest recorded build, publish, the BI hint, preflight). The mapping from the
dbt profile target to its engine is ENGINES, here and nowhere else.
"""

from __future__ import annotations

from cestools.config import Config
from cestools.engines.base import Warehouse, quote
from cestools.engines.duckdb_engine import DuckDBWarehouse
from cestools.engines.postgres_engine import PostgresWarehouse
from cestools.engines.spark_engine import SparkWarehouse
from cestools.errors import CesError

ENGINES: dict[str, type[Warehouse]] = {"duckdb": DuckDBWarehouse, "postgres": PostgresWarehouse,
                                       "spark": SparkWarehouse}
# a Spark cluster through its Thrift server: dbt only (make dbt-build); cestools uses the local session
DBT_ONLY_TARGETS = ("spark_thrift",)

__all__ = ["ENGINES", "DBT_ONLY_TARGETS", "Warehouse", "engine_class", "open_warehouse", "preflight", "quote"]


def engine_class(cfg: Config) -> type[Warehouse]:
    """The engine of the profile target CES_TARGET (TARGET=), or a message saying what is allowed."""
    if cfg.target in DBT_ONLY_TARGETS:
        raise CesError(f"TARGET={cfg.target} is for dbt itself (make dbt-build, or dbt with CES_TARGET={cfg.target}); "
                       "the cestools commands (demo-data, publish, summary, weights-impact) run on duckdb, postgres "
                       "and the local spark session.")
    if cfg.target not in ENGINES:
        raise CesError(f"CES_TARGET (TARGET=) is {cfg.target!r}; allowed: "
                       f"{', '.join([*ENGINES, *DBT_ONLY_TARGETS])}.")
    return ENGINES[cfg.target]


def open_warehouse(cfg: Config, read_only: bool = True) -> Warehouse:
    return engine_class(cfg).open(cfg, read_only=read_only)


def preflight(cfg: Config, built: bool = False) -> None:
    """Before dbt runs: the target is known and its warehouse can be reached (dbt-only targets
    are left to dbt); built: the command reads what dbt built."""
    if cfg.target in DBT_ONLY_TARGETS:
        return
    engine_class(cfg).preflight(cfg, built)
