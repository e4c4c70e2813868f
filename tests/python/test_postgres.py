"""The same models on PostgreSQL: a server the tests start themselves, the demo data with every
defect landed with COPY, `dbt build` (every data, unit and reconciliation test), the oracle,
incremental runs equal to a full refresh, and every public mart equal to DuckDB's."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import (
    common_columns,
    create_database,
    dbt,
    except_both_ways,
    pg_connect,
    pg_to_duckdb,
    public_marts,
)
from oracle import scores

from cestools.engines.postgres_engine import land_duckdb_tables_in_postgres
from cestools.ownership import RAW_TABLES

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow


def pg_build(db: Path, env: dict, *args: str, database: str) -> str:
    """dbt on the postgres target, with target and logs beside db (the DuckDB twin)."""
    proc = dbt(db.parent / "pg" / "pg.duckdb", *args,
               env={**env, "CES_TARGET": "postgres", "CES_PG_DBNAME": database})
    return proc.stdout


@pytest.fixture(scope="module")
def pg_built(postgres, demo_db):
    """The demo data with defects (the DuckDB session build) landed in PostgreSQL and built."""
    create_database(postgres, "ces_demo")
    pg = pg_connect({**postgres, "CES_PG_DBNAME": "ces_demo"})
    try:
        land_duckdb_tables_in_postgres(demo_db, pg, [("raw", t) for t in RAW_TABLES])
    finally:
        pg.close()
    out = pg_build(demo_db, postgres, "build", database="ces_demo")
    return postgres, out


def test_postgres_build_passes_every_test(pg_built):
    _env, out = pg_built
    assert re.search(r"Done\. PASS=\d+ WARN=\d+ ERROR=0 SKIP=0", out), out[-3000:]
    unit_tests = re.search(r"(\d+) unit tests", out)
    assert unit_tests and int(unit_tests.group(1)) > 0, "the unit tests ran on PostgreSQL too"


def test_postgres_scores_match_the_oracle(pg_built, demo_db):
    env, _out = pg_built
    expected = scores(str(demo_db))
    pg = pg_connect({**env, "CES_PG_DBNAME": "ces_demo"})
    with pg.cursor() as cur:
        cur.execute("select customer_id, engagement_score, event_count, weights_version "
                    "from marts.fct_customer_engagement")
        actual = {r[0]: (Decimal(r[1]), r[2], r[3]) for r in cur.fetchall()}
    pg.close()
    assert set(actual) == set(expected)
    wrong = [c for c, e in expected.items()
             if actual[c] != (e.engagement_score, e.event_count, e.weights_version)]
    assert not wrong, f"{len(wrong)} customers differ from the oracle, e.g. {wrong[:3]}"
    assert sum(1 for s in expected.values() if s.event_count > 0) > 100


def test_every_public_mart_equals_duckdb(pg_built, demo_db, tmp_path):
    env, _out = pg_built
    marts = public_marts(demo_db)
    assert len(marts) >= 9
    con = duckdb.connect(str(tmp_path / "compare.duckdb"))
    con.execute(f"attach '{demo_db}' as build (read_only)")
    con.execute("create schema marts")
    for t in marts:
        con.execute(f"create table marts.{t} as select * from build.marts.{t}")
    pg_to_duckdb(env, "ces_demo", marts, con)
    for t in marts:
        cols = common_columns(con, t)
        left, right = f"(select {cols} from marts.{t})", f"(select {cols} from pg.{t})"
        assert except_both_ways(con, left, right) == (0, 0), t
        assert con.execute(f"select count(*) from marts.{t}").fetchone()[0] > 0 or t == "fct_quarantined_events"
    con.close()


def test_postgres_incremental_equals_full_refresh(postgres, demo_db, tmp_path):
    """Two batches of loads, built incrementally, then compared with a --full-refresh of the
    same data, table by table (EXCEPT ALL both ways, in PostgreSQL itself)."""
    create_database(postgres, "ces_batches")
    pg = pg_connect({**postgres, "CES_PG_DBNAME": "ces_batches"})
    cutoff = duckdb.connect(str(demo_db), read_only=True).execute(
        "select max(loaded_at) - interval 20 day from raw.product_events").fetchone()[0]
    land_duckdb_tables_in_postgres(demo_db, pg, [("raw", t) for t in RAW_TABLES], where=f"loaded_at <= '{cutoff}'")
    pg_build(demo_db, postgres, "build", database="ces_batches")
    land_duckdb_tables_in_postgres(demo_db, pg, [("raw", t) for t in RAW_TABLES],
                                   where=f"loaded_at > '{cutoff}'", append=True)
    out = pg_build(demo_db, postgres, "build", database="ces_batches")
    assert "reprocessing load days" in out, "the second run is incremental"
    tables = [f"marts.{t}" for t in public_marts(demo_db)] + ["intermediate.int_engagement_events_daily"]
    with pg.cursor() as cur:
        cur.execute("create schema incremental")
        for t in tables:
            cur.execute(f"create table incremental.{t.split('.')[1]} as select * from {t}")
    pg.commit()
    pg_build(demo_db, postgres, "build", "--full-refresh", database="ces_batches")
    with pg.cursor() as cur:
        for t in tables:
            for a, b in ((t, f"incremental.{t.split('.')[1]}"), (f"incremental.{t.split('.')[1]}", t)):
                cur.execute(f"select count(*) from (select * from {a} except all select * from {b}) as d")
                assert cur.fetchone()[0] == 0, (t, a, b)
    pg.close()


def test_make_build_on_postgres_publishes_a_serving_schema_only_the_bi_role_reads(postgres, tmp_path):
    """`make build TARGET=postgres` on an empty database: demo data landed with COPY, dbt build,
    publish by a schema swap, and a read-only role that reads the serving schema and nothing else."""
    import psycopg2
    from conftest import copy_project

    create_database(postgres, "ces_make")
    env = {**postgres, "CES_PG_DBNAME": "ces_make"}
    project = copy_project(tmp_path / "project")
    db, serving = tmp_path / "unused.duckdb", tmp_path / "unused-serving.duckdb"

    def run(*args: str):
        import os
        import subprocess
        return subprocess.run(["make", "--no-print-directory", *args], cwd=project, capture_output=True, text=True,
                              env={**os.environ, **env, "CES_DUCKDB_PATH": str(db), "CES_SERVING_PATH": str(serving),
                                   "DBT_PROFILES_DIR": str(project / "profiles")})

    built = run("build", "TARGET=postgres", "EVENTS=20000", "CUSTOMERS=200")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-2000:]
    assert "to the schema serving (read-only role ces_bi)" in built.stdout
    assert not db.exists() and not serving.exists(), "nothing was written to DuckDB files"
    owner = pg_connect(env)
    with owner.cursor() as cur:
        cur.execute("select count(*) from marts.fct_customer_engagement")
        customers = cur.fetchone()[0]
    assert customers == 200

    bi = psycopg2.connect(host=env["CES_PG_HOST"], port=int(env["CES_PG_PORT"]), user="ces_bi", dbname="ces_make")
    bi.autocommit = True
    with bi.cursor() as cur:
        cur.execute("select count(*) from serving.fct_customer_engagement")
        assert cur.fetchone()[0] == customers
        cur.execute("select count(*) from information_schema.columns where table_schema = 'serving' "
                    "and column_name = 'customer_name'")
        assert cur.fetchone()[0] == 0, "personal data is not served"
        for forbidden in ("raw.customers", "marts.fct_customer_engagement", "intermediate.int_scoring_window",
                          "staging.stg_crm__customers", "demo.customer_archetypes"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(f"select 1 from {forbidden} limit 1")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("create table serving.mine (a int)")

    # a build that did not run everything publishes nothing; the serving tables stay as they were
    with bi.cursor() as cur:
        cur.execute("select sum(engagement_score) from serving.fct_customer_engagement")
        before = cur.fetchone()[0]
    partial = run("weights-impact", "TARGET=postgres")
    assert partial.returncode == 0 and "Weights change impact: v2" in partial.stdout, partial.stderr[-2000:]
    refused = run("publish", "TARGET=postgres")
    assert refused.returncode != 0 and "a build with --select" in refused.stderr, refused.stderr
    with bi.cursor() as cur:
        cur.execute("select sum(engagement_score) from serving.fct_customer_engagement")
        assert cur.fetchone()[0] == before

    # the database now holds a table of the user's: demo data is refused, the table survives
    with owner.cursor() as cur:
        cur.execute("create schema team; create table team.notes as select 1 as n")
    owner.commit()
    demo = run("demo-data", "TARGET=postgres", "EVENTS=5000", "CUSTOMERS=50")
    assert demo.returncode != 0 and "team.notes" in demo.stderr and "FORCE=1" in demo.stderr
    with owner.cursor() as cur:
        cur.execute("select count(*) from team.notes")
        assert cur.fetchone()[0] == 1
    bi.close()
    owner.close()


def test_the_landing_cli_never_replaces_or_adds_to_a_table_of_the_users(postgres, demo_db):
    """`python -m cestools.landing` refuses a database holding the team's own
    raw.customers, which stays row for row; in a database of its own it lands, marks what it
    landed, and a later --append adds to those tables."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    def land(database: str, *extra: str) -> subprocess.CompletedProcess:
        env = {**os.environ, **postgres, "CES_TARGET": "postgres", "CES_PG_DBNAME": database}
        return subprocess.run([sys.executable, "-m", "cestools.landing", "--from", str(demo_db), *extra],
                              cwd=ROOT, env=env, capture_output=True, text=True)

    def rows(database: str, sql: str) -> list[tuple]:
        pg = pg_connect({**postgres, "CES_PG_DBNAME": database})
        try:
            with pg.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()
        finally:
            pg.close()

    create_database(postgres, "ces_team_land")
    pg = pg_connect({**postgres, "CES_PG_DBNAME": "ces_team_land"})
    with pg.cursor() as cur:
        cur.execute("create schema raw; create table raw.customers (customer_id text, note text)")
        cur.execute("insert into raw.customers values ('TEAM-1', 'ours')")
    pg.commit()
    pg.close()
    for extra in ([], ["--append"]):
        refused = land("ces_team_land", *extra)
        assert refused.returncode != 0 and "raw.customers" in refused.stderr, refused.stderr[-2000:]
        assert "nothing was landed" in refused.stderr
        assert rows("ces_team_land", "select * from raw.customers") == [("TEAM-1", "ours")]
        assert rows("ces_team_land", "select count(*) from information_schema.tables "
                                     "where table_schema in ('raw', 'demo')") == [(1,)]

    create_database(postgres, "ces_own_land")
    events = duckdb.connect(str(demo_db), read_only=True).execute(
        "select count(*) from raw.product_events").fetchone()[0]
    first = land("ces_own_land", "--tables", "raw.product_events")
    assert first.returncode == 0, first.stderr[-2000:]
    assert rows("ces_own_land", "select table_schema, table_name, complete from demo.generated_tables") == [
        ("raw", "product_events", True)]
    again = land("ces_own_land", "--tables", "raw.product_events", "--append")
    assert again.returncode == 0, again.stderr[-2000:]
    assert rows("ces_own_land", "select count(*) from raw.product_events") == [(2 * events,)]
    assert rows("ces_own_land", "select count(*) from demo.generated_tables") == [(1,)]
