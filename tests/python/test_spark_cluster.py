"""`make spark-cluster`: a Spark standalone master, a worker and a Thrift server started from the
pinned pyspark on 127.0.0.1, in a temporary folder on a free port, and stopped again. A query
through the Thrift server runs on the worker's executor, Hive's function registry initialises
(the server needs it to close a session), dbt's spark_thrift target reaches it,
a second start is refused with the reason, and the stop leaves no process running (nor the
JVMs' scratch files, which are kept in the cluster's folder, not in /tmp)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import BIN, ROOT

from cestools.engines import spark_cluster
from cestools.leftovers import is_alive
from cestools.ports import free_port

# starts JVMs: the whole suite, not make test-fast
pytestmark = pytest.mark.slow


def test_make_spark_cluster_starts_answers_refuses_a_second_start_and_stops(tmp_path):
    from pyhive import hive

    folder, port = tmp_path / "cluster", free_port()
    env = {**os.environ, "CES_SPARK_CLUSTER_DIR": str(folder), "CES_SPARK_PORT": str(port),
           "CES_SPARK_HOST": "127.0.0.1", "CES_SPARK_WORKER_MEMORY": "2g"}

    def make(target: str) -> subprocess.CompletedProcess:
        return subprocess.run(["make", "--no-print-directory", target], cwd=ROOT, env=env, capture_output=True,
                              text=True)

    started = make("spark-cluster")
    try:
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        assert f"CES_SPARK_PORT={port}" in started.stdout, "it says where to connect"
        state = json.loads((folder / "cluster.json").read_text())
        pids = {role: pid for role, (pid, _) in state["processes"].items()}
        assert set(pids) == {"master", "worker", "thrift"} and all(map(is_alive, pids.values()))

        con = hive.connect(host="127.0.0.1", port=port, username="ces")
        try:
            cur = con.cursor()
            cur.execute("create database if not exists smoke")
            cur.execute("create table smoke.numbers using parquet as select id from range(1000)")
            cur.execute("select count(*), sum(id) from smoke.numbers")
            assert cur.fetchall() == [(1000, 499500)]
            # Hive's function registry initialises on the driver and on the executor: the server
            # initialises it when a session closes, and without hive-llap-common (not in the
            # pyspark wheel) it failed there with NoClassDefFoundError LlapSigner$Signable
            cur.execute("select java_method('org.apache.hadoop.hive.ql.exec.FunctionRegistry', "
                        "'getNormalizedFunctionName', 'ABS')")
            assert cur.fetchall() == [("abs",)]
        finally:
            con.close()
        assert list((folder / "tables" / "smoke.db" / "numbers").glob("*.parquet")), "the cluster's warehouse folder"
        assert "Asked to launch executor" in (folder / "logs" / "worker.log").read_text(), "the query ran on the worker"
        scratch = folder / "tmp"
        assert list(scratch.glob("blockmgr-*")) and list(scratch.glob("*_resources")), \
            "the JVMs' block files and Hive's session folders are in the cluster's folder, not /tmp"

        debug = subprocess.run([str(BIN / "dbt"), "--no-use-colors", "debug", "--target", "spark_thrift",
                                "--log-path", str(tmp_path / "logs")], cwd=ROOT, capture_output=True, text=True,
                               env={**env, "DBT_PROFILES_DIR": str(ROOT / "profiles")})
        assert debug.returncode == 0 and "Connection test: [OK connection ok]" in debug.stdout, debug.stdout[-3000:]

        again = make("spark-cluster")
        assert again.returncode != 0 and "is already running" in again.stderr and "make spark-cluster-stop" in again.stderr, \
            again.stderr[-2000:]
        assert all(map(is_alive, pids.values())), "the refused start left the running cluster alone"

        stopped = make("spark-cluster-stop")
        assert stopped.returncode == 0 and "stopped thrift" in stopped.stdout, stopped.stderr[-2000:]
        assert not any(map(is_alive, pids.values())) and not (folder / "cluster.json").exists()
        assert not scratch.exists(), "the stop removes the JVMs' scratch"
        assert (folder / "tables" / "smoke.db").is_dir(), "stopping keeps the warehouse"
    finally:
        state_file = folder / "cluster.json"
        if state_file.exists():  # a failed assertion above: never leave the JVMs running
            spark_cluster.stop_processes(json.loads(state_file.read_text()))
