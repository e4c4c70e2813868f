"""A crash at any point of `make build`, and the next plain `make build` passes.

`make build` is killed with SIGKILL, make and every process it started (as the OOM killer or a
lost machine stops a job), at random points of each phase, on small demo data in a project
copy:
  - while the demo data is written (three fresh warehouse files; the next build writes the
    demo data again);
  - while an incremental `dbt build` processes a newly landed load day (four times, on the
    last of those warehouses);
  - while publish copies the marts to the serving files (three times; the next publish
    removes the dead one's temporary files).
After every kill the next plain `make build` must pass with no step by hand, serve what it
built, and leave no temporary file of a dead process and no half-swapped dbt relation. The
kill points are drawn from a seeded generator (CES_CRASH_SEED replays another draw); the seed
and the points are printed with the figures at the end of the run.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import copy_project, make, make_env

from cestools import serving

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow

BUILD_ARGS = ("EVENTS=8000", "CUSTOMERS=120", "SEED=3")
SEED = int(os.environ.get("CES_CRASH_SEED", "20261204"))
LOADS = 4  # new load days, one per killed incremental dbt build

# where each phase starts, in make build's output
DEMO = re.compile(r"\[demo-data\] generating ~")
DBT = re.compile(r"Concurrency: \d+ threads")
PUBLISH = re.compile(r"\[publish\] 1/\d+ ")
DEMO_PROGRESS_LINES = 13  # "events: days ..." lines the demo data prints on this size
PUBLISH_LINES = 15  # one line per further mart
DBT_LINES = 450  # of the about 490 lines dbt build prints after its Concurrency line


def make_build() -> list[str]:
    return ["make", "--no-print-directory", "build", *BUILD_ARGS]


def build_killed(project: Path, db: Path, phase: re.Pattern, lines_after: int) -> str:
    """Start `make build`; once a line matches `phase`, read lines_after more lines, then kill
    make and every process it started with SIGKILL. Returns the output up to the kill; fails
    if the build ended before it."""
    # unbuffered, so each line arrives as it is printed and the kill lands where it is drawn
    env = {**make_env(project, db, db.parent / "serving.duckdb"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(make_build(), cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    assert proc.stdout is not None
    seen: list[str] = []
    left = None
    for line in proc.stdout:
        seen.append(line)
        if left is None and phase.search(line):
            left = lines_after
        elif left is not None:
            left -= 1
        if left is not None and left <= 0:
            break
    ended = proc.poll() is not None
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert left is not None and left <= 0 and not ended, \
        "the build ended before the kill point:\n" + "".join(seen[-30:])
    return "".join(seen)


def assert_recovered(project: Path, db: Path, point: str) -> str:
    """The next plain make build passes, serves every customer it built, and leaves no debris.
    Returns its output."""
    after = make(project, "build", db, db.parent / "serving.duckdb", *BUILD_ARGS)
    assert after.returncode == 0, (f"after the kill {point}, make build failed:\n"
                                   f"{after.stdout[-4000:]}\n{after.stderr[-2000:]}")
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute(f"attach '{db.parent / 'serving.duckdb'}' as served (read_only)")
        built, served = con.execute("""
            select (select count(*) from marts.fct_customer_engagement),
                   (select count(*) from served.fct_customer_engagement)""").fetchone()
        half_swapped = con.execute("""
            select table_schema || '.' || table_name from information_schema.tables
            where table_name like '%\\_\\_dbt\\_tmp%' escape '\\'
               or table_name like '%\\_\\_dbt\\_backup%' escape '\\'""").fetchall()
    finally:
        con.close()
    assert built > 0 and served == built, f"after the kill {point}: {served} customers served of {built}"
    assert half_swapped == [], f"after the kill {point}: dbt's temporary relations remain"
    debris = sorted(str(p.relative_to(db.parent)) for p in db.parent.rglob("*") if serving.TEMPORARY.match(p.name))
    assert debris == [], f"after the kill {point}: temporaries of a dead process remain: {debris}"
    return after.stdout


def kill_and_recover(project: Path, db: Path, phase: re.Pattern, lines_after: int, point: str,
                     next_phase: str) -> str:
    """Kill make build at the point (build_killed), check it was still in the phase (its output
    has no next_phase line), and return the output of the next make build (assert_recovered)."""
    out = build_killed(project, db, phase, lines_after)
    assert next_phase not in out, f"the kill {point} came after its phase ended"
    return assert_recovered(project, db, point)


def land_next_day(db: Path, day: int) -> str:
    """A new load, `day` days after the demo's newest load day: that day's product events again,
    with new ids, occurring and loaded `day` days later. Returns the new load day."""
    con = duckdb.connect(str(db))
    try:
        newest = con.execute("""select cast(max(loaded_at) as date) from raw.product_events
                                where event_id not like '%-next-%'""").fetchone()[0]
        con.execute(f"""
            insert into raw.product_events
            select event_id || '-next-{day}', customer_id, user_id, event_name,
                   occurred_at + interval {day} day, loaded_at + interval {day} day
            from raw.product_events
            where cast(loaded_at as date) = date '{newest}' and event_id not like '%-next-%'""")
        return str(con.execute("select cast(max(loaded_at) as date) from raw.product_events").fetchone()[0])
    finally:
        con.close()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("crash") / "project")


def test_make_build_killed_at_random_points_is_finished_by_the_next_plain_build(project, tmp_path, record_property):
    rng = random.Random(SEED)
    points: list[str] = []

    # while the demo data is written: three empty warehouse files
    for i in range(3):
        db = tmp_path / f"demo{i}" / "ces.duckdb"
        after = rng.randint(0, DEMO_PROGRESS_LINES - 1)
        points.append(f"in demo data after {after} of {DEMO_PROGRESS_LINES} progress lines")
        recovery = kill_and_recover(project, db, DEMO, after, points[-1], "[demo-data] done")
        assert "[demo-data] generating" in recovery, "the half-written demo data was written again"

    # while an incremental dbt build processes a new load day, on the last of those warehouses
    for day in range(1, LOADS + 1):
        loaded = land_next_day(db, day)
        after = rng.randint(1, DBT_LINES)
        points.append(f"in the incremental dbt build of load day {loaded} after {after} lines of its output")
        kill_and_recover(project, db, DBT, after, points[-1], "[publish]")

    # while publish copies the marts
    for _ in range(3):
        after = rng.randint(0, PUBLISH_LINES - 1)
        points.append(f"in publish after {after + 1} of {PUBLISH_LINES + 1} marts")
        recovery = kill_and_recover(project, db, PUBLISH, after, points[-1], "[publish] published")
        assert "temporary file(s) of publishes that died" in recovery, "the dead publish's files were removed"

    record_property("figures", f"crash: seed {SEED}, {len(points)} kills, each followed by a passing "
                               "make build: " + "; ".join(points))
