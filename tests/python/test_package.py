"""CES installed as a dbt package in a host project (integration_tests/), as a team adds it to the
project it already runs.

The host project installs CES with `local:`, keeps its raw tables under other names in another
schema (app_raw) of another database (a DuckDB file of its own, attached read-only), has a weights seed of its own, puts every CES model in one schema of its
choosing (`models: ces: +schema: ces`) and builds a model of its own on a CES mart. Its raw data
arrives in two loads: `dbt build`, then an incremental `dbt build` after the second load. Every
public mart must then equal, row for row, the standalone build of the same rows with the same
weights (EXCEPT ALL both ways), and `ces publish --project-dir <host>` must publish them after
that passing build only. The same host runs on PostgreSQL too (its raw schema then in the same
database, which PostgreSQL requires), with the same two loads and the same comparison.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import (
    BIN,
    ROOT,
    common_columns,
    copy_project,
    create_database,
    dbt,
    except_both_ways,
    generate,
    pg_connect,
    pg_to_duckdb,
)

from cestools.engines.postgres_engine import land_duckdb_tables_in_postgres

# builds the project with dbt: the whole suite, not make test-fast
pytestmark = pytest.mark.slow

HOST = ROOT / "integration_tests"
# the host's names for the raw contract tables (integration_tests/dbt_project.yml)
RAW_NAMES = {"product_events": "app_events", "customers": "crm_accounts",
             "support_tickets": "helpdesk_tickets", "customer_outcomes": "crm_outcomes"}
# the first load holds what was loaded by then; the second, the rest (late rows and
# re-deliveries of the generator's defects arrive in it)
CUTOFF = "2026-10-20"
LOADED_IN_TWO = ("product_events", "support_tickets")


def host_copy(dest: Path) -> Path:
    """integration_tests/ copied to dest, installing CES from this repository (local:)."""
    shutil.copytree(HOST, dest, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs",
                                                              "package-lock.yml"))
    packages = dest / "packages.yml"
    packages.write_text(packages.read_text().replace("- local: ../", f"- local: {ROOT}"))
    return dest


def host_env(host: Path, db: Path) -> dict[str, str]:
    return {**os.environ, "DBT_PROFILES_DIR": str(host / "profiles"), "CES_DUCKDB_PATH": str(db),
            "HOST_RAW_DUCKDB_PATH": str(raw_file(db)), "CES_SERVING_PATH": str(db.parent / "serving.duckdb"),
            "DBT_TARGET_PATH": "target"}


def raw_file(host_db: Path) -> Path:
    """The host's raw database: a DuckDB file beside its warehouse file."""
    return host_db.parent / "app.duckdb"


def run(cmd: list[str], host: Path, db: Path, check: bool = True,
        extra: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=host, env={**host_env(host, db), **(extra or {})}, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")
    return proc


def load(number: int) -> list[tuple[str, str, str]]:
    """(raw table, the host's name for it, row filter) of each table in the first or second load:
    customers and outcomes whole with the first, the events and tickets split at CUTOFF. The
    DuckDB and the PostgreSQL host land the same loads."""
    split = f"loaded_at {'<' if number == 1 else '>='} timestamp '{CUTOFF}'"
    return [(table, name, split if table in LOADED_IN_TWO else "true") for table, name in RAW_NAMES.items()
            if table in LOADED_IN_TWO or number == 1]


def land(host_db: Path, source: Path, number: int) -> None:
    """The first or second load, appended to the host's raw tables in its raw DuckDB file."""
    con = duckdb.connect(str(raw_file(host_db)))
    try:
        con.execute(f"attach '{source}' as source (read_only)")
        con.execute("create schema if not exists app_raw")
        for table, name, where in load(number):
            con.execute(f"create table if not exists app_raw.{name} as select * from source.raw.{table} limit 0")
            con.execute(f"insert into app_raw.{name} select * from source.raw.{table} where {where}")
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The host project built over two loads, and the standalone build of the same rows."""
    work = tmp_path_factory.mktemp("package")
    source = work / "standalone" / "ces.duckdb"
    source.parent.mkdir()
    generate(source, "--events", "40000", "--customers", "300", "--seed", "11", "--defects")

    # the standalone reference: this project, with the host's weights seed under the same var
    project = copy_project(work / "project")
    shutil.copy(HOST / "seeds" / "team_event_weights.csv", project / "seeds")
    dbt(source, "build", "--project-dir", str(project), "--exclude-resource-type", "test",
        vars={"ces_event_weights_seed": "team_event_weights"})

    host = host_copy(work / "host")
    host_db = work / "host-warehouse" / "host.duckdb"
    host_db.parent.mkdir()
    run([str(BIN / "dbt"), "deps"], host, host_db)
    land(host_db, source, 1)
    run([str(BIN / "dbt"), "build"], host, host_db)
    land(host_db, source, 2)
    second = run([str(BIN / "dbt"), "build"], host, host_db)
    return {"source": source, "host": host, "host_db": host_db, "second_build": second.stdout,
            "work": work}  # type: ignore[dict-item]


def manifest(host: Path) -> dict:
    return json.loads((host / "target" / "manifest.json").read_text())


def ces_public_marts(manifest: dict) -> dict[str, str]:
    """{name: schema} of CES's public marts in the host's build."""
    return {n["name"]: n["schema"] for n in manifest["nodes"].values()
            if n["package_name"] == "ces" and n["resource_type"] == "model" and n.get("access") == "public"}


def test_the_host_chooses_the_schema_of_ces_and_its_own_seed_and_raw_tables_are_read(built):
    nodes = manifest(built["host"])["nodes"]
    ces_models = [n for n in nodes.values() if n["package_name"] == "ces" and n["resource_type"] == "model"]
    assert ces_models and {n["schema"] for n in ces_models} == {"ces"}
    sources = manifest(built["host"])["sources"].values()
    assert {(s["database"], s["schema"]) for s in sources} == {("app_db", "app_raw")}
    assert {s["identifier"] for s in sources} == set(RAW_NAMES.values())
    weights = nodes["model.ces.stg_weights__event_weights"]
    assert weights["depends_on"]["nodes"] == ["seed.ces_integration_tests.team_event_weights"]
    con = duckdb.connect(str(built["host_db"]), read_only=True)
    try:
        versions = {v for (v,) in con.execute("select distinct weights_version from ces.fct_customer_engagement")
                    .fetchall()}
        elsewhere = {s for (s,) in con.execute("select distinct table_schema from information_schema.tables "
                                             "where table_schema in ('raw', 'marts', 'staging', 'app_raw')")
                   .fetchall()}
        own = con.execute("select count(*) from main.team_accounts_to_call").fetchone()[0]
        flagged = con.execute("select count(*) from ces.fct_customer_engagement where is_churn_risk").fetchone()[0]
    finally:
        con.close()
    assert versions == {"team-2"}, "the host's weights seed (team-1, team-2) is not the one scored"
    assert elsewhere == set(), "CES wrote the standalone schemas, or raw tables, into the host's warehouse"
    assert own == flagged > 0, "the host's own model on fct_customer_engagement"


def test_with_the_dispatch_entry_every_ces_test_stores_rows_with_how_to_fix(built):
    """The host names ces in its dispatch for dbt's macros, so CES's versions of dbt's built-in
    tests run there too: every CES test stores its rows with a how_to_fix column."""
    tests = [n for n in manifest(built["host"])["nodes"].values()
             if n["resource_type"] == "test" and n["package_name"] == "ces"]
    assert len(tests) > 100
    con = duckdb.connect(str(built["host_db"]), read_only=True)
    try:
        stored = {(schema, table) for schema, table in con.execute(
            "select schema_name, table_name from duckdb_columns() where column_name = 'how_to_fix'").fetchall()}
    finally:
        con.close()
    missing = sorted(n["alias"] for n in tests if (n["schema"], n["alias"]) not in stored)
    assert not missing, f"CES tests whose stored rows have no how_to_fix in the host: {missing}"


def test_the_second_build_reprocesses_only_the_second_loads_days(built):
    # the incremental event layer of the host's build is extended from the first changed load
    # day of the second load, not rebuilt (macros/ces_reprocess_from.sql says what it does)
    lines = [line for line in built["second_build"].splitlines() if "reprocessing load days" in line]
    assert any("int_engagement_events_unioned: reprocessing load days 2026-10-" in line for line in lines), \
        built["second_build"][-3000:]


def test_every_public_mart_equals_the_standalone_build_of_the_same_rows(built):
    marts = ces_public_marts(manifest(built["host"]))
    assert len(marts) >= 10
    con = duckdb.connect()
    try:
        con.execute(f"attach '{built['host_db']}' as host (read_only)")
        con.execute(f"attach '{built['source']}' as standalone (read_only)")
        for name, schema in sorted(marts.items()):
            rows = con.execute(f"select count(*) from host.{schema}.{name}").fetchone()[0]
            assert except_both_ways(con, f"host.{schema}.{name}", f"standalone.marts.{name}") == (0, 0), name
            if name in ("fct_customer_engagement", "fct_segment_engagement", "fct_score_backtest"):
                assert rows > 0, name
    finally:
        con.close()


def test_ces_publish_on_the_host_serves_a_passing_build_only(built):
    host, host_db = built["host"], built["host_db"]
    ces = str(BIN / "ces")
    serving = host_db.parent / "serving.duckdb"
    # after the fixture's whole build, which passed: published, run from another folder
    published = run([ces, "publish", "--project-dir", str(host)], host.parent, host_db)
    marts = ces_public_marts(manifest(host))
    assert f"published {len(marts)} marts" in published.stdout
    con = duckdb.connect()
    try:
        con.execute(f"attach '{host_db}' as host (read_only)")
        con.execute(f"attach '{serving}' as served (read_only)")
        columns = [c for (c,) in con.execute(
            "select column_name from duckdb_columns() where database_name = 'served' "
            "and table_name = 'fct_customer_engagement' order by column_index").fetchall()]
        assert "customer_name" not in columns
        assert except_both_ways(con, "host.ces.fct_customer_engagement", "served.main.fct_customer_engagement",
                                ", ".join(columns)) == (0, 0)
    finally:
        con.close()
    # a partial build is now the newest dbt command: refused, the serving file left as it was
    before = serving.read_bytes()
    run([str(BIN / "dbt"), "build", "--select", "team_accounts_to_call"], host, host_db)
    refused = run([ces, "publish", "--project-dir", str(host)], host.parent, host_db, check=False)
    assert refused.returncode == 1 and "nothing is published" in refused.stderr, refused.stderr
    assert serving.read_bytes() == before


def test_ces_reports_run_on_the_host(built):
    host, host_db = built["host"], built["host_db"]
    report = run([str(BIN / "ces"), "backtest", "--project-dir", str(host)], host.parent, host_db)
    assert "team-2 *" in report.stdout, "the backtest reports the host's weights versions"
    summary = run([str(BIN / "ces"), "summary", "--project-dir", str(host)], host.parent, host_db)
    assert "weights team-2" in summary.stdout


def test_the_host_installs_ces_from_git_at_a_revision(tmp_path):
    """packages.yml with git: and a revision, as a team pins CES: dbt deps clones this
    repository at its HEAD commit, and the host's parse holds CES's models and seeds."""
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("this copy of CES is not a git checkout, so there is no revision to install")
    host = host_copy(tmp_path / "host")
    (host / "packages.yml").write_text(f'packages:\n  - git: "file://{ROOT}"\n    revision: {head.stdout.strip()}\n')
    db = tmp_path / "host.duckdb"
    run([str(BIN / "dbt"), "deps"], host, db)
    assert not (host / "dbt_packages" / "ces").is_symlink(), "a clone, not the local folder"
    run([str(BIN / "dbt"), "parse"], host, db)
    nodes = manifest(host)["nodes"].values()
    assert {"fct_customer_engagement", "ces_event_weights"} <= {n["name"] for n in nodes if n["package_name"] == "ces"}


def test_pip_install_gives_the_ces_command(tmp_path):
    """A wheel of this repository (pyproject.toml's build system), installed into an empty venv,
    gives the ces command. --no-deps: the runtime dependencies are not downloaded here; ces
    --help needs none of them."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "cestools", source / "cestools", ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    subprocess.run([str(BIN / "python"), "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(wheels), str(source)], check=True)
    [wheel] = wheels.glob("ces_warehouse-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([str(BIN / "python"), "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", str(wheel)], check=True)
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import cestools.cli; print(cestools.cli.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True)
    assert where.stdout.startswith(str(venv)), "the installed copy, not this repository's"
    shown = subprocess.run([str(venv / "bin" / "ces"), "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    for command in ("publish", "weights-impact", "backtest", "suggest-weights", "suggest-thresholds", "summary",
                    "dashboard", "demo-data"):
        assert f"  {command} " in shown.stdout, command
    import zipfile

    assert "cestools/dashboard/app.py" in zipfile.ZipFile(wheel).namelist()


def test_on_postgresql_every_public_mart_equals_the_standalone_build(built, postgres):
    """The host on PostgreSQL: raw tables under its names in app_raw of the same database
    (PostgreSQL reads no other), two loads, an incremental build after the second."""
    work, source = built["work"], built["source"]
    host = host_copy(work / "host-pg")
    renamed = work / "host-pg-raw.duckdb"
    con = duckdb.connect(str(renamed))
    try:
        con.execute(f"attach '{source}' as source (read_only)")
        con.execute("create schema app_raw")
        for table, name in RAW_NAMES.items():
            con.execute(f"create table app_raw.{name} as select * from source.raw.{table}")
    finally:
        con.close()
    create_database(postgres, "host")
    env = {**postgres, "CES_PG_DBNAME": "host", "HOST_TARGET": "postgres"}
    pg = pg_connect(env)
    pg.autocommit = True
    build = [str(BIN / "dbt"), "build", "--vars", "{ces_raw_database: null}"]
    try:
        def land_in_postgres(number: int) -> None:
            for _table, name, where in load(number):
                land_duckdb_tables_in_postgres(renamed, pg, [("app_raw", name)], where=where, append=number == 2)

        land_in_postgres(1)
        run([str(BIN / "dbt"), "deps"], host, work / "unused.duckdb", extra=env)
        run(build, host, work / "unused.duckdb", extra=env)
        land_in_postgres(2)
        second = run(build, host, work / "unused.duckdb", extra=env)
    finally:
        pg.close()
    assert "int_engagement_events_unioned: reprocessing load days 2026-10-" in second.stdout
    marts = ces_public_marts(manifest(host))
    assert set(marts.values()) == {"ces"}
    con = duckdb.connect(str(work / "compare-pg.duckdb"))
    try:
        con.execute(f"attach '{source}' as standalone (read_only)")
        con.execute("create schema marts")
        for name in marts:
            con.execute(f"create table marts.{name} as select * from standalone.marts.{name}")
        pg_to_duckdb(env, "host", sorted(marts), con, schema="ces")
        for name in sorted(marts):
            cols = common_columns(con, name)
            assert except_both_ways(con, f"(select {cols} from pg.{name})",
                                    f"(select {cols} from marts.{name})") == (0, 0), name
    finally:
        con.close()
