"""Incremental builds equal a full refresh of the same data, batch after batch.

The demo data is landed in five batches by loaded_at. On top of the generator's own late and
duplicate deliveries, the batches add the cases incremental event pipelines get wrong:
  - out-of-order loads: rows whose loaded_at is up to 2 days before the previous batch's
    newest load land one batch late (inside the 3-day lookback);
  - re-deliveries of week-old events in the last batch, exact and with conflicting content
    (after the lookback, so only the key lookup in earlier loads catches them);
  - events that occurred 40 days before they are loaded;
  - a late load (older than the newest load) carrying an event name never seen before.
After every batch, `dbt build` runs on the incremental warehouse and `dbt build --full-refresh`
on a copy; every mart and the event layer must match row for row (EXCEPT both ways).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import copy_project, dbt, except_both_ways, generate, query

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow

COMPARED = [
    "marts.fct_customer_engagement",
    "marts.fct_segment_engagement",
    "intermediate.int_engagement_events_daily",
]
CUTOFFS = ["2026-06-15", "2026-08-01", "2026-09-20", "2026-10-25", "2026-11-02"]


def land_batch(db: Path, previous: str | None, cutoff: str, last: bool) -> None:
    con = duckdb.connect(str(db))
    try:
        lo = f"timestamp '{previous}'" if previous else "timestamp '1900-01-01'"
        hi = f"timestamp '{cutoff}'"
        for table in ("product_events", "support_tickets"):
            held = f"stash.held_{table}"
            # rows held back from the previous batch arrive now, with their old loaded_at
            con.execute(f"insert into raw.{table} select * from {held}")
            con.execute(f"delete from {held}")
            con.execute(f"""
                insert into raw.{table}
                select * from stash.{table} where loaded_at > {lo} and loaded_at <= {hi}""")
            if not last:
                # 1% of the rows loaded in the 2 days before the cutoff are held back a batch
                con.execute(f"""
                    insert into {held}
                    select * from raw.{table}
                    where loaded_at > {hi} - interval 2 day and hash(loaded_at) % 100 = 0""")
                con.execute(f"""
                    delete from raw.{table}
                    where loaded_at > {hi} - interval 2 day and hash(loaded_at) % 100 = 0""")
        if last:
            con.execute(f"""
                insert into raw.product_events
                -- exact re-deliveries of week-old events, a week after their first copy
                select event_id, customer_id, user_id, event_name, occurred_at, {hi} - interval 1 hour
                from raw.product_events
                where loaded_at between {lo} - interval 8 day and {lo} - interval 7 day
                    and hash(event_id) % 15 = 0
                union all
                -- conflicting re-deliveries: same id, other event name
                select event_id, customer_id, user_id, 'data_exported', occurred_at, {hi} - interval 2 hour
                from raw.product_events
                where loaded_at between {lo} - interval 8 day and {lo} - interval 7 day
                    and hash(event_id) % 15 = 1
                union all
                -- a late load with an event name never seen before, older than the newest load
                select 'newname_' || event_id, customer_id, user_id, 'Report Shared', occurred_at,
                       {lo} - interval 2 day
                from raw.product_events
                where loaded_at between {lo} - interval 8 day and {lo} - interval 7 day
                    and hash(event_id) % 15 = 3
                union all
                -- very late events: occurred 40 days before they are loaded
                select 'late_' || event_id, customer_id, user_id, event_name,
                       occurred_at - interval 40 day, {hi} - interval 3 hour
                from raw.product_events
                where loaded_at between {lo} - interval 8 day and {lo} - interval 7 day
                    and hash(event_id) % 15 = 2""")
    finally:
        con.close()


def differences(incremental: Path, full: Path) -> dict[str, tuple[int, int]]:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{incremental}' as inc (read_only)")
        con.execute(f"attach '{full}' as ful (read_only)")
        return {table: except_both_ways(con, f"inc.{table}", f"ful.{table}") for table in COMPARED}
    finally:
        con.close()


def stash_demo(db: Path) -> int:
    """Generate the demo data and move every raw event into the stash; returns its row count."""
    generate(db, "--events", "40000", "--customers", "300", "--seed", "11")
    con = duckdb.connect(str(db))
    con.execute("create schema stash")
    for table in ("product_events", "support_tickets"):
        con.execute(f"create table stash.{table} as select * from raw.{table}")
        con.execute(f"create table stash.held_{table} as select * from raw.{table} limit 0")
        con.execute(f"delete from raw.{table}")
    total_raw = con.execute("select count(*) from stash.product_events").fetchone()[0]
    con.close()
    return total_raw


def build_before_a_late_load(db: Path, table: str, held: str) -> None:
    """Hold back the rows of raw.<table> that match the condition held, build without the
    tests, then land those rows (with their own loaded_at) for the next build."""
    con = duckdb.connect(str(db))
    con.execute("create schema stash")
    con.execute(f"create table stash.{table} as select * from raw.{table} where {held}")
    con.execute(f"delete from raw.{table} where {held}")
    con.close()
    dbt(db, "build", "--exclude-resource-type", "test")
    con = duckdb.connect(str(db))
    con.execute(f"insert into raw.{table} select * from stash.{table}")
    con.execute("drop schema stash cascade")
    con.close()


def compiled_event_layer(db: Path) -> str:
    """The event layer's SQL as the last dbt command on db compiled it."""
    return (db.parent / "target" / "compiled" / "ces" / "models" / "intermediate"
            / "int_engagement_events_daily.sql").read_text()


def assert_equals_a_full_refresh_counting_every_delivery(db: Path, tmp_path: Path) -> None:
    full = full_refresh_copy(db, tmp_path / "full" / "ces.duckdb")
    diff = differences(db, full)
    assert all(d == (0, 0) for d in diff.values()), diff
    raw_rows, counted = query(db, """
        select
            (select count(*) from raw.product_events) + (select count(*) from raw.support_tickets),
            (select sum(event_count) from intermediate.int_engagement_events_daily)""")[0]
    assert counted == raw_rows, "every raw delivery is counted exactly once in the event layer"


def full_refresh_copy(db: Path, dest: Path, *project_args: str) -> Path:
    dest.parent.mkdir()
    shutil.copy(db, dest)
    # the reference needs the tables, not the tests: the incremental side runs them
    dbt(dest, "build", "--full-refresh", "--exclude-resource-type", "test", *project_args)
    return dest


def test_incremental_equals_full_refresh_after_every_batch(tmp_path):
    db = tmp_path / "inc" / "ces.duckdb"
    db.parent.mkdir()
    total_raw = stash_demo(db)

    previous = None
    for i, cutoff in enumerate(CUTOFFS):
        last = i == len(CUTOFFS) - 1
        land_batch(db, previous, cutoff, last)
        # the data tests run after the last batch: a batch's tables, not its tests, are compared
        dbt(db, "build", *(() if last else ("--exclude-resource-type", "test")))
        full = full_refresh_copy(db, tmp_path / f"full{i}" / "ces.duckdb")
        diff = differences(db, full)
        assert all(d == (0, 0) for d in diff.values()), f"batch {i + 1} ({cutoff}): {diff}"
        previous = cutoff

    con = duckdb.connect(str(db), read_only=True)
    raw_rows, counted, redelivered, late = con.execute("""
        select
            (select count(*) from raw.product_events) + (select count(*) from raw.support_tickets),
            (select sum(event_count) from intermediate.int_engagement_events_daily),
            (select sum(event_count) from intermediate.int_engagement_events_daily
             where status_reason = 'conflicting_redelivery'),
            (select sum(event_count) from intermediate.int_engagement_events_daily
             where event_date < loaded_date - 30 and record_status = 'scored')
    """).fetchone()
    con.close()
    assert raw_rows > total_raw, "the last batch adds re-deliveries and late events"
    assert counted == raw_rows, "every raw delivery is counted exactly once in the event layer"
    assert redelivered and redelivered > 0, "conflicting re-deliveries were exercised"
    assert late and late > 0, "events loaded 40 days late were scored"
    new_name = query(db, """
        select count(*) from intermediate.int_engagement_events_unioned
        where event_type = 'report_shared' and defect is null""")[0][0]
    assert new_name > 0, "a late load's new event name was normalised, not lost"


def test_one_pass_lookup_of_earlier_copies_gives_the_same_result(tmp_path):
    """PostgreSQL and Spark have no cheap fetch by row id (ces_row_id returns none), so the event
    layer reads earlier copies in one pass. Forced onto that path in a copy of the project,
    incremental builds over the same batches still end equal to a full refresh."""
    project = copy_project(tmp_path / "project")
    macro = project / "macros" / "ces_row_id.sql"
    macro.write_text(macro.read_text().replace("return('rowid')", "return(none)"))
    on_copy = ("--project-dir", str(project))
    db = tmp_path / "inc" / "ces.duckdb"
    db.parent.mkdir()
    stash_demo(db)
    # two batches: earlier copies to look up, then the out-of-order rows and the re-deliveries
    previous = None
    for i, cutoff in enumerate(CUTOFFS[-2:]):
        land_batch(db, previous, cutoff, i == 1)
        # the data tests ran after every batch in the test above; here only the path differs
        dbt(db, "build", "--exclude-resource-type", "test", *on_copy)
        previous = cutoff
    compiled = compiled_event_layer(db)
    assert "earlier_copies" in compiled and "rowid" not in compiled, "the one-pass path ran"
    assert "select distinct key_hash" not in compiled, "a daily batch ranks every delivery in it"
    full = full_refresh_copy(db, tmp_path / "full" / "ces.duckdb", *on_copy)
    diff = differences(db, full)
    assert all(d == (0, 0) for d in diff.values()), diff


def test_a_source_first_loaded_after_a_build_is_ranked_by_repeated_keys_and_equals_a_full_refresh(tmp_path):
    """A source the event layer has not processed yet is checked from its first load, so its
    batch may hold the whole history: the incremental run then ranks only the keys with more
    than one copy, as a full build does, instead of every delivery of the batch. The result
    equals a full refresh."""
    db = tmp_path / "inc" / "ces.duckdb"
    db.parent.mkdir()
    generate(db, "--events", "20000", "--customers", "200", "--seed", "5")
    build_before_a_late_load(db, "support_tickets", "true")
    out = dbt(db, "build", "--exclude-resource-type", "test").stdout
    assert "int_engagement_events_daily: reprocessing load days" in out and "support from 1900-01-01" in out, out[-3000:]
    compiled = compiled_event_layer(db)
    assert "select distinct key_hash" in compiled, "the repeated-keys path ran"
    assert_equals_a_full_refresh_counting_every_delivery(db, tmp_path)


@pytest.fixture(scope="module")
def caught_up(tmp_path_factory) -> tuple[Path, str, str]:
    """A warehouse built while product events lagged support tickets by 6 days, more than the
    3-day lookback (a paused connector), then built again incrementally after the product
    events arrived with their old loaded_at. Returns the warehouse, the first lagging load
    day and the incremental run's output."""
    db = tmp_path_factory.mktemp("lagging") / "ces.duckdb"
    generate(db, "--events", "20000", "--customers", "200", "--seed", "5")
    paused = query(db, "select max(loaded_at) - interval 6 day from raw.support_tickets")[0][0]
    late = f"loaded_at > timestamp '{paused}'"
    first_late = query(db, f"select cast(min(loaded_at) as date) from raw.product_events where {late}")[0][0]
    build_before_a_late_load(db, "product_events", late)
    # the data tests run here: the reconciliation test fails if a late row was skipped
    out = dbt(db, "build").stdout
    return db, str(first_late), out


def test_a_source_that_lags_the_others_by_more_than_the_lookback_is_picked_up(caught_up, tmp_path):
    """Each source keeps its own watermark: the product events that arrived 6 days behind the
    support tickets are reprocessed from their own load day, with no full refresh, and the
    result equals a full refresh."""
    db, first_late, out = caught_up
    assert f"int_engagement_events_unioned: reprocessing load days {first_late}" in out, out[-3000:]
    assert f"changed: product {first_late}" in out, out[-3000:]
    assert_equals_a_full_refresh_counting_every_delivery(db, tmp_path)


def test_a_damaged_load_day_is_found_and_recomputed(caught_up, tmp_path):
    """A load day inside the lookback whose processed rows no longer match raw (a run that died
    half-way, a hand edit) is reprocessed from that day on, back to what it was (the caught-up
    warehouse equals a full build, as the test above checks)."""
    before = tmp_path / "before.duckdb"
    db = tmp_path / "ces.duckdb"
    shutil.copy(caught_up[0], before)
    shutil.copy(caught_up[0], db)
    con = duckdb.connect(str(db))
    damaged = con.execute("""
        select max(loaded_date) - 2 from intermediate.int_engagement_events_daily""").fetchone()[0]
    con.execute(f"""
        delete from intermediate.int_engagement_events_daily
        where loaded_date = date '{damaged}' and record_status = 'scored'""")
    con.close()
    assert differences(db, before)["intermediate.int_engagement_events_daily"] != (0, 0)
    out = dbt(db, "build").stdout
    assert f"int_engagement_events_daily: reprocessing load days {damaged}" in out, out[-3000:]
    assert "int_engagement_events_unioned: no load day changed" in out, out[-3000:]
    assert all(d == (0, 0) for d in differences(db, before).values())
