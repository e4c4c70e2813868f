"""The same models on Spark the way a cluster runs them: a standalone master, a worker and a
Thrift server of the tests' own (devtools/sparkcluster.py: `make spark-cluster`'s processes in a
temporary folder, on a free port), reached through the spark_thrift target, with demo data with
every defect landed through the server's SQL. `make build TARGET=spark_thrift` (every data, unit
and reconciliation test, then publish), the oracle, every public mart equal to DuckDB's (and to
PostgreSQL's), incremental loads equal to a full build, and publish only after a whole build.
One short test keeps the local session method (TARGET=spark) honest.

The cluster's tables are Parquet files in its folder, so the comparisons read them with DuckDB;
what a BI client reads (the serving views) is read through the Thrift server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import (
    BIN,
    common_columns,
    copy_project,
    create_database,
    dbt,
    except_both_ways,
    pg_to_duckdb,
    public_marts,
)
from oracle import scores

from devtools.sparkcluster import local_spark_cluster

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow

SMALL = ["EVENTS=20000", "CUSTOMERS=200", "SEED=7", "DEFECTS=1"]
# the incremental models (the event layer) and the public marts that read it directly; every
# other model is a table rebuilt in full from these on every run
INCREMENTAL_MODELS = ["int_engagement_events_unioned", "int_engagement_events_daily"]
INCREMENTAL_COMPARED = ["fct_event_reconciliation", "fct_quarantined_events"]


def run_make(project: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=project, capture_output=True, text=True,
                          env={**os.environ, **env, "DBT_PROFILES_DIR": str(project / "profiles")})


def spark_env(work: Path, cluster: dict[str, str]) -> dict[str, str]:
    """The spark_thrift environment of a test: the cluster, and DuckDB paths no build may write."""
    return {**cluster, "CES_DUCKDB_PATH": str(work / "duck" / "unused.duckdb"),
            "CES_SERVING_PATH": str(work / "duck" / "unused-serving.duckdb")}


def tables_of(env: dict[str, str]) -> Path:
    """The folder the cluster's Spark warehouse writes its tables to."""
    return Path(env["CES_SPARK_CLUSTER_DIR"]) / "tables"


def spark_queries(env: dict, *sqls: str) -> list[list[list]]:
    """The rows of each query, every value as text, through the Thrift server as a BI client
    reads them (the project's own spark_thrift connection)."""
    from cestools import config, engines

    wh = engines.open_warehouse(config.load({**os.environ, **env}))
    try:
        return [[[str(v) for v in r] for r in wh.fetchall(q)] for q in sqls]
    finally:
        wh.close()


def spark_query(env: dict, sql: str) -> list[list]:
    """The rows of one query (spark_queries)."""
    return spark_queries(env, sql)[0]


def load_spark_tables(tables: Path, con: duckdb.DuckDBPyConnection, schema: str, names: list[str]) -> None:
    """Spark's tables, read from their Parquet files in the warehouse folder `tables` into
    schema `schema` of a DuckDB connection. Spark's timestamp is an instant (Parquet: adjusted
    to UTC), so it is read back as the UTC wall-clock time that the contract's timestamp means."""
    con.execute("set timezone = 'UTC'")
    con.execute(f"create schema if not exists {schema}")
    for table in names:
        layer = "intermediate" if table.startswith("int_") else "marts"
        folder = tables / f"{layer}.db" / table
        assert list(folder.rglob("*.parquet")), f"Spark wrote no file for {layer}.{table}"
        files = f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"
        columns = con.execute(f"select column_name, column_type from (describe select * from {files})").fetchall()
        select = ", ".join(f'cast("{c}" as timestamp) as "{c}"' if t == "TIMESTAMP WITH TIME ZONE" else f'"{c}"'
                           for c, t in columns)
        con.execute(f"create or replace table {schema}.{table} as select {select} from {files}")


def marts_side_by_side(duckdb_build: Path, spark_tables: Path, marts: list[str]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the DuckDB build's marts in schema marts and Spark's in spark."""
    con = duckdb.connect()
    con.execute(f"attach '{duckdb_build}' as build (read_only)")
    con.execute("create schema marts")
    for t in marts:
        con.execute(f"create table marts.{t} as select * from build.marts.{t}")
    load_spark_tables(spark_tables, con, "spark", marts)
    return con


@pytest.fixture(scope="module")
def cluster():
    """The module's Spark cluster: the spark_thrift environment that reaches it."""
    with local_spark_cluster(log=lambda _message: None) as env:
        yield env


@pytest.fixture(scope="module")
def spark_built(tmp_path_factory, cluster):
    """`make build TARGET=spark_thrift` on the cluster's empty metastore: demo data with defects
    landed through the server, dbt build, publish, summary."""
    work = tmp_path_factory.mktemp("spark")
    project = copy_project(work / "project")
    env = spark_env(work, cluster)
    built = run_make(project, env, "build", "TARGET=spark_thrift", *SMALL)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-3000:]
    return work, project, env, built.stdout


@pytest.fixture(scope="module")
def duckdb_twin(spark_built):
    """The same raw data (the generator's scratch file) built on DuckDB."""
    work, *_ = spark_built
    db = work / "twin" / "ces.duckdb"
    db.parent.mkdir()
    shutil.copy(work / "duck" / "demo-for-spark_thrift.duckdb", db)
    dbt(db, "build")
    return db


def test_make_build_on_spark_thrift_lands_builds_publishes_and_summarises(spark_built):
    work, _project, env, out = spark_built
    assert re.search(r"Done\. PASS=\d+ WARN=\d+ ERROR=0 SKIP=0", out), out[-3000:]
    unit_tests = re.search(r"(\d+) unit tests", out)
    assert unit_tests and int(unit_tests.group(1)) > 0, "the unit tests ran on Spark too"
    assert "as the views of the database serving" in out
    assert re.search(r"\[demo-data\] landing raw\.product_events: [0-9,]+ rows in", out), "landed through the server"
    assert "customers scored: 200" in out, "the summary read the Spark marts"
    assert f"Thrift server at 127.0.0.1:{env['CES_SPARK_PORT']}" in out, "it says where BI tools connect"
    assert not (work / "duck" / "unused.duckdb").exists(), "no DuckDB warehouse was written"


def test_spark_scores_match_the_oracle(spark_built):
    work, *_ = spark_built
    expected = scores(str(work / "duck" / "demo-for-spark_thrift.duckdb"))
    con = duckdb.connect()
    load_spark_tables(tables_of(spark_built[2]), con, "spark", ["fct_customer_engagement"])
    actual = {c: (Decimal(str(s)), n, v) for c, s, n, v in con.execute(
        "select customer_id, engagement_score, event_count, weights_version from spark.fct_customer_engagement"
    ).fetchall()}
    assert set(actual) == set(expected)
    wrong = [c for c, e in expected.items() if actual[c] != (e.engagement_score, e.event_count, e.weights_version)]
    assert not wrong, f"{len(wrong)} customers differ from the oracle, e.g. {wrong[:3]}"
    assert sum(1 for s in expected.values() if s.event_count > 0) > 100


def test_every_public_mart_equals_duckdb(spark_built, duckdb_twin):
    work, *_ = spark_built
    marts = public_marts(duckdb_twin)
    assert len(marts) >= 9
    con = marts_side_by_side(duckdb_twin, tables_of(spark_built[2]), marts)
    for t in marts:
        cols = common_columns(con, t)
        assert except_both_ways(con, f"(select {cols} from marts.{t})", f"(select {cols} from spark.{t})") == (0, 0), t
        assert con.execute(f"select count(*) from spark.{t}").fetchone()[0] > 0, t


def test_duckdb_postgres_and_spark_agree_on_the_same_input(spark_built, duckdb_twin, postgres):
    """The rows Spark was built from, landed in PostgreSQL too: every public mart is the same on
    all three engines."""
    from conftest import pg_connect

    from cestools.engines.postgres_engine import land_duckdb_tables_in_postgres
    from cestools.ownership import RAW_TABLES

    work, *_ = spark_built
    create_database(postgres, "ces_three_engines")
    env = {**postgres, "CES_PG_DBNAME": "ces_three_engines"}
    pg = pg_connect(env)
    try:
        land_duckdb_tables_in_postgres(work / "duck" / "demo-for-spark_thrift.duckdb", pg, [("raw", t) for t in RAW_TABLES])
    finally:
        pg.close()
    dbt(work / "pg" / "ces.duckdb", "build", env={**env, "CES_TARGET": "postgres"})
    marts = public_marts(duckdb_twin)
    con = marts_side_by_side(duckdb_twin, tables_of(spark_built[2]), marts)
    pg_to_duckdb(postgres, "ces_three_engines", marts, con)
    for t in marts:
        cols = common_columns(con, t)
        for a, b in (("marts", "pg"), ("pg", "spark")):
            assert except_both_ways(con, f"(select {cols} from {a}.{t})", f"(select {cols} from {b}.{t})") == (0, 0), (t, a, b)


def test_serving_views_and_publish_only_after_a_whole_build(spark_built):
    """What a BI client reads through the Thrift port: the serving views, without customer_name.
    The weights-impact report runs on the cluster's marts; after a --select build, publish
    refuses and leaves serving as it was."""
    _work, project, env, _out = spark_built
    rows, described, before = spark_queries(
        env, "select (select count(*) from serving.fct_customer_engagement), "
             "(select count(*) from marts.fct_customer_engagement)",
        "describe serving.fct_customer_engagement", "show tables in serving_builds")
    assert rows == [["200", "200"]]
    columns = [r[0] for r in described]
    assert "engagement_score" in columns and "customer_name" not in columns, "personal data is not served"

    # a JDBC client, as BI tools connect: Spark's beeline, shipped in the venv's pyspark
    from cestools.engines.spark_cluster import spark_home

    beeline = subprocess.run([str(spark_home() / "bin" / "beeline"), "-u",
                              f"jdbc:hive2://127.0.0.1:{env['CES_SPARK_PORT']}/serving", "-n", "bi", "--silent=true",
                              "--outputformat=csv2", "-e", "select count(*) as n from fct_customer_engagement"],
                             capture_output=True, text=True, env={**os.environ, "SPARK_HOME": str(spark_home())})
    assert beeline.returncode == 0 and beeline.stdout.split()[-2:] == ["n", "200"], beeline.stdout + beeline.stderr[-2000:]

    # the report's queries on Spark, over the impact marts make build built (make weights-impact
    # first rebuilds them with the same models; that build is tested on DuckDB and PostgreSQL)
    impact = subprocess.run([sys.executable, "-m", "cestools.weights_impact", "--report-only"], cwd=project,
                            capture_output=True, text=True, env={**os.environ, **env})
    assert impact.returncode == 0 and "Weights change impact: v2" in impact.stdout, impact.stderr[-3000:]
    partial = subprocess.run([str(BIN / "dbt"), "build", "--select", "stg_seeds__engagement_tiers"], cwd=project,
                             capture_output=True, text=True,
                             env={**os.environ, **env, "DBT_PROFILES_DIR": str(project / "profiles")})
    assert partial.returncode == 0, partial.stdout[-3000:]
    refused = run_make(project, env, "publish", "TARGET=spark_thrift")
    assert refused.returncode != 0 and "a build with --select" in refused.stderr, refused.stderr[-2000:]
    assert spark_query(env, "show tables in serving_builds") == before


def test_spark_incremental_equals_a_full_build(spark_built, duckdb_twin, tmp_path):
    """The same data in two loads, landed through the Thrift server of a second cluster and
    built incrementally there, equals the full build of make build, row for row: the event
    layer (the incremental models) and the audit marts that read it. Only these and what they
    read are built: the scoring marts are tables rebuilt in full from the event layer on every
    run, so they are equal when it is (they are compared with DuckDB's in
    test_every_public_mart_equals_duckdb)."""
    work, project, whole_env, _out = spark_built
    source = work / "duck" / "demo-for-spark_thrift.duckdb"
    con = duckdb.connect(str(source), read_only=True)
    cutoff = con.execute("select max(loaded_at) - interval 20 day from raw.product_events").fetchone()[0]
    con.close()
    land = [sys.executable, "-m", "cestools.landing", "--from", str(source)]
    tables = [*INCREMENTAL_MODELS, *INCREMENTAL_COMPARED]
    assert set(INCREMENTAL_COMPARED) <= set(public_marts(duckdb_twin))
    with local_spark_cluster(log=lambda _message: None) as second:
        env = spark_env(tmp_path, second)
        for extra in (["--where", f"loaded_at <= '{cutoff}'"], ["--where", f"loaded_at > '{cutoff}'", "--append"]):
            proc = subprocess.run([*land, *extra], cwd=project, capture_output=True, text=True,
                                  env={**os.environ, **env})
            assert proc.returncode == 0, proc.stderr[-2000:]
            # seeds and models only: the data tests ran on Spark in make build already, and each
            # one is a Spark query (they would double this test's time)
            out = dbt(tmp_path / "duck" / "ces.duckdb", "build", "--exclude-resource-type", "test", "unit_test",
                      "--select", *(f"+{t}" for t in tables), env=env).stdout
        assert "reprocessing load days" in out, "the second run is incremental"
        # each load day of the event layer is one Parquet file (ces_one_file_per_partition),
        # whether the first load's build or the incremental run wrote it: every query that
        # reads the layer opens each file
        for model in INCREMENTAL_MODELS:
            days = list((tables_of(env) / "intermediate.db" / model).glob("loaded_date=*"))
            files = {day.name: len(list(day.glob("*.parquet"))) for day in days}
            assert len(days) > 100 and set(files.values()) == {1}, (model, len(days), files)
        compare = duckdb.connect()
        load_spark_tables(tables_of(whole_env), compare, "whole", tables)
        load_spark_tables(tables_of(env), compare, "in_loads", tables)
    for t in tables:
        assert except_both_ways(compare, f"whole.{t}", f"in_loads.{t}") == (0, 0), t


def test_a_table_of_the_users_stops_demo_data_on_spark(spark_built):
    """A table of the user's, even in Spark's `default` database, makes the metastore the
    user's: `make demo-data TARGET=spark_thrift` refuses and the table is still there."""
    _work, project, env, _out = spark_built
    spark_query(env, "create table default.team_notes using parquet as select 1 as n")
    demo = run_make(project, env, "demo-data", "TARGET=spark_thrift", "EVENTS=5000", "CUSTOMERS=50")
    assert demo.returncode != 0 and "default.team_notes" in demo.stderr and "FORCE=1" in demo.stderr, demo.stderr[-2000:]
    assert spark_query(env, "select count(*) from default.team_notes") == [["1"]]


def test_the_session_method_lands_demo_data_and_names_a_process_holding_its_metastore(tmp_path):
    """The one test of the local session method (TARGET=spark): `make demo-data` lands Parquet
    files with tables over them through a session of its own, and, since the embedded metastore
    takes one process at a time, a second command says which process holds it, instead of
    Hive's 'Unable to instantiate SessionHiveMetaStoreClient'."""
    import time

    import psutil

    project = copy_project(tmp_path / "project")
    env = {"CES_TARGET": "spark", "CES_SPARK_DIR": str(tmp_path / "spark"),
           "CES_DUCKDB_PATH": str(tmp_path / "duck" / "unused.duckdb")}
    demo = run_make(project, env, "demo-data", "TARGET=spark", "EVENTS=3000", "CUSTOMERS=30")
    assert demo.returncode == 0, demo.stderr[-3000:]
    landed = tmp_path / "spark" / "landed" / "raw" / "product_events"
    rows = duckdb.connect().execute(f"select count(*) from read_parquet('{landed}/*.parquet')").fetchone()[0]
    scratch = tmp_path / "duck" / "demo-for-spark.duckdb"
    expected = duckdb.connect(str(scratch), read_only=True).execute("select count(*) from raw.product_events").fetchone()[0]
    assert rows == expected > 0 and f"raw.product_events {expected:,}" in demo.stdout

    script = ("from cestools import config; from cestools.engines import spark_engine; import time; "
              "s = spark_engine.spark_session(config.load()); "
              "print(s.sql('select count(*) from raw.product_events').collect()[0][0], flush=True); time.sleep(120)")
    holder = subprocess.Popen([sys.executable, "-c", script], cwd=project, env={**os.environ, **env},
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 120
        while (line := holder.stdout.readline().strip()) != str(expected):
            assert holder.poll() is None and time.monotonic() < deadline, f"the holder never read the table: {line}"
        refused = run_make(project, {**env, "CES_SPARK_LOCK_WAIT": "3"}, "summary", "TARGET=spark")
        assert refused.returncode != 0, refused.stdout[-2000:]
        assert "is held by process" in refused.stderr and f"started by {holder.pid}:" in refused.stderr, \
            refused.stderr[-2000:]
        assert "Traceback" not in refused.stderr
    finally:
        try:
            children = psutil.Process(holder.pid).children(recursive=True)  # the JVM
        except psutil.NoSuchProcess:
            children = []
        for child in children:
            child.kill()
        holder.kill()
        holder.wait()
