"""The fast tier: the project's pure rules, tested without dbt, a warehouse file or a server.

Ownership (what the project may write, replace or drop), the publish gate on dbt's artifacts,
what is served, the vars, the settings, the engine mapping, the backtest's measures and the
check for what pip cannot install. `make test-fast` runs these (they are not marked slow)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cestools import artifacts, config, engines, leftovers, ownership, serving, settings
from cestools.backtest import auc, measure
from cestools.errors import CesError, is_missing_table
from cestools.ownership import DEMO_MARKER, Contents, classify, schemas_to_drop, should_generate

ROOT = Path(__file__).resolve().parents[2]
OWNED = {"staging", "intermediate", "marts", "seeds"}
BUILT = {"marts.fct_customer_engagement", "staging.stg_product__events", "intermediate.ces_build_log"}


# ---------------------------------------------------------------- ownership: who owns a table

def test_classify_sorts_each_table_by_its_owner():
    tables = ["marts.fct_customer_engagement", "marts.fct_customer_engagement__dbt_tmp",
              "marts.team_report", "raw.customers", "raw.invoices", "demo_work.scratch", DEMO_MARKER,
              "finance.ledger"]
    contents = classify(tables, [("raw.customers", True)], OWNED, BUILT)
    assert contents.project == ["marts.fct_customer_engagement", "marts.fct_customer_engagement__dbt_tmp"]
    assert contents.demo == ["raw.customers", "demo_work.scratch", DEMO_MARKER]
    # a team's table in a schema the project builds is still theirs
    assert contents.user == ["marts.team_report", "raw.invoices", "finance.ledger"]
    assert contents.user_in_project_schemas == ["marts.team_report"]
    assert contents.demo_complete


def test_a_marker_with_an_unfinished_table_is_not_complete_and_no_marker_claims_nothing():
    assert not classify([DEMO_MARKER], [("raw.customers", True), ("raw.product_events", False)], OWNED).demo_complete
    bare = classify(["demo_work.scratch", "raw.customers"], [], OWNED)
    assert bare.demo == [] and bare.user == ["demo_work.scratch", "raw.customers"] and not bare.demo_complete


def test_without_the_manifests_relations_every_table_in_an_owned_schema_is_the_projects():
    assert classify(["marts.anything"], [], OWNED, None).project == ["marts.anything"]


# ---------------------------------------------------------------- ownership: what may be dropped

def test_schemas_to_drop_takes_only_owned_present_schemas_and_never_a_shared_one():
    owned = {"staging", "marts", "raw", "main", "public", "default", "demo", "absent"}
    present = ["staging", "marts", "raw", "main", "public", "default", "demo", "finance"]
    assert schemas_to_drop(owned, present, keep={"raw", "demo"}) == ["marts", "staging"]
    assert schemas_to_drop(set(), present, keep=set()) == []


# ---------------------------------------------------------------- ownership: the demo generator

def decide(contents: Contents, **kw):
    args = {"if_empty": False, "force": False, "raw_schema": "raw", **kw}
    return should_generate(contents, "the warehouse", **args)


def test_make_build_leaves_a_warehouse_with_the_users_tables_as_it_is():
    go, note = decide(Contents(user=["raw.customers"]), if_empty=True)
    assert not go and "your own tables (raw.customers)" in note
    go, note = decide(Contents(demo=["raw.customers"], demo_complete=True), if_empty=True)
    assert not go and "already has demo data" in note
    go, note = decide(Contents(), if_empty=True, raw_schema="crm")
    assert not go and "ces_raw_schema is crm" in note
    go, note = decide(Contents(), if_empty=True, raw_database="app_db")
    assert not go and "ces_raw_database is app_db" in note
    renamed = ownership.renamed_raw_tables({"ces_product_events_identifier": "app_events",
                                            "ces_customers_identifier": "customers"})
    assert renamed == {"product_events": "app_events"}, "a var set to the contract's own name renames nothing"
    go, note = decide(Contents(), if_empty=True, renamed=renamed)
    assert not go and "ces_product_events_identifier is app_events" in note
    assert decide(Contents(), if_empty=True) == (True, None)
    assert decide(Contents(demo=["raw.customers"], demo_complete=False), if_empty=True)[0], \
        "an interrupted demo run may be overwritten"


def test_demo_data_refuses_a_users_table_unless_forced_and_never_in_the_schemas_it_drops():
    with pytest.raises(CesError, match="did not write .*raw.customers.*FORCE=1"):
        decide(Contents(user=["raw.customers"]))
    go, note = decide(Contents(user=["raw.customers", "finance.ledger"]), force=True)
    assert go and note.startswith("FORCE: replacing raw.customers;")
    with pytest.raises(CesError, match="even FORCE=1"):
        decide(Contents(user=["demo.mine"]), force=True)
    with pytest.raises(CesError, match="marts.team_report"):
        decide(Contents(user=["marts.team_report"], user_in_project_schemas=["marts.team_report"]), force=True)


def test_landing_refuses_to_replace_or_append_to_a_users_table():
    contents = Contents(project=["marts.x"], demo=["raw.product_events"], user=["raw.customers", "finance.ledger"])
    ownership.check_landing(contents, ["raw.product_events"], "pg")
    with pytest.raises(CesError, match=r"raw\.customers"):
        ownership.check_landing(contents, ["raw.customers", "raw.product_events"], "pg")
    with pytest.raises(CesError, match=r"demo\.notes"):
        ownership.check_landing(Contents(user=["demo.notes"]), ["raw.customers"], "pg")


# ---------------------------------------------------------------- the publish gate

def run_results(which="build", statuses=None, invocation="abc-123"):
    statuses = statuses or {"model.ces.a": "success", "test.ces.t": "pass", "seed.ces.s": "success"}
    return {"args": {"which": which}, "metadata": {"invocation_id": invocation},
            "results": [{"unique_id": uid, "status": st} for uid, st in statuses.items()]}


MANIFEST = {"nodes": {uid: {"package_name": "ces", "resource_type": uid.split(".")[0]}
                      for uid in ("model.ces.a", "test.ces.t", "seed.ces.s")},
            "unit_tests": {}}


def test_the_gate_passes_a_whole_build_that_passed_with_warnings_allowed():
    assert artifacts.build_gate(run_results(), MANIFEST, Path("target")) == "abc-123"
    warned = run_results(statuses={"model.ces.a": "success", "test.ces.t": "warn", "seed.ces.s": "success",
                                   "exposure.ces.bi": "no-op"})
    assert artifacts.build_gate(warned, MANIFEST, Path("target")) == "abc-123"


@pytest.mark.parametrize("results,message", [
    (run_results(which="run"), "is `dbt run`, not a `dbt build`"),
    (run_results(statuses={"model.ces.a": "success", "test.ces.t": "fail", "seed.ces.s": "success"}),
     r"did not pass \(1 fail: t \(fail\)\)"),
    (run_results(statuses={"model.ces.a": "error", "test.ces.t": "skipped", "seed.ces.s": "success"}),
     r"1 error, 1 skipped"),
    (run_results(statuses={"model.ces.a": "success", "seed.ces.s": "success"}), "ran 2 of the project's 3"),
])
def test_the_gate_refuses_anything_but_a_whole_build_that_passed(results, message):
    with pytest.raises(CesError, match=message):
        artifacts.build_gate(results, MANIFEST, Path("target"))


def test_the_gate_needs_the_artifacts_and_the_warehouses_own_record(tmp_path):
    with pytest.raises(CesError, match="holds no record of a dbt build"):
        artifacts.check_run_results(tmp_path)
    artifacts.check_same_warehouse("abc", "abc", "wh", tmp_path / "run_results.json")
    with pytest.raises(CesError, match="another warehouse.*newest build is none"):
        artifacts.check_same_warehouse("abc", None, "wh", tmp_path / "run_results.json")


# ---------------------------------------------------------------- what is served

def test_personal_data_is_served_only_when_asked():
    cols = ["customer_id", "customer_name", "segment"]
    assert serving.served_columns(cols, with_pii=False) == ["customer_id", "segment"]
    assert serving.served_columns(cols, with_pii=True) == cols


def test_a_publish_drops_only_the_tables_of_earlier_builds():
    marts, now = ["fct_a", "fct_b"], "0123456789ab-cdef"
    assert serving.build_table("fct_a", now) == "fct_a__b0123456789ab"
    assert not serving.is_earlier_build_table("fct_a__b0123456789ab", marts, now), "the current build's table"
    assert serving.is_earlier_build_table("fct_b__bffffffffffff", marts, now)
    for theirs in ("fct_a", "fct_a__bzzz", "fct_c__bffffffffffff", "fct_a__bffffffffffff_copy"):
        assert not serving.is_earlier_build_table(theirs, marts, now), theirs


# ---------------------------------------------------------------- vars and settings

def test_vars_are_read_as_dbt_reads_them_or_refused_with_an_example():
    assert settings.parse_cli_vars("{ces_window_days: 14}") == {"ces_window_days": 14}
    assert settings.parse_cli_vars("  ") == {}
    for bad in ("{ces_window_days: 14", "[1, 2]", "{d: 2026-02-30}"):
        with pytest.raises(CesError, match="VARS="):
            settings.parse_cli_vars(bad)
    merged = settings.project_vars("{ces_window_days: 7}")
    assert merged["ces_window_days"] == 7 and "ces_raw_schema" in merged


def test_the_settings_are_read_once_from_the_environment_with_their_defaults():
    assert config.load({}) == config.Config(env={})
    cfg = config.load({"CES_TARGET": "postgres", "CES_PG_PORT": "6543", "CES_SERVING_PATH": "/x/s.duckdb",
                       "CES_DEBUG": "1"})
    assert (cfg.target, cfg.pg_port, cfg.serving_parquet_dir, cfg.debug) == ("postgres", 6543, "/x/serving", True)


def test_each_target_maps_to_one_engine_and_others_are_refused_with_the_list():
    assert engines.engine_class(config.load({})).engine == "duckdb"
    assert {engines.engine_class(config.load({"CES_TARGET": t})).engine for t in engines.ENGINES} == set(engines.ENGINES)
    with pytest.raises(CesError, match="allowed: duckdb, postgres, spark, spark_thrift"):
        engines.engine_class(config.load({"CES_TARGET": "oracle"}))


def test_the_thrift_target_asks_every_second_whether_a_statement_has_finished():
    """dbt-spark's default, every 5 s, made each short statement take 5 s; the setting is
    rendered from the environment as dbt renders it."""
    from cestools.engines.spark_engine import profile_output

    assert int(profile_output(config.load({}), "spark_thrift")["poll_interval"]) == 1
    assert int(profile_output(config.load({"CES_SPARK_POLL_INTERVAL": "3"}), "spark_thrift")["poll_interval"]) == 3


def test_a_thrift_target_without_a_server_says_how_to_start_one():
    """Nothing listens on the port: the preflight names the address and make spark-cluster,
    before dbt starts."""
    from cestools.ports import free_port

    cfg = config.load({"CES_TARGET": "spark_thrift", "CES_SPARK_HOST": "127.0.0.1", "CES_SPARK_PORT": str(free_port())})
    with pytest.raises(CesError, match=f"no Spark Thrift server answers at 127.0.0.1:{cfg.spark_port}.*make spark-cluster"):
        engines.preflight(cfg)
    with pytest.raises(CesError, match="make spark-cluster"):
        engines.open_warehouse(cfg)


def test_a_batch_of_rows_travels_as_one_json_literal_that_spark_reads_back():
    """Quotes, backslashes, non-ASCII text and nulls survive the literal: decoding the literal
    as Spark's parser does (backslash escapes) gives JSON whose values are the rows."""
    import json
    import re

    from cestools.engines.spark_thrift_engine import batch_insert_sql

    rows = [("a'b", "c\\d", None), ("é ü", '"q"', "2026-01-02 03:04:05.000006")]
    sql = batch_insert_sql("raw", "t", [("x", "VARCHAR"), ("y", "VARCHAR"), ("z", "TIMESTAMP")], rows)
    literal = re.search(r"from_json\('((?:[^'\\]|\\.)*)'", sql).group(1)
    decoded = re.sub(r"\\(.)", r"\1", literal)
    assert [tuple(r.values()) for r in json.loads(decoded)] == rows
    assert "cast(`z` as timestamp) as `z`" in sql and sql.startswith("insert into `raw`.`t` select")


def test_a_missing_duckdb_table_is_told_apart_without_importing_the_driver():
    import duckdb

    con = duckdb.connect()
    with pytest.raises(duckdb.CatalogException) as caught:
        con.execute("select * from nowhere.nothing")
    assert is_missing_table(caught.value)
    assert not is_missing_table(ValueError("Catalog Error"))


# ---------------------------------------------------------------- the backtest's measures

def test_auc_and_precision_recall_on_a_hand_counted_example():
    # 2 positives (0.9, 0.7), 3 negatives (0.8, 0.3, 0.1): the positive ranks higher in 5 of the
    # 6 pairs; the one lost is 0.7 < 0.8
    assert auc([0.9, 0.8, 0.7, 0.3, 0.1], [1, 0, 1, 0, 0]) == pytest.approx(5 / 6)
    # 3 flagged, 1 of them positive, 2 positives in all
    precision, recall, f1 = measure(1, 3, 2)
    assert (precision, recall) == (pytest.approx(1 / 3), 0.5) and f1 == pytest.approx(0.4)
    assert measure(0, 0, 1) == (None, 0.0, 0.0), "nothing flagged: precision undefined, recall 0"
    assert measure(0, 2, 0) == (0.0, None, 0.0), "no positives: recall undefined"


# ---------------------------------------------------------------- what pip cannot install

def test_without_root_the_system_check_stops_with_the_exact_install_command():
    """With nothing on PATH and not root, scripts/system-deps.sh names the packages and the
    command, and fails; it never tries to install."""
    if os.geteuid() == 0:
        cmd = [shutil.which("setpriv") or "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/bash"]
    else:
        cmd = ["/bin/bash"]
    # the script on standard input, from /: the unprivileged user may not read a private clone
    proc = subprocess.run([*cmd, "-s"], input=(ROOT / "scripts" / "system-deps.sh").read_text(),
                          capture_output=True, text=True, env={"PATH": "/nonexistent"}, cwd="/")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "apt-get install -y openjdk-17-jre-headless" in proc.stderr and "chromium" in proc.stderr
    assert "installing" not in proc.stdout


# ---------------------------------------------------------------- names every engine accepts

def test_every_name_that_becomes_a_relation_fits_postgres_63_characters():
    """PostgreSQL cuts identifiers at 63 bytes and dbt-postgres refuses longer ones: a model,
    seed or unit test (dbt builds a relation named after each unit test) with a longer name
    passes on DuckDB and fails only on PostgreSQL."""
    import yaml

    names = {p.stem: p for p in [*(ROOT / "models").rglob("*.sql"), *(ROOT / "seeds").glob("*.csv")]}
    for path in (ROOT / "models").rglob("*.yml"):
        for unit in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", []):
            names[unit["name"]] = path
    assert len(names) > 40, "the walk found the project's models and unit tests"
    too_long = {n: str(p.relative_to(ROOT)) for n, p in names.items() if len(n) > 63}
    assert not too_long, f"shorten these names to at most 63 characters: {too_long}"


# ------------------------------------------------------- publish: leftovers of a dead process

def test_only_temporaries_of_dead_processes_that_publish_writes_are_leftovers():
    finals = {"serving.duckdb", "fct_a.parquet"}
    alive = {100}
    names = [".serving.duckdb.ces-7.tmp", ".serving.duckdb.ces-7.tmp.wal", ".fct_a.parquet.ces-8.tmp",
             ".serving.duckdb.ces-100.tmp",        # a publish still writing
             ".other.duckdb.ces-7.tmp",            # not a file publish writes here
             ".serving.duckdb.7.tmp", "serving.duckdb", "notes.ces-7.tmp", ".serving.duckdb.ces-x.tmp",
             ".serving.duckdb.ces-7.tmp.bak"]
    assert serving.leftover_temporaries(names, finals, lambda pid: pid in alive) == [
        ".fct_a.parquet.ces-8.tmp", ".serving.duckdb.ces-7.tmp", ".serving.duckdb.ces-7.tmp.wal"]
    assert serving.TEMPORARY.match(serving.temporary_name("serving.duckdb", 42))["pid"] == "42"


def test_a_landing_works_in_a_scratch_folder_of_its_own_and_removes_those_of_dead_landings(tmp_path, monkeypatch):
    """Landing on PostgreSQL copies each table to CSV in a scratch folder; a landing that was
    killed leaves it (as large as the tables). The next one removes it, keeps a live one's, and
    removes its own on exit."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = tmp_path / serving.temporary_name("ces-landing", gone.pid)
    running = subprocess.Popen(["sleep", "30"])
    live = tmp_path / serving.temporary_name("ces-landing", running.pid)
    try:
        for folder in (dead, live):
            folder.mkdir()
            (folder / "raw.product_events.csv").write_text("x")
        with leftovers.scratch_folder("landing") as mine:
            assert mine == tmp_path / serving.temporary_name("ces-landing", os.getpid()) and mine.is_dir()
            assert not dead.exists() and (live / "raw.product_events.csv").exists()
        assert not mine.exists()
    finally:
        running.kill()
        running.wait()


def test_a_dead_benchmark_run_leaves_a_work_folder_the_next_run_removes_and_nothing_else(tmp_path):
    """The benchmark builds under bench/.work.ces-<pid>.tmp; the next run removes those of
    processes that died (a folder, with what it holds), the rule publish uses for its files."""
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id that no longer runs
    dead = tmp_path / serving.temporary_name("work", gone.pid)
    live = tmp_path / serving.temporary_name("work", os.getpid())
    theirs = [tmp_path / "work", tmp_path / serving.temporary_name("results", gone.pid), tmp_path / "README.md"]
    for folder in (dead, live, theirs[0], theirs[1]):
        (folder / "1000000").mkdir(parents=True)
        (folder / "1000000" / "ces.duckdb").write_bytes(b"x")
    theirs[2].write_text("x")
    assert leftovers.remove_leftovers(tmp_path, {"work"}) == [dead.name]
    assert not dead.exists()
    assert (live / "1000000" / "ces.duckdb").exists() and all(p.exists() for p in theirs)


# ---------------------------------------------------------------- the local Spark cluster's record

def test_a_recorded_cluster_process_counts_only_when_its_pid_and_start_time_match(tmp_path):
    """make spark-cluster refuses a second start, and stop ends processes, only for the pids it
    recorded; a pid now used by another program (other start time), or gone, is not the cluster's."""
    import psutil

    from cestools.engines import spark_cluster

    me = psutil.Process()
    dead = subprocess.Popen(["true"])
    dead.wait()
    state = {"processes": {"master": [me.pid, me.create_time()], "worker": [me.pid, me.create_time() - 3600],
                           "thrift": [dead.pid, me.create_time()]}}
    assert spark_cluster.running(state) == {"master": me.pid}
    # the boot time psutil adds is whole seconds from the wall clock: a clock adjustment moves
    # a start time by a second, and the process is still the one recorded
    stepped = {"processes": {"master": [me.pid, me.create_time() - 1.0], "worker": [me.pid, me.create_time() + 1.0]}}
    assert spark_cluster.running(stepped) == {"master": me.pid, "worker": me.pid}
    assert spark_cluster.running(None) == {}
    record = {"folder": str(tmp_path.resolve()), "processes": {}}
    (tmp_path / spark_cluster.STATE).write_text(json.dumps(record))
    assert spark_cluster.read_state(tmp_path) == record and spark_cluster.read_state(tmp_path / "x") is None


def test_the_cluster_server_keeps_the_profiles_driver_options_and_adds_its_hive_settings(tmp_path):
    """The Thrift server's JVM gets the spark target's driver options (time zone, log config),
    its scratch folder and the HiveServer2 settings that keep one metastore client per thread
    (no impersonation, a small kept pool); the executors get the log config as an absolute
    path, and none of the server's settings."""
    from cestools.engines import spark_cluster

    conf = spark_cluster.server_conf(config.load({}), tmp_path, "spark://127.0.0.1:7077")
    driver = conf["spark.driver.extraJavaOptions"].split()
    assert "-Duser.timezone=UTC" in driver and f"-Djava.io.tmpdir={tmp_path / 'tmp'}" in driver
    assert {"-Dhive.server2.enable.doAs=false", "-Dhive.server2.async.exec.threads=8",
            "-Dhive.server2.async.exec.keepalive.time=86400s"} <= set(driver)
    executor = conf["spark.executor.extraJavaOptions"].split()
    assert f"-Dlog4j2.configurationFile={ROOT / 'profiles' / 'spark-log4j2.properties'}" in executor
    assert not [option for option in executor if option.startswith("-Dhive.")]


def test_a_duckdb_file_named_like_a_schema_is_refused_with_another_name(tmp_path):
    """demo.duckdb's catalog is `demo`, the demo generator's schema: `demo.x` would be ambiguous
    half-way through, so the file is refused before anything is written, with a name that works;
    a file named like a schema it holds (marts.duckdb after a build) too."""
    from cestools import demo_data
    from cestools.engines.duckdb_engine import connect

    with pytest.raises(CesError, match=r"catalog 'demo'.*CES_DUCKDB_PATH=.*ces-demo\.duckdb"):
        demo_data.main(["--path", str(tmp_path / "demo.duckdb"), "--events", "100", "--customers", "5", "--quiet"])
    marts = tmp_path / "marts.duckdb"
    con = connect(str(marts))
    con.execute("create schema marts")
    con.close()
    with pytest.raises(CesError, match="catalog 'marts'"):
        connect(str(marts), read_only=True)
    connect(str(tmp_path / "ces-demo.duckdb")).close()
    demo_data.main(["--path", str(tmp_path / "ces-demo.duckdb"), "--events", "100", "--customers", "5", "--quiet"])


def test_a_seed_var_that_names_no_seed_is_refused_naming_the_var(tmp_path):
    """Each seed the models read can be replaced by a seed of the team's (ces_<seed>_seed);
    one that names no seed is refused before dbt runs, with the var's name, as dbt itself
    would only name the missing node."""
    from cestools import settings

    (tmp_path / "dbt_project.yml").write_text("name: host\nseed-paths: [data]\n")
    (tmp_path / "data" / "team").mkdir(parents=True)
    for name in settings.SEED_VARS.values():
        (tmp_path / "data" / f"{name}.csv").write_text("a\n1\n")
    (tmp_path / "data" / "team" / "team_weights.csv").write_text("a\n1\n")
    (tmp_path / "dbt_packages" / "ces" / "seeds").mkdir(parents=True)
    (tmp_path / "dbt_packages" / "ces" / "seeds" / "packaged_tiers.csv").write_text("a\n1\n")
    settings.check_seed_vars({}, tmp_path)
    settings.check_seed_vars({"ces_event_weights_seed": "team_weights",
                              "ces_engagement_tiers_seed": "packaged_tiers"}, tmp_path)
    with pytest.raises(CesError) as missing:
        settings.check_seed_vars({"ces_outcomes_seed": "team_outcomes"}, tmp_path)
    assert "ces_outcomes_seed is 'team_outcomes'" in str(missing.value)
    assert "seeds/ces_outcomes.csv" in str(missing.value)
    with pytest.raises(CesError, match="ces_calibration_seed is ''"):
        settings.check_seed_vars({"ces_calibration_seed": ""}, tmp_path)


# ---------------------------------------------------------------- CES as a package of a host project

def test_a_host_projects_vars_override_ces_defaults_as_dbt_resolves_them(tmp_path):
    """CES's defaults, then the host's global vars, then its vars scoped to ces, then --vars."""
    (tmp_path / "dbt_project.yml").write_text(
        "name: host\nvars:\n  ces_window_days: 21\n  ces_lookback_days: 9\n  other_package: {x: 1}\n"
        "  ces:\n    ces_window_days: 14\n    ces_raw_schema: app_raw\n")
    with pytest.raises(CesError, match="has not installed CES"):
        settings.project_vars(None, tmp_path)
    (tmp_path / "dbt_packages" / "ces").mkdir(parents=True)
    (tmp_path / "dbt_packages" / "ces" / "dbt_project.yml").symlink_to(ROOT / "dbt_project.yml")
    merged = settings.project_vars("{ces_lookback_days: 2}", tmp_path)
    assert merged["ces_window_days"] == 14, "the host's ces-scoped var wins over its global one"
    assert merged["ces_raw_schema"] == "app_raw"
    assert merged["ces_lookback_days"] == 2, "--vars win"
    assert merged["ces_churn_inactive_days"] == settings.project_vars(None, ROOT)["ces_churn_inactive_days"]
    assert "other_package" not in merged and "ces" not in merged
    assert settings.project_vars(None, tmp_path)["ces_lookback_days"] == 9, "a global var of the host"


def test_ces_relations_are_found_where_the_host_built_them():
    names = {"fct_customer_engagement": "analytics_ces.fct_customer_engagement",
             "stg_seeds__outcomes": "analytics_ces.stg_seeds__outcomes", "ces_build_log": "analytics_ces.ces_build_log"}
    sql = ("select * from marts.fct_customer_engagement as m join staging.stg_seeds__outcomes as o "
           "on m.x = o.x join intermediate.ces_build_log join marts.not_a_ces_model join serving.fct_customer_engagement "
           "where m.marts_total = 1")
    assert artifacts.qualify(sql, names) == (
        "select * from analytics_ces.fct_customer_engagement as m join analytics_ces.stg_seeds__outcomes as o "
        "on m.x = o.x join analytics_ces.ces_build_log join marts.not_a_ces_model join serving.fct_customer_engagement "
        "where m.marts_total = 1")
    assert artifacts.qualify(sql, {}) == sql, "without a manifest: the standalone project's schemas"


def test_the_build_log_and_owned_schemas_of_a_host_build(tmp_path):
    """CES's build log sits beside int_months; a schema CES shares with a host's model is not CES's to drop."""
    def node(package, name, schema, kind="model"):
        return {f"{kind}.{package}.{name}": {"package_name": package, "name": name, "schema": schema,
                                             "alias": name, "resource_type": kind}}
    manifest = {"nodes": {**node("ces", "int_months", "analytics"), **node("ces", "fct_customer_engagement", "bi"),
                          **node("ces", "ces_event_weights", "ces_seeds", "seed"),
                          **node("host", "orders", "analytics")}}
    path = tmp_path / "manifest.json"
    path.write_text(__import__("json").dumps(manifest))
    assert artifacts.build_log(manifest) == "analytics.ces_build_log"
    owned, relations = artifacts.project_objects(path)
    assert owned == {"bi", "ces_seeds"}
    assert {"analytics.int_months", "bi.fct_customer_engagement", "analytics.ces_build_log"} <= relations
    assert artifacts.relation_names(path)["fct_customer_engagement"] == "bi.fct_customer_engagement"
    with pytest.raises(CesError, match="no CES model int_months"):
        artifacts.build_log({"nodes": node("host", "orders", "analytics")})


def test_the_ces_command_runs_each_step_in_the_project_it_is_given(tmp_path, capsys):
    from cestools import cli

    assert cli.main(["--help"]) == 0 and "publish" in capsys.readouterr().out
    with pytest.raises(CesError, match="holds no dbt_project.yml"):
        cli.main(["summary", "--project-dir", str(tmp_path)])
    for module, _prefix, _what in cli.COMMANDS.values():
        assert callable(__import__(module, fromlist=["main"]).main), module
    installed = shutil.which("ces", path=str(Path(os.sys.executable).parent))
    assert installed, "make setup installs the ces command into .venv (pip install -e .)"
    shown = subprocess.run([installed, "backtest", "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and "report" in shown.stdout
    shown = subprocess.run([installed, "publish", "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and shown.stdout.startswith("usage: ces publish "), shown.stdout[:80]


def test_a_bench_run_of_one_engine_keeps_the_other_engines_rows():
    """make bench with --spark-sizes 10000000 alone rewrites the engines table with its new rows
    and every earlier row it did not measure."""
    from devtools import bench

    earlier = bench.engine_lines([bench.Measure(1_000_000, "postgres:full_models", 24.0, 1, 146, 960_000),
                                  bench.Measure(1_000_000, "spark_thrift:full_models", 170.0, 1, 144, 935_000),
                                  bench.Measure(1_000_000, "spark_thrift:incremental", 79.0, 1, 146, 2_100)], [])
    kept = bench.kept_engine_measures("# Benchmark results\n\n" + "\n".join(earlier) + "\n## Backtest cost\n| 1 |")
    assert [(m.name, m.size, m.wall) for m in kept] == [("postgres:full_models", 1_000_000, 24.0),
                                                        ("spark_thrift:full_models", 1_000_000, 170.0),
                                                        ("spark_thrift:incremental", 1_000_000, 79.0)]
    assert kept[0].rows == 960_000
    new = [bench.Measure(10_000_000, "spark_thrift:no_new_data", 60.0, 1, 144, 0),
           bench.Measure(10_000_000, "spark_thrift:incremental", 82.0, 1, 146, 19_000),
           bench.Measure(10_000_000, "spark_thrift:full_models", 158.0, 1, 145, 8_300_000),
           bench.Measure(1_000_000, "spark_thrift:full_models", 160.0, 1, 144, 935_000)]
    merged = bench.merged_engine_measures(kept, new)
    assert [(m.name, m.size, m.wall) for m in merged] == [
        ("postgres:full_models", 1_000_000, 24.0), ("spark_thrift:full_models", 1_000_000, 160.0),
        ("spark_thrift:incremental", 1_000_000, 79.0), ("spark_thrift:full_models", 10_000_000, 158.0),
        ("spark_thrift:incremental", 10_000_000, 82.0), ("spark_thrift:no_new_data", 10_000_000, 60.0)]
    # the run with nothing new is a share of the same engine's and size's full run, like the
    # incremental one, and a row without new rows has no rate but is read back all the same
    rows = "\n".join(bench.engine_lines(merged, []))
    assert "| spark_thrift | 10,000,000 | no_new_data | 60.00 | 1 | 144 | – | – | 38.0% of full_models |" in rows
    assert "| spark_thrift | 1,000,000 | incremental | 79.00 | 1 | 146 | 27 | – | 49.4% of full_models |" in rows
    assert [(m.name, m.wall) for m in bench.kept_engine_measures(rows)][-1] == ("spark_thrift:no_new_data", 60.0)
    # with a full build of the same engine and size, the share against it follows, each share
    # against its own denominator
    with_build = bench.merged_engine_measures(merged, [bench.Measure(10_000_000, "spark_thrift:full_build", 205.0,
                                                                     1, 150, 8_300_000)])
    rows = "\n".join(bench.engine_lines(with_build, []))
    assert "| 82.00 | 1 | 146 | 232 | – | 51.9% of full_models, 40.0% of full_build |" in rows
    assert "| 79.00 | 1 | 146 | 27 | – | 49.4% of full_models |" in rows


def test_the_bench_lists_each_spark_models_time_and_keeps_the_section_when_the_tables_are_rewritten(tmp_path):
    """Spark's model times come from dbt's run_results.json (models only), the slowest in the
    incremental run first, the small ones summed; a later rewrite of the tables keeps the section."""
    from devtools import bench

    def run(**models: float) -> dict:
        results = [{"unique_id": f"model.ces.{m}", "execution_time": t} for m, t in models.items()]
        results += [{"unique_id": "operation.ces.ces-on-run-start-0", "execution_time": 9.0},
                    {"unique_id": "test.ces.not_null_x", "execution_time": 9.0}]
        (tmp_path / "target").mkdir(exist_ok=True)
        (tmp_path / "target" / "run_results.json").write_text(json.dumps({"results": results}))
        return bench.model_times(tmp_path)

    times = {"full_models": run(daily=40.0, points=9.0, view_a=0.2, view_b=0.3),
             "incremental": run(daily=8.0, points=9.5, view_a=0.4, view_b=0.3),
             "no_new_data": run(daily=2.0, points=9.0, view_a=0.1, view_b=0.2)}
    assert times["full_models"] == {"daily": 40.0, "points": 9.0, "view_a": 0.2, "view_b": 0.3}
    lines = bench.model_time_lines(10_000_000, times, {"full_models": 50.0, "incremental": 20.0, "no_new_data": 15.0})
    table = [line for line in lines if line.startswith("| ") and not line.startswith("| model") and "---" not in line]
    assert table == ["| points | 9.0 | 9.5 | 9.0 |", "| daily | 40.0 | 8.0 | 2.0 |",
                     "| the other 2 models (each under 1 s) | 0.5 | 0.7 | 0.3 |",
                     "| **sum of the models' times** | 49.5 | 18.2 | 11.3 |",
                     "| **wall of the dbt command** | 50.0 | 20.0 | 15.0 |"]
    out = tmp_path / "results.md"
    out.write_text("# Benchmark results\n\n| 1 |\n")
    bench.write_section(bench.MODEL_TIMES_HEADING, lines, out)
    bench.write_results([], out, 0, [bench.Measure(10_000_000, "spark_thrift:full_models", 50.0, 1, 144, 1)])
    text = out.read_text()
    assert text.index(bench.ENGINES_HEADING) < text.index(bench.MODEL_TIMES_HEADING)
    assert "| points | 9.0 | 9.5 | 9.0 |" in text and text.count(bench.MODEL_TIMES_HEADING) == 1
