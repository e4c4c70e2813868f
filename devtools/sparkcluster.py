"""A throwaway Spark cluster for the tests and the benchmark: `make spark-cluster`'s master,
worker and Thrift server (cestools/engines/spark_cluster.py), in a temporary folder, with the
Thrift server on a free port of 127.0.0.1, stopped and removed at the end whatever happens. It
never touches a cluster or a metastore of the user's."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cestools import config
from cestools.engines import spark_cluster
from cestools.errors import CesError
from cestools.ports import free_port


@contextmanager
def local_spark_cluster(memory: str = "2g", log=print) -> Iterator[dict[str, str]]:
    """Start a cluster of our own; yield the environment of the spark_thrift target that
    reaches it (CES_SPARK_CLUSTER_DIR: its folder, whose tables/ holds the Parquet files).
    memory: the worker's and the server's (the driver's) memory each."""
    base = Path(tempfile.mkdtemp(prefix="ces-spark-cluster-"))
    env = {"CES_TARGET": "spark_thrift", "CES_SPARK_HOST": "127.0.0.1",
           "CES_SPARK_PORT": str(free_port()), "CES_SPARK_USER": "ces",
           "CES_SPARK_CLUSTER_DIR": str(base), "CES_SPARK_WORKER_MEMORY": memory,
           "CES_SPARK_DRIVER_MEMORY": memory}
    # dbt's threads as many as the worker's cores: the server and the worker share this
    # machine's cores, and more statements at once only wait for each other (at 10M events a
    # full run took 154 s with 4 threads, 110 s with 2)
    env["CES_THREADS"] = str(config.load({**os.environ, **env}).spark_cores)
    cfg = config.load({**os.environ, **env})
    try:
        spark_cluster.start(cfg, base, log=log)
        yield env
    finally:
        state = spark_cluster.read_state(base)
        spark_cluster.stop(cfg, base, log=log)
        left = spark_cluster.running(state)
        shutil.rmtree(base, ignore_errors=True)
        if left:
            raise CesError(f"the test cluster's processes still run after stop: {left}")
