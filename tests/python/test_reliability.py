"""Write-audit-publish, readers during builds, idempotence, broken weights and empty input.

Tests that change a seed work on a copy of the project in a temporary folder (sharing
.venv), so the repository is never edited.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from conftest import (
    BIN,
    copy_project,
    create_raw,
    dbt,
    except_both_ways,
    generate,
    make,
    query,
    serving_bytes,
)

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow

MARTS_SQL = """select table_name from information_schema.tables
               where table_schema = 'marts' order by table_name"""


def edit_weights(project: Path, edit) -> None:
    path = project / "seeds" / "ces_event_weights.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


@pytest.fixture(scope="module")
def small_project(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A project copy with a small demo warehouse (with defects) built and published once."""
    root = tmp_path_factory.mktemp("wap")
    project = copy_project(root / "project")
    db, serving = root / "wh" / "ces.duckdb", root / "wh" / "serving.duckdb"
    db.parent.mkdir()
    generate(db, "--events", "30000", "--customers", "300", "--seed", "3", "--defects")
    proc = make(project, "build", db, serving)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "[publish] published" in proc.stdout
    return project, db, serving


# --- write-audit-publish ---------------------------------------------------------------------

def set_field(line: str, index: int, value: str) -> str:
    fields = line.split(",", 5)  # the description (last field) may hold commas
    fields[index] = value
    return ",".join(fields)


BROKEN_SEEDS = {
    # catalogue code: (edit of the CSV lines, the test that must fail, naming the fix)
    "weights_duplicate_type": (lambda ls: [*ls, ls[-1]], "weights_one_row_per_version_segment_and_event_type"),
    "weights_bad_weight": (lambda ls: [*ls[:-1], set_field(ls[-1], 4, "lots")],
                           "weights_weight_is_a_number"),
    "weights_effective_from_disagrees": (lambda ls: [*ls[:-1], set_field(ls[-1], 1, "2026-09-16")],
                                         "weights_version_rows_share_one_effective_from"),
}


@pytest.mark.parametrize("code", list(BROKEN_SEEDS))
def test_broken_weights_seed_fails_build_and_keeps_serving_data(small_project, tmp_path, code):
    project, db, serving = small_project
    before = serving_bytes(serving)
    broken = copy_project(tmp_path / "broken")
    edit, failing_test = BROKEN_SEEDS[code]
    edit_weights(broken, edit)
    proc = make(broken, "build", db, serving)
    assert proc.returncode != 0, "a broken weights seed must fail the build"
    assert failing_test in proc.stdout, proc.stdout[-3000:]
    assert "[publish]" not in proc.stdout, "nothing is published after a failed audit"
    assert serving_bytes(serving) == before, "the last good serving files are untouched"
    # the stored failures say what to fix
    fix = query(db, f"select * from dbt_test__audit.{failing_test}")
    assert fix, "the failing rows are stored for inspection"


def test_missing_weight_fails_build(small_project, tmp_path):
    project, db, serving = small_project
    broken = copy_project(tmp_path / "broken")
    edit_weights(broken, lambda ls: [*ls[:-1], set_field(ls[-1], 4, "")])
    proc = make(broken, "dbt-build", db, serving)
    assert proc.returncode != 0 and "weights_weight_is_set" in proc.stdout


def test_no_version_in_force_fails_build(small_project):
    project, db, serving = small_project
    proc = make(project, "dbt-build", db, serving, "VARS={ces_as_of_date: 2025-06-30}")
    assert proc.returncode != 0
    assert "weights_version_in_force_at_as_of_date" in proc.stdout


def test_pii_left_out_of_serving_unless_var(small_project, tmp_path):
    project, db, serving = small_project
    cols = {c for (c,) in query(serving, "select column_name from information_schema.columns "
                                         "where table_name = 'fct_customer_engagement'")}
    assert "customer_name" not in cols and "customer_id" in cols
    assert "customer_name" in {c for (c,) in query(db, """select column_name from information_schema.columns
        where table_schema = 'marts' and table_name = 'fct_customer_engagement'""")}
    # publish serves only the newest build when it passed: tests before may have left a failed one
    assert make(project, "dbt-build", db, serving).returncode == 0
    with_pii = tmp_path / "pii.duckdb"
    subprocess.run([str(BIN / "python"), "-m", "cestools.publish", "--build", str(db), "--serving",
                    str(with_pii), "--target-path", str(project / "target"),
                    "--vars", "{ces_serve_customer_name: true}"], cwd=project, check=True,
                   capture_output=True)
    assert query(with_pii, "select count(customer_name) from fct_customer_engagement")[0][0] > 0


def test_serving_matches_build_marts(small_project):
    _, db, serving = small_project
    marts = [t for (t,) in query(db, MARTS_SQL)]
    served = [t for (t,) in query(serving, "select table_name from information_schema.tables order by 1")]
    assert served == marts
    con = duckdb.connect(str(serving), read_only=True)
    con.execute(f"attach '{db}' as build (read_only)")
    for t in marts:
        cols = ", ".join(c for (c,) in con.execute(
            f"select column_name from duckdb_columns() where database_name = 'serving' "
            f"and table_name = '{t}'").fetchall())
        assert except_both_ways(con, f"build.marts.{t}", t, cols) == (0, 0), t
        parquet = serving.parent / "serving" / f"{t}.parquet"
        assert con.execute(f"select count(*) from '{parquet}'").fetchone()[0] == \
            con.execute(f"select count(*) from {t}").fetchone()[0]
    con.close()


# --- readers and builds together -------------------------------------------------------------

READER = textwrap.dedent("""
    # mode hold: one connection kept open, like a BI tool; mode poll: a new connection per read
    import os, sys, time, duckdb
    mode, serving, stop, out = sys.argv[1:5]
    held = duckdb.connect(serving, read_only=True) if mode == "hold" else None
    checks = errors = 0
    seen = set()
    while not os.path.exists(stop):
        try:
            con = held or duckdb.connect(serving, read_only=True)
            # one snapshot: the segment totals equal the customer rows they summarise
            a = con.execute("select count(*), sum(engagement_score) from fct_customer_engagement").fetchone()
            b = con.execute("select sum(customers), sum(total_engagement_score) "
                            "from fct_segment_engagement").fetchone()
            if con is not held:
                con.close()
            seen.add(a)
            checks += 1
            errors += 0 if a == b else 1
        except Exception as exc:
            errors += 1
            print(repr(exc), file=sys.stderr)
        time.sleep(0.01)
    open(out, "w").write(f"{checks} {errors} {len(seen)}")
""")


def test_reader_holding_serving_file_neither_blocks_nor_sees_partial_data(small_project, tmp_path):
    project, db, serving = small_project
    stop = tmp_path / "stop"
    readers = {mode: subprocess.Popen(
        [sys.executable, "-c", READER, mode, str(serving), str(stop), str(tmp_path / f"{mode}.out")],
        stderr=subprocess.PIPE, text=True) for mode in ("hold", "poll")}
    try:
        time.sleep(1.0)
        # a different window changes the scores, so a new connection sees a new snapshot
        for window in (14, 30):
            proc = make(project, "build", db, serving, f"VARS={{ces_window_days: {window}}}")
            assert proc.returncode == 0, proc.stdout[-3000:]
            assert "[publish] published" in proc.stdout
        time.sleep(1.0)
    finally:
        stop.touch()
        stderr = {mode: r.communicate(timeout=60)[1] for mode, r in readers.items()}
    results = {mode: tuple(map(int, (tmp_path / f"{mode}.out").read_text().split())) for mode in readers}
    for mode, (checks, errors, _snapshots) in results.items():
        assert errors == 0, (mode, stderr[mode])
        assert checks > 20, mode
    assert results["hold"][2] == 1, "an open connection keeps reading the snapshot it opened"
    assert results["poll"][2] >= 2, "new connections see each publish"


# --- idempotence and empty input -------------------------------------------------------------

def test_two_builds_produce_identical_marts(demo_db, tmp_path):
    """A second build with no new loads finds no changed load day, reprocesses nothing, and
    leaves every mart and the event layer as they were."""
    db = tmp_path / "ces.duckdb"
    shutil.copy(demo_db, db)
    snapshot = tmp_path / "first.duckdb"
    con = duckdb.connect(str(snapshot))
    con.execute(f"attach '{db}' as build (read_only)")
    tables = [f"marts.{t}" for (t,) in con.execute("""select table_name from duckdb_tables()
        where database_name = 'build' and schema_name = 'marts' order by 1""").fetchall()]
    tables.append("intermediate.int_engagement_events_daily")
    for t in tables:
        con.execute(f"create table {t.split('.')[1]} as select * from build.{t}")
    con.close()
    out = dbt(db, "build").stdout
    for model in ("int_engagement_events_unioned", "int_engagement_events_daily"):
        assert f"{model}: no load day changed" in out, out[-3000:]
    con = duckdb.connect(str(db), read_only=True)
    con.execute(f"attach '{snapshot}' as first (read_only)")
    for t in tables:
        assert except_both_ways(con, t, f"first.{t.split('.')[1]}") == (0, 0), \
            f"{t} changed on an identical rebuild"
    con.close()
    assert len(tables) >= 10


def test_no_support_tickets_builds_with_zeros(tmp_path):
    db = tmp_path / "ces.duckdb"
    generate(db, "--events", "20000", "--customers", "200", "--seed", "5")
    con = duckdb.connect(str(db))
    con.execute("delete from raw.support_tickets")
    con.close()
    dbt(db, "build")
    assert query(db, """select count(*) from marts.fct_customer_event_contributions
                        where event_type = 'support_ticket_opened'""")[0][0] == 0
    assert query(db, """select coalesce(sum(event_count), 0) from marts.fct_event_reconciliation
                        where event_source = 'support'""")[0][0] == 0
    assert query(db, "select count(*) from marts.fct_customer_engagement")[0][0] == 200


def test_empty_window_and_empty_raw_tables_build_with_zeros(tmp_path):
    db = tmp_path / "ces.duckdb"
    con = create_raw(db)
    con.execute("insert into raw.customers values ('C1', 'One', null, 'starter', 'trial', 'US', "
                "timestamp '2026-01-01', timestamp '2026-01-01')")
    con.close()
    # no event at all: a failed build that says so, unless an empty window is asked for
    failed = dbt(db, "build", vars={"ces_as_of_date": "2026-10-31"}, check=False)
    assert failed.returncode != 0 and "there is no scored event at all" in failed.stdout
    dbt(db, "build", vars={"ces_as_of_date": "2026-10-31", "ces_allow_empty_window": True})
    assert query(db, """select segment, engagement_score, event_count, engagement_tier
                        from marts.fct_customer_engagement""") == [("unknown", 0, 0, "dormant")]
    assert query(db, "select count(*) from marts.fct_event_reconciliation")[0][0] == 0


# --- clients of the serving file -------------------------------------------------------------

OLD_DUCKDB = "1.4.4"  # the DuckDB inside many BI drivers; it refuses DuckDB 2.0's newest storage format
EXPORT = textwrap.dedent("""
    # run by another DuckDB: every table of the serving file out to Parquet, as that client read it
    import sys, duckdb
    serving, out = sys.argv[1:3]
    con = duckdb.connect(serving, read_only=True)
    for (table,) in con.execute("select table_name from duckdb_tables() order by 1").fetchall():
        con.execute(f"copy {table} to '{out}/{table}.parquet' (format parquet)")
    print(duckdb.__version__)
""")


def test_serving_file_opens_in_an_older_duckdb_client(small_project, tmp_path):
    """The serving file is written in a storage version DuckDB 1.x reads: a separate small
    environment with DuckDB 1.4 opens it, and every mart it reads equals the build's."""
    _project, db, serving = small_project
    venv = tmp_path / "duckdb1"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    f"duckdb=={OLD_DUCKDB}"], check=True, capture_output=True)
    out = tmp_path / "read_by_old_client"
    out.mkdir()
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", EXPORT, str(serving), str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == OLD_DUCKDB
    con = duckdb.connect()
    con.execute(f"attach '{db}' as build (read_only)")
    marts = [t for (t,) in con.execute("""select table_name from duckdb_tables()
        where database_name = 'build' and schema_name = 'marts' order by 1""").fetchall()]
    assert sorted(p.stem for p in out.glob("*.parquet")) == marts
    for t in marts:
        served = con.execute(f"select column_name, column_type from (describe select * from '{out / t}.parquet')"
                             ).fetchall()
        built = dict(con.execute(f"select column_name, data_type from duckdb_columns() where database_name = 'build' "
                                 f"and schema_name = 'marts' and table_name = '{t}'").fetchall())
        assert all(built[c] == ty for c, ty in served), (t, served)  # decimals stay decimals
        cols = ", ".join(f'"{c}"' for c, _ty in served)
        assert except_both_ways(con, f"build.marts.{t}", f"'{out / t}.parquet'", cols) == (0, 0), t
    con.close()
