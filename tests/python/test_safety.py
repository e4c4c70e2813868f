"""Safe on a team's own data: what the project may touch, bad settings, publish gates, messages.

Every test works in a copy of the project (sharing .venv) on temporary warehouse files, and
drives it the way a user does: through `make`, `python -m cestools...` and plain `dbt`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, ROOT, copy_project, create_raw, dbt, generate, make, query, serving_bytes

from cestools.errors import CesError

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow

USER_SCHEMA = "my_raw"
RAW_TABLES = ("customers", "product_events", "support_tickets")


def checksums(db: Path, skip: tuple[str, ...] = ("staging", "intermediate", "marts", "seeds",
                                                   "dbt_test__audit", "demo")) -> dict[str, tuple]:
    """(rows, sum and xor of the row hashes) of every table outside the schemas in skip (by
    default the project's and the demo generator's): a change to any row changes it."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [(s, t) for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables() order by 1, 2").fetchall() if s not in skip]
        return {f"{s}.{t}": con.execute(f'select count(*), sum(hash(r)), bit_xor(hash(r)) from "{s}"."{t}" as r')
                .fetchone() for s, t in tables}
    finally:
        con.close()


def public_marts_of(project: Path) -> list[str]:
    """The public marts of the manifest that the last make in the project copy wrote."""
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    return sorted(n["name"] for n in manifest["nodes"].values()
                  if n["resource_type"] == "model" and n.get("access") == "public")


def schemas(db: Path) -> set[str]:
    return {s for (s,) in query(db, "select schema_name from duckdb_schemas() where not internal")}


def user_warehouse(path: Path, source: Path, schema: str = USER_SCHEMA) -> None:
    """A team's own file: the raw contract in `schema`, written by the team, not the generator,
    plus one more table of theirs the project must never touch."""
    con = duckdb.connect(str(path))
    con.execute(f"attach '{source}' as src (read_only)")
    con.execute(f"create schema {schema}")
    for t in RAW_TABLES:
        con.execute(f"create table {schema}.{t} as select * from src.raw.{t}")
    con.execute(f"create table {schema}.invoices as select customer_id, 100.0 as amount from src.raw.customers")
    con.close()


@pytest.fixture(scope="module")
def demo_source(tmp_path_factory) -> Path:
    """Small demo raw data to copy into files that play a team's own warehouse."""
    db = tmp_path_factory.mktemp("source") / "source.duckdb"
    generate(db, "--events", "20000", "--customers", "200", "--seed", "9")
    return db


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("safety") / "project")


def test_own_data_in_a_custom_schema_survives_every_command(project, demo_source, tmp_path):
    db, serving = tmp_path / "own.duckdb", tmp_path / "serving.duckdb"
    user_warehouse(db, demo_source)
    before = checksums(db)
    assert set(before) == {f"{USER_SCHEMA}.{t}" for t in (*RAW_TABLES, "invoices")}
    own_vars = f"VARS={{ces_raw_schema: {USER_SCHEMA}}}"

    built = make(project, "build", db, serving, own_vars)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-2000:]
    assert "building on the tables there as they are" in built.stdout
    assert f"[publish] published {len(public_marts_of(project))} marts" in built.stdout
    assert checksums(db) == before
    assert "raw" not in schemas(db) and "demo" not in schemas(db), "no demo data was written"
    assert query(db, "select count(*) from marts.fct_customer_engagement")[0][0] == \
        query(db, f"select count(distinct customer_id) from {USER_SCHEMA}.customers")[0][0]

    impact = make(project, "weights-impact", db, serving, own_vars)
    assert impact.returncode == 0, impact.stdout[-3000:] + impact.stderr[-2000:]
    assert "Weights change impact" in impact.stdout
    assert checksums(db) == before

    published = serving_bytes(serving)
    refused = make(project, "publish", db, serving)
    assert refused.returncode != 0 and "a build with --select" in refused.stderr, refused.stderr
    assert serving_bytes(serving) == published

    default_schema = make(project, "build", db, serving)
    assert default_schema.returncode != 0
    assert 'ces_raw_schema is "raw", but no schema of that name exists' in default_schema.stdout
    assert checksums(db) == before and "raw" not in schemas(db)

    demo = make(project, "demo-data", db, serving, "EVENTS=3000", "CUSTOMERS=30")
    assert demo.returncode != 0 and "FORCE=1" in demo.stderr and "Traceback" not in demo.stderr
    assert checksums(db) == before and "raw" not in schemas(db)

    forced = make(project, "demo-data", db, serving, "EVENTS=3000", "CUSTOMERS=30", "FORCE=1")
    assert forced.returncode == 0, forced.stdout[-3000:] + forced.stderr[-2000:]
    after = checksums(db)
    assert {k: v for k, v in after.items() if k.startswith(USER_SCHEMA)} == before, \
        "FORCE replaces only the raw contract tables in raw"
    assert {k for k in after if k.startswith("raw.")} == {f"raw.{t}" for t in (*RAW_TABLES, "customer_outcomes")}
    assert serving_bytes(serving) == published


def test_raw_tables_under_other_names_build_the_same_marts(project, demo_source, tmp_path):
    """A team's raw tables with names of their own, in a schema of their own, named by the vars
    ces_raw_schema and ces_<table>_identifier: make build writes no demo data, leaves them as
    they are, and builds every public mart equal (EXCEPT ALL both ways) to the build of the
    same rows under the raw contract's own names. A wrong name is named with its var."""
    from conftest import except_both_ways, public_marts

    names = {"customers": "crm_accounts", "product_events": "app_events", "support_tickets": "helpdesk_tickets",
             "customer_outcomes": "account_outcomes"}
    db, serving = tmp_path / "own.duckdb", tmp_path / "serving.duckdb"
    con = duckdb.connect(str(db))
    con.execute(f"attach '{demo_source}' as src (read_only)")
    con.execute("create schema team_raw")
    for table, name in names.items():
        con.execute(f"create table team_raw.{name} as select * from src.raw.{table}")
    con.close()
    before = checksums(db)
    own_vars = "VARS={ces_raw_schema: team_raw, " + ", ".join(f"ces_{t}_identifier: {n}" for t, n in names.items()) + "}"
    built = make(project, "build", db, serving, own_vars)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-2000:]
    assert "ces_raw_schema is team_raw: building on the tables there as they are" in built.stdout
    assert checksums(db) == before and "raw" not in schemas(db), "no demo data, the team's tables untouched"

    reference = tmp_path / "reference" / "ces.duckdb"
    reference.parent.mkdir()
    shutil.copy(demo_source, reference)
    dbt(reference, "build")
    marts = public_marts(reference)
    con = duckdb.connect()
    con.execute(f"attach '{db}' as own (read_only)")
    con.execute(f"attach '{reference}' as ref (read_only)")
    for t in marts:
        assert except_both_ways(con, f"own.marts.{t}", f"ref.marts.{t}") == (0, 0), t
        assert con.execute(f"select count(*) from own.marts.{t}").fetchone()[0] > 0 or t == "fct_quarantined_events", t
    con.close()

    wrong = make(project, "dbt-build", db, serving, own_vars.replace("app_events", "app_event"))
    assert wrong.returncode != 0
    assert "the raw table team_raw.app_event is missing" in wrong.stdout and "ces_product_events_identifier" in wrong.stdout, \
        wrong.stdout[-2000:]


def test_a_weights_seed_of_the_teams_replaces_the_projects(demo_source, tmp_path):
    """ces_event_weights_seed names a seed of the team's: the models read it instead of
    seeds/ces_event_weights.csv. Every weight doubled there doubles every score (CES is linear
    in the weights); a name with no seed is refused before dbt runs, naming the var."""

    project = copy_project(tmp_path / "project")
    rows = (ROOT / "seeds" / "ces_event_weights.csv").read_text().splitlines()
    header, body = rows[0], [r.split(",", 5) for r in rows[1:]]
    weight = header.split(",").index("weight")
    doubled = [",".join(r[:weight] + [str(2 * float(r[weight]))] + r[weight + 1:]) for r in body]
    (project / "seeds" / "team_weights.csv").write_text("\n".join([header, *doubled]) + "\n")
    scores = {}
    for name, extra in (("own", ("VARS={ces_event_weights_seed: team_weights}",)), ("default", ())):
        db = tmp_path / name / "ces.duckdb"
        db.parent.mkdir()
        shutil.copy(demo_source, db)
        built = make(project, "dbt-build", db, tmp_path / name / "serving.duckdb", *extra)
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-2000:]
        scores[name] = dict(query(db, "select customer_id, engagement_score from marts.fct_customer_engagement"))
    assert scores["own"].keys() == scores["default"].keys() and any(scores["default"].values())
    assert all(scores["own"][c] == 2 * s for c, s in scores["default"].items())

    missing = make(project, "dbt-build", tmp_path / "own" / "ces.duckdb", tmp_path / "own" / "serving.duckdb",
                   "VARS={ces_event_weights_seed: team_weight}")
    assert missing.returncode != 0
    assert "ces_event_weights_seed is 'team_weight', but no seed of that name exists" in missing.stdout + missing.stderr


def test_empty_product_events_with_user_customers_is_built_as_it_is(project, demo_source, tmp_path):
    db, serving = tmp_path / "own.duckdb", tmp_path / "serving.duckdb"
    con = create_raw(db)
    con.execute(f"attach '{demo_source}' as src (read_only)")
    con.execute("insert into raw.customers select * from src.raw.customers where customer_id <= 'C000040'")
    con.execute("insert into raw.support_tickets select * from src.raw.support_tickets "
                "where customer_id <= 'C000040'")
    con.close()
    before = checksums(db)
    built = make(project, "build", db, serving)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-2000:]
    assert "holds your own tables" in built.stdout
    assert checksums(db) == before, "the user's raw tables are not replaced by demo data"
    assert "demo" not in schemas(db)
    assert query(db, "select count(*) from raw.product_events")[0][0] == 0
    customers, highest, any_negative = query(
        db, "select count(*), max(engagement_score), bool_or(engagement_score < 0) from marts.fct_customer_engagement")[0]
    assert customers == 40, "exactly the user's customers are scored"
    assert highest <= 0 and any_negative, "from their tickets alone, whose weight is negative"


def test_failed_build_publishes_nothing_however_publish_is_called(project, tmp_path):
    db, serving = tmp_path / "ces.duckdb", tmp_path / "serving.duckdb"
    generate(db, "--events", "20000", "--customers", "200", "--seed", "4")
    assert make(project, "build", db, serving).returncode == 0
    published = serving_bytes(serving)
    assert len(published) == 1 + len(public_marts_of(project)), "the DuckDB file and one Parquet file per mart"
    # a row loaded 30 days before the newest load: past the incremental lookback, so the
    # reconciliation of every raw row fails until a --full-refresh
    con = duckdb.connect(str(db))
    con.execute("""insert into raw.product_events
        select 'late-1', customer_id, 'u', 'session_started', max_loaded - interval 30 day,
               max_loaded - interval 30 day
        from raw.customers, (select max(loaded_at) as max_loaded from raw.product_events) limit 1""")
    con.close()
    failed = make(project, "build", db, serving)
    assert failed.returncode != 0
    assert "FAIL assert_reconciliation_accounts_for_every_raw_row" in failed.stdout
    assert "how to fix: raw rows loaded with a loaded_at before the incremental lookback" in failed.stdout
    assert "[publish]" not in failed.stdout
    again = make(project, "publish", db, serving)
    assert again.returncode != 0 and "the newest dbt build did not pass" in again.stderr
    direct = subprocess.run([str(BIN / "python"), "-m", "cestools.publish", "--build", str(db),
                             "--serving", str(serving)], cwd=project, capture_output=True, text=True)
    assert direct.returncode != 0 and "assert_reconciliation_accounts_for_every_raw_row (fail)" in direct.stderr
    assert "Traceback" not in direct.stderr + again.stderr
    assert serving_bytes(serving) == published
    # the fix the message gives works, and then publishing does too
    refreshed = subprocess.run([str(BIN / "dbt"), "build", "--full-refresh"], cwd=project, capture_output=True,
                               text=True, env={**os.environ, "CES_DUCKDB_PATH": str(db)})
    assert refreshed.returncode == 0, refreshed.stdout[-3000:]
    assert make(project, "publish", db, serving).returncode == 0
    assert serving_bytes(serving) != published


def test_publish_refuses_a_build_of_another_warehouse_file(project, tmp_path):
    first, other, serving = tmp_path / "a" / "ces.duckdb", tmp_path / "b" / "ces.duckdb", tmp_path / "s.duckdb"
    for db in (first, other):
        db.parent.mkdir()
        generate(db, "--events", "5000", "--customers", "50", "--seed", "2")
    assert make(project, "build", first, serving).returncode == 0
    published = serving_bytes(serving)
    assert make(project, "dbt-build", other, serving).returncode == 0  # same target/ folder
    refused = make(project, "publish", first, serving)
    assert refused.returncode != 0 and "records a dbt build of another warehouse" in refused.stderr
    assert serving_bytes(serving) == published


@pytest.fixture(scope="module")
def built_small(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("settings") / "ces.duckdb"
    generate(db, "--events", "5000", "--customers", "50", "--seed", "6")
    dbt(db, "build")
    return db


@pytest.mark.parametrize("bad_vars, message", [
    ({"ces_window_days": -5}, "ces_window_days is -5; allowed: a whole number of at least 1"),
    ({"ces_window_days": 0}, "ces_window_days is 0; allowed: a whole number of at least 1"),
    ({"ces_lookback_days": -1}, "ces_lookback_days is -1; allowed: a whole number of at least 0"),
    ({"ces_as_of_date": "2026-02-30"}, 'ces_as_of_date is "2026-02-30"; allowed: a real date'),
    ({"ces_as_of_date": "last tuesday"}, 'ces_as_of_date is "last tuesday"; allowed: a real date'),
    ({"ces_churn_drop_pct": 150}, "ces_churn_drop_pct is 150; allowed: a number above 0 up to 100"),
    ({"ces_upsell_min_percentile": -1}, "ces_upsell_min_percentile is -1; allowed: a number from 0 to 100"),
    ({"ces_upsell_plans": "starter"}, 'ces_upsell_plans is "starter"; allowed: a list of plan names'),
    ({"ces_raw_schema": "nowhere"}, 'ces_raw_schema is "nowhere", but no schema of that name exists'),
    ({"ces_spark_file_format": "orc"}, 'ces_spark_file_format is "orc"; allowed: parquet, or delta'),
    ({"ces_raw_schema": "marts"}, 'ces_raw_schema is "marts", a schema this project builds'),
    ({"ces_raw_database": ""}, 'ces_raw_database is ""; allowed: null'),
    ({"ces_raw_database": "nowhere"}, 'ces_raw_schema is "raw", but no schema of that name exists in nowhere'),
])
def test_bad_setting_stops_the_build_naming_it(built_small, bad_vars, message):
    before = query(built_small, "select count(*) from intermediate.ces_build_log")[0][0]
    proc = dbt(built_small, "build", vars=bad_vars, check=False)
    assert proc.returncode != 0
    assert "The settings are wrong, so nothing was built" in proc.stdout
    assert message in proc.stdout, proc.stdout[-2000:]
    assert query(built_small, "select count(*) from intermediate.ces_build_log")[0][0] == before, \
        "nothing ran: not even the build was recorded"


def test_as_of_date_after_the_newest_event_fails_unless_asked_for(built_small, tmp_path):
    db = tmp_path / "copy" / "ces.duckdb"
    db.parent.mkdir()
    shutil.copy(built_small, db)
    newest = query(db, """select max(event_date) from intermediate.int_engagement_events_daily
                                   where record_status = 'scored'""")[0][0]
    proc = dbt(db, "build", vars={"ces_as_of_date": "2027-03-01"}, check=False)
    assert proc.returncode != 0
    assert f"newest {newest})" in proc.stdout and "ces_allow_empty_window" in proc.stdout
    dbt(db, "build", vars={"ces_as_of_date": "2027-03-01", "ces_allow_empty_window": True})
    assert query(db, """select count(*) filter (where engagement_score <> 0),
                                        count(*) filter (where engagement_tier <> 'dormant')
                                 from marts.fct_customer_engagement""") == [(0, 0)]


def add_version(project: Path, version: str, effective_from: str, change: dict[str, str],
                drop: tuple[str, ...] = ()) -> None:
    """Append a weights version: v2's rows with some weights changed and some types left out
    (the shipped v3 is removed first, so the new version is the newest)."""
    seed = project / "seeds" / "ces_event_weights.csv"
    lines = [line for line in seed.read_text().splitlines() if not line.startswith("v3,")]
    rows = []
    for line in lines[1:]:
        v, _start, segment, event_type, weight, description = line.split(",", 5)
        if v == "v2" and event_type not in drop:
            if event_type in change:
                weight, description = change[event_type], f"Changed in {version} for the test"
            rows.append(",".join([version, effective_from, segment, event_type, weight, description]))
    seed.write_text("\n".join([*lines, *rows]) + "\n")


def test_a_version_leaving_out_an_event_type_fails_naming_it(tmp_path, built_small):
    project = copy_project(tmp_path / "project")
    add_version(project, "v3", "2026-12-01", {}, drop=("data_exported",))
    db = tmp_path / "ces.duckdb"
    shutil.copy(built_small, db)
    proc = subprocess.run([str(BIN / "dbt"), "build"], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "CES_DUCKDB_PATH": str(db), "DBT_PROFILES_DIR": str(project / "profiles")})
    assert proc.returncode != 0
    assert "FAIL assert_weights_versions_carry_forward_event_types" in proc.stdout
    assert "weights version v3 leaves out data_exported, which v2 weighted" in proc.stdout


def test_weights_impact_compares_the_future_version_and_lists_changed_weights(tmp_path, demo_source):
    project = copy_project(tmp_path / "project")
    add_version(project, "v3", "2027-01-01", {"report_created": "7.5", "support_ticket_opened": "-6.0"})
    db, serving = tmp_path / "ces.duckdb", tmp_path / "serving.duckdb"
    shutil.copy(demo_source, db)
    proc = make(project, "weights-impact", db, serving)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    out = proc.stdout
    assert "v2 (from 2026-09-15, in force) -> v3 (from 2027-01-01, future)" in out
    assert "Default weights that change (2)" in out and "Segment overrides that change (0" in out
    assert re.search(r"\n  report_created +6 -> 7\.5 +Changed in v3 for the test\n", out), out[:1500]
    assert re.search(r"\n  support_ticket_opened +-4 -> -6 +Changed in v3 for the test\n", out)
    # the impact is v3's: the deltas equal 1.5 x report_created - 2 x tickets in the window
    delta = query(db, """select sum(score_delta) from marts.fct_weights_change_impact""")[0][0]
    expected = query(db, """select sum(case event_type when 'report_created' then 1.5
                                                   when 'support_ticket_opened' then -2 end * counts.event_count)
                            from intermediate.int_point_event_counts as counts
                            inner join (select distinct lower(customer_id) as customer_key from raw.customers) as crm
                                on counts.customer_key = crm.customer_key
                            where counts.point_id = 'as_of'""")[0][0]
    assert delta == expected and delta != 0


OVERRIDE_PROBLEMS = {
    # a seed line added to v2: (the test that reports it, its status, words of its how_to_fix)
    "v2,2026-09-15,Enterprize,report_created,9.0,typo in the segment": (
        "assert_weights_overrides_name_known_segments", "WARN",
        "no customer is in segment Enterprize, which v2 overrides"),
    "v2,2026-09-15,Enterprise,mystery_clicked,9.0,a type v2 has no default for": (
        "assert_weights_overrides_have_a_default", "FAIL",
        "the override of mystery_clicked for Enterprise in v2 has no default"),
    "v2,2026-09-15,,report_created,9.0,a second default row": (
        "weights_one_row_per_version_segment_and_event_type", "FAIL",
        "remove the repeated rows: (weights_version, segment, event_type) must be unique"),
}


def build_with_seed_line(tmp_path, built_small, line, seed="ces_event_weights"):
    """dbt build of a copy of the project whose seed (the weights by default) has one more line."""
    project = copy_project(tmp_path / "project")
    seed = project / "seeds" / f"{seed}.csv"
    seed.write_text(seed.read_text() + line + "\n")
    db = tmp_path / "ces.duckdb"
    shutil.copy(built_small, db)
    return subprocess.run([str(BIN / "dbt"), "build"], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "CES_DUCKDB_PATH": str(db), "DBT_PROFILES_DIR": str(project / "profiles")})


@pytest.mark.parametrize("line", list(OVERRIDE_PROBLEMS))
def test_segment_override_problems_are_named(tmp_path, built_small, line):
    test_name, status, advice = OVERRIDE_PROBLEMS[line]
    proc = build_with_seed_line(tmp_path, built_small, line)
    assert (proc.returncode != 0) == (status == "FAIL"), proc.stdout[-3000:]
    assert f"{status} {test_name}" in proc.stdout and advice in proc.stdout, proc.stdout[-3000:]


def test_a_null_in_one_of_several_checked_columns_names_that_column_only(tmp_path, built_small):
    """ces_not_null_columns counts the nulls of all its columns in one scan: the row it
    reports must name the column that has them (the last of four here), and no other."""
    proc = build_with_seed_line(tmp_path, built_small, "renewed,good,365,active,,,A customer renews", "ces_outcomes")
    assert proc.returncode != 0
    assert "FAIL outcomes_have_a_name_polarity_horizon_and_recurrence (1 rows" in proc.stdout, proc.stdout[-3000:]
    assert "how to fix: recurrence must be set on every row of ces_outcomes" in proc.stdout, proc.stdout[-3000:]
    assert "null_column=recurrence, null_rows=1" in proc.stdout, proc.stdout[-3000:]
    for column in ("outcome", "polarity", "horizon_days"):
        assert f"null_column={column}," not in proc.stdout, column


HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); print('held', flush=True); time.sleep(60)"


def test_a_reader_holding_the_build_file_gets_the_lock_message(project, built_small, tmp_path):
    db, serving = tmp_path / "ces.duckdb", tmp_path / "serving.duckdb"
    shutil.copy(built_small, db)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        for target in ("build", "dbt-build", "weights-impact", "demo-data"):
            proc = make(project, target, db, serving)
            assert proc.returncode != 0, target
            assert f"{db} is locked" in proc.stderr and f"(PID {holder.pid})" in proc.stderr, proc.stderr
            assert "serving.duckdb" in proc.stderr and "Traceback" not in proc.stderr, target
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("events", ["0", "-5"])
def test_bad_events_is_refused_and_nothing_is_wiped(project, built_small, tmp_path, events):
    db, serving = tmp_path / "ces.duckdb", tmp_path / "serving.duckdb"
    shutil.copy(built_small, db)
    before = schemas(db)
    proc = make(project, "demo-data", db, serving, f"EVENTS={events}")
    assert proc.returncode != 0 and f"EVENTS is {events}; allowed: a whole number of at least 1" in proc.stderr
    assert schemas(db) == before and "marts" in before


def test_a_missing_raw_table_is_named_not_filled(project, demo_source, tmp_path):
    db, serving = tmp_path / "ces.duckdb", tmp_path / "serving.duckdb"
    con = duckdb.connect(str(db))
    con.execute(f"attach '{demo_source}' as src (read_only)")
    con.execute("create schema raw")
    for t in ("customers", "product_events"):
        con.execute(f"create table raw.{t} as select * from src.raw.{t}")
    con.close()
    proc = make(project, "build", db, serving)
    assert proc.returncode != 0
    assert "the raw table raw.support_tickets is missing" in proc.stdout
    assert "ces_raw_schema" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    assert {t for (t,) in query(db, "select table_name from duckdb_tables() where schema_name = 'raw'")} == \
        {"customers", "product_events"}


def test_every_project_test_stores_rows_with_how_to_fix(built_small, tmp_path):
    """Whatever test fails, its stored rows say what to do: every data test of the project
    writes its relation in dbt_test__audit, and each has a how_to_fix column."""
    import json
    manifest = json.loads((built_small.parent / "target" / "manifest.json").read_text())
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test" and n["package_name"] == "ces"]
    assert len(tests) > 100
    columns = {t: {c for (c,) in cs} for t, cs in [
        (name, query(built_small, f"""select column_name from duckdb_columns()
                                      where schema_name = 'dbt_test__audit' and table_name = '{name}'"""))
        for name in (n["alias"] for n in tests)]}
    missing = sorted(t for t, cols in columns.items() if "how_to_fix" not in cols)
    assert not missing, f"tests whose stored rows have no how_to_fix: {missing}"


def test_plain_dbt_ls_from_the_root(tmp_path):
    """With the venv active and nothing else set, dbt finds profiles/ (through the root
    profiles.yml link), not ~/.dbt."""
    project = copy_project(tmp_path / "project")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "CES_"))}
    env.update(HOME=str(tmp_path / "home"), PATH=f"{BIN}:{env['PATH']}", VIRTUAL_ENV=str(BIN.parent))
    proc = subprocess.run(["dbt", "ls", "--resource-type", "model"], cwd=project, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "ces.marts.engagement.fct_customer_engagement" in proc.stdout
    assert (ROOT / "profiles.yml").resolve() == (ROOT / "profiles" / "profiles.yml").resolve()


def test_compile_does_not_log_reprocessing(built_small):
    proc = dbt(built_small, "compile")
    assert "reprocess" not in proc.stdout
    # the control: the same macro does log when a build processes
    assert "no load day changed" in dbt(built_small, "build").stdout


def test_force_never_writes_into_a_demo_schema_of_the_users(project, tmp_path):
    """FORCE=1 may replace the raw contract tables, but the generator also writes and drops
    the schemas demo and demo_work: a table of the user's there makes it refuse."""
    db, serving = tmp_path / "own.duckdb", tmp_path / "serving.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema demo")
    con.execute("create table demo.customer_archetypes as select 'mine' as customer_id, 'note' as archetype")
    con.close()
    before = checksums(db, skip=())
    assert list(before) == ["demo.customer_archetypes"]
    proc = make(project, "demo-data", db, serving, "EVENTS=3000", "CUSTOMERS=30", "FORCE=1")
    assert proc.returncode != 0 and "demo.customer_archetypes" in proc.stderr and "even FORCE=1" in proc.stderr
    assert checksums(db, skip=()) == before and "raw" not in schemas(db)


def test_a_team_table_in_a_schema_the_project_builds_is_never_dropped(project, tmp_path):
    """A team's own `marts.weekly_report` shares a schema name with the project's marts, but the
    manifest does not build it, so it is the team's: demo data refuses, even with FORCE=1, rather
    than drop the schema, and `make build` builds beside it and leaves it as it is."""
    db, serving = tmp_path / "own.duckdb", tmp_path / "serving.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema marts")
    con.execute("create table marts.weekly_report as select 1 as week, 'kept' as note")
    con.close()
    before = checksums(db, skip=())
    for force in ((), ("FORCE=1",)):
        proc = make(project, "demo-data", db, serving, "EVENTS=3000", "CUSTOMERS=30", *force)
        assert proc.returncode != 0 and "marts.weekly_report" in proc.stderr, proc.stderr[-2000:]
        assert checksums(db, skip=()) == before
    built = make(project, "build", db, serving)
    out = built.stdout + built.stderr
    assert built.returncode != 0 and 'ces_raw_schema is "raw", but no schema of that name exists' in out, out[-2000:]
    assert checksums(db, skip=()) == before, "no demo data was written beside the team's table, nothing dropped"


def test_publish_removes_the_temporaries_of_dead_publishes_and_nothing_else(tmp_path):
    """A publish killed mid-way leaves .<file>.ces-<pid>.tmp files; the next publish removes
    those whose process is gone, keeps a live publish's and every other file, and serves."""
    from cestools import config, engines, serving

    build = tmp_path / "ces.duckdb"
    con = duckdb.connect(str(build))
    con.execute("create schema marts; create table marts.fct_a as select 1 as customer_id")
    con.close()
    out = tmp_path / "out"
    (out / "serving").mkdir(parents=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process id that no longer runs
    dead = [out / serving.temporary_name("serving.duckdb", gone.pid),
            out / (serving.temporary_name("serving.duckdb", gone.pid) + ".wal"),
            out / "serving" / serving.temporary_name("fct_a.parquet", gone.pid)]
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # a publish still writing
    kept = [out / serving.temporary_name("serving.duckdb", running.pid),
            out / f".serving.duckdb.{gone.pid}.tmp", out / "serving" / "team_notes.tmp",
            out / "serving" / serving.temporary_name("team_file.parquet", gone.pid)]
    for f in dead + kept:
        f.write_bytes(b"x")
    cfg = config.load({"CES_DUCKDB_PATH": str(build), "CES_SERVING_PATH": str(out / "serving.duckdb")})
    wh = engines.open_warehouse(cfg, read_only=True)
    logged = []
    try:
        wh.publish([("marts", "fct_a")], False, "0" * 32, logged.append)
    finally:
        running.kill()
        running.wait()
    assert not any(f.exists() for f in dead), [f.name for f in dead if f.exists()]
    assert all(f.read_bytes() == b"x" for f in kept)
    assert any("removed 3 temporary file(s)" in line for line in logged), logged
    assert query(out / "serving.duckdb", "select customer_id from fct_a") == [(1,)]
    assert (out / "serving" / "fct_a.parquet").exists()


def test_spark_cluster_stop_removes_only_a_scratch_folder_its_start_made(tmp_path):
    from cestools.engines import spark_cluster

    ours, theirs = tmp_path / "ours" / "tmp", tmp_path / "theirs" / "tmp"
    for scratch in (ours, theirs):
        (scratch / "blockmgr-1").mkdir(parents=True)
    (ours / spark_cluster.SCRATCH_MARK).touch()  # what start writes into a tmp/ it makes
    (theirs / "notes.txt").write_text("a team's file")
    for scratch in (ours, theirs):
        spark_cluster.remove_scratch({"folder": str(scratch.parent)})
    assert not ours.exists()
    assert (theirs / "notes.txt").read_text() == "a team's file", "a tmp/ the start did not make stays"


@pytest.mark.parametrize("text", ['{"processes": {}}', "notes of a team", '{"folder": "/elsewhere", "processes": {}}'])
def test_spark_cluster_start_and_stop_leave_a_cluster_json_they_did_not_write(tmp_path, text):
    """CES_SPARK_CLUSTER_DIR may name a folder of the team's: a cluster.json there that is not
    the record of a cluster started from that folder is neither overwritten by start nor
    deleted by stop; both say so, and start starts nothing."""
    from cestools import config
    from cestools.engines import spark_cluster

    theirs = tmp_path / spark_cluster.STATE
    theirs.write_text(text)
    # the Thrift port taken: a start that got past the record's check stops at the port's,
    # before it starts anything
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        cfg = config.load({**os.environ, "CES_SPARK_CLUSTER_DIR": str(tmp_path),
                           "CES_SPARK_PORT": str(taken.getsockname()[1])})
        for act in (spark_cluster.start, spark_cluster.stop):
            with pytest.raises(CesError, match=r"cluster\.json was not written by `make spark-cluster`"):
                act(cfg, tmp_path, log=lambda line: None)
    assert theirs.read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == [spark_cluster.STATE], "start made nothing"
