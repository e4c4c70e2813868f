"""Every setting cestools reads from the environment, read in one place, with its default.

The Makefile exports these (docs/settings.md); dbt's profiles read the same names.
Nothing else in cestools reads os.environ: a command calls `load()` once and passes the
Config on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILES_DIR = ROOT / "profiles"

DEFAULT_DUCKDB_PATH = "warehouse/ces.duckdb"
DEFAULT_SERVING_PATH = "warehouse/serving.duckdb"
DEFAULT_SPARK_DIR = "warehouse/spark"
DEFAULT_SPARK_CLUSTER_DIR = "warehouse/spark-cluster"
# the serving file's DuckDB storage format: v1.0.0 is read by every DuckDB client from 1.0 on
# (DuckDB 2.0's own default, the newest format, is refused by 1.x clients: "version number 999")
DEFAULT_STORAGE_VERSION = "v1.0.0"


@dataclass(frozen=True)
class Config:
    target: str = "duckdb"                       # CES_TARGET: the dbt profile target
    duckdb_path: str = DEFAULT_DUCKDB_PATH       # CES_DUCKDB_PATH: the build file
    serving_path: str = DEFAULT_SERVING_PATH     # CES_SERVING_PATH: what BI reads (DuckDB)
    serving_storage_version: str = DEFAULT_STORAGE_VERSION  # CES_SERVING_STORAGE_VERSION
    parquet_dir: str = ""                        # the served Parquet files (default: serving/ beside the file)
    dbt_target_path: str = "target"              # DBT_TARGET_PATH: dbt's artifacts
    pg_host: str = "localhost"                   # CES_PG_HOST
    pg_port: int = 5432                          # CES_PG_PORT
    pg_user: str = "postgres"                    # CES_PG_USER
    pg_password: str = ""                        # CES_PG_PASSWORD
    pg_dbname: str = "ces"                       # CES_PG_DBNAME
    pg_serving_schema: str = "serving"           # CES_PG_SERVING_SCHEMA
    pg_bi_role: str = "ces_bi"                   # CES_PG_BI_ROLE
    spark_dir: str = DEFAULT_SPARK_DIR           # CES_SPARK_DIR: warehouse and metastore of the session
    spark_serving_database: str = "serving"      # CES_SPARK_SERVING_DATABASE
    spark_lock_wait: float = 30.0                # CES_SPARK_LOCK_WAIT: seconds to wait for the metastore
    spark_host: str = "localhost"                # CES_SPARK_HOST: the Thrift server of spark_thrift
    spark_port: int = 10000                      # CES_SPARK_PORT: its port
    spark_user: str = "ces"                      # CES_SPARK_USER: the user dbt connects as
    spark_cores: int = 2                         # CES_SPARK_CORES: the session's, or the cluster worker's, cores
    spark_worker_memory: str = "4g"              # CES_SPARK_WORKER_MEMORY: the cluster worker's memory
    spark_cluster_dir: str = DEFAULT_SPARK_CLUSTER_DIR  # CES_SPARK_CLUSTER_DIR: make spark-cluster's folder
    debug: bool = False                          # CES_DEBUG: tracebacks on unexpected errors
    env: Mapping[str, str] | None = None         # the environment it was read from (for dbt's profile)

    @property
    def serving_parquet_dir(self) -> str:
        return self.parquet_dir or os.path.join(os.path.dirname(self.serving_path), "serving")

    @property
    def duckdb_temp_dir(self) -> str:
        return os.path.join(os.path.dirname(os.path.abspath(self.duckdb_path)), "tmp")


def load(env: Mapping[str, str] | None = None) -> Config:
    """The settings from env (default: this process's environment)."""
    e = dict(os.environ if env is None else env)
    return Config(
        target=e.get("CES_TARGET", "duckdb"),
        duckdb_path=e.get("CES_DUCKDB_PATH", DEFAULT_DUCKDB_PATH),
        serving_path=e.get("CES_SERVING_PATH", DEFAULT_SERVING_PATH),
        serving_storage_version=e.get("CES_SERVING_STORAGE_VERSION", DEFAULT_STORAGE_VERSION),
        dbt_target_path=e.get("DBT_TARGET_PATH", "target"),
        pg_host=e.get("CES_PG_HOST", "localhost"),
        pg_port=int(e.get("CES_PG_PORT", "5432")),
        pg_user=e.get("CES_PG_USER", "postgres"),
        pg_password=e.get("CES_PG_PASSWORD", ""),
        pg_dbname=e.get("CES_PG_DBNAME", "ces"),
        pg_serving_schema=e.get("CES_PG_SERVING_SCHEMA", "serving"),
        pg_bi_role=e.get("CES_PG_BI_ROLE", "ces_bi"),
        spark_dir=e.get("CES_SPARK_DIR", DEFAULT_SPARK_DIR),
        spark_serving_database=e.get("CES_SPARK_SERVING_DATABASE", "serving"),
        spark_lock_wait=float(e.get("CES_SPARK_LOCK_WAIT", "30")),
        spark_host=e.get("CES_SPARK_HOST", "localhost"),
        spark_port=int(e.get("CES_SPARK_PORT", "10000")),
        spark_user=e.get("CES_SPARK_USER", "ces"),
        spark_cores=int(e.get("CES_SPARK_CORES", "2")),
        spark_worker_memory=e.get("CES_SPARK_WORKER_MEMORY", "4g"),
        spark_cluster_dir=e.get("CES_SPARK_CLUSTER_DIR", DEFAULT_SPARK_CLUSTER_DIR),
        debug=bool(e.get("CES_DEBUG")),
        env=e,
    )
