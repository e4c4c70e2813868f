"""One home per engine: the only place that knows which engine is which.

Each module holds one engine behind the interface of base.Warehouse (query, list relations,
land, drop, the newest recorded build, publish, the BI hint, preflight). The mapping from the
dbt profile target to its engine is ENGINES, here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from cestools.artifacts import relation_names
from cestools.config import Config
from cestools.engines.base import Warehouse, quote
from cestools.engines.duckdb_engine import DuckDBWarehouse
from cestools.engines.postgres_engine import PostgresWarehouse
from cestools.engines.spark_engine import SparkWarehouse
from cestools.engines.spark_thrift_engine import SparkThriftWarehouse
from cestools.errors import CesError

ENGINES: dict[str, type[Warehouse]] = {"duckdb": DuckDBWarehouse, "postgres": PostgresWarehouse,
                                       "spark": SparkWarehouse, "spark_thrift": SparkThriftWarehouse}

__all__ = ["ENGINES", "Warehouse", "engine_class", "open_warehouse", "preflight", "quote"]


def engine_class(cfg: Config) -> type[Warehouse]:
    """The engine of the profile target CES_TARGET (TARGET=), or a message saying what is allowed."""
    if cfg.target not in ENGINES:
        raise CesError(f"CES_TARGET (TARGET=) is {cfg.target!r}; allowed: "
                       f"{', '.join(ENGINES)}.")
    return ENGINES[cfg.target]


def open_warehouse(cfg: Config, read_only: bool = True) -> Warehouse:
    """Connect to the warehouse cfg names; its queries find CES's relations where the manifest of
    cfg's dbt target folder says they were built."""
    wh = engine_class(cfg).open(cfg, read_only=read_only)
    wh.names = relation_names(Path(cfg.dbt_target_path) / "manifest.json")
    return wh


def preflight(cfg: Config, built: bool = False) -> None:
    """Before dbt runs: the target is known and its warehouse can be reached; built: the
    command reads what dbt built."""
    engine_class(cfg).preflight(cfg, built)
