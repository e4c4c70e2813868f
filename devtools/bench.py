"""Benchmark: full and incremental dbt builds against the hand-written floor and pandas.

    python -m devtools.bench [--sizes 1000000,10000000,100000000] [--with-1b] [--pandas-max N]
                             [--postgres-sizes 1000000,10000000] [--spark-sizes 10000,1000000,10000000]
                             [--backtest-sizes 10000000,100000000]

For each size it generates demo data, holds back the last day of loads, and measures in
separate processes (wall time, peak RSS of the whole process tree):
  full_models   dbt run --full-refresh (models only)
  full_build    dbt build --full-refresh (models, data tests, unit tests)
  floor         one hand-written DuckDB query computing fct_customer_engagement from raw
  incremental   dbt run after the held-back day lands (~0.5-1% new rows, late and duplicate
                deliveries included), from the same starting state each repetition
  no_new_data   dbt run again with nothing new: dbt's fixed cost (start, parse, one
                statement batch per model), the part of an incremental run no data layout
                can remove
  pandas        the analyst's pandas version (sizes up to --pandas-max)
Short runs are repeated (3 times) and the median is reported. The scores of the full build,
the floor, the incremental run and pandas must agree for every customer, or the run fails.

Then the same models on the other engines, on the same demo data and held-back day:
PostgreSQL on a server the benchmark starts itself (devtools/pgserver.py), Spark on a cluster
it starts itself (devtools/sparkcluster.py: make spark-cluster's master, worker and Thrift
server in a temporary folder, the fixture the tests use), through the spark_thrift target. For
each: full_models, full_build, incremental after the held-back day lands and no_new_data, once
each (a run takes minutes); the scores after the incremental run must agree with the floor.
The cluster's first run is not measured: a Thrift server that just started compiles its code
as it goes (the first run of a fresh cluster took 87 s, its fourth 31 s, nothing new in
either), so its first size begins with one unmeasured full run, and every figure is a warm
server's, as a long-running production server is.
Spark's first size, 10,000 events, is there for what a run costs with almost no data: the
per-run cost (dbt's start, and the statements, sessions and metastore calls of every model) that
an incremental run pays whatever the data, beside the same run at 1M and 10M.
For the last Spark size, each model's time in its full_models, incremental and no_new_data runs
(dbt's run_results.json) goes under "Where a Spark run spends its time".
An empty size list (--postgres-sizes '') skips an engine; with --sizes '' the DuckDB table
already in bench/results.md is kept as it is.
Then what the backtest adds to the build (--backtest-sizes, default 10M and 100M events): a
whole `dbt build`, then the backtest models alone on what it built.
Last, the dashboard at --dashboard-customers (100,000) and --dashboard-events (20M): each page
in headless Chromium from navigation until its last chart is drawn and no element is still
loading, on the first visit (the serving tables are read) and after, and the weights lab's
recompute after one weight is edited.
Writes bench/results.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psutil

from cestools import config, errors
from cestools.engines.postgres_engine import pg_connect
from cestools.leftovers import remove_leftovers
from cestools.serving import temporary_name
from devtools import browser
from devtools.pgserver import local_postgres
from devtools.sparkcluster import local_spark_cluster

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REPEAT_BELOW_S = 60.0
MEMORY_LIMIT = os.environ.get("CES_DUCKDB_MEMORY_LIMIT", "3.5GB")
TARGETS = {
    "full_models": "≤ 1.5× floor",
    "full_build": "≤ 2.5× floor",
    "incremental": "≤ 10% of full_models",
}


@dataclass
class Measure:
    size: int
    name: str
    wall: float
    runs: int
    peak_mib: float
    rows: int


def log(msg: str) -> None:
    print(f"[bench {dt.datetime.now():%H:%M:%S}] {msg}", flush=True)


def run_measured(cmd: list[str], env: dict) -> tuple[float, float]:
    """Run cmd; return (wall seconds, peak RSS MiB summed over the process tree)."""
    peak = 0.0
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True)
    reader.start()
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - start
    reader.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{''.join(out)[-4000:]}")
    return wall, peak


def dbt_cmd(work: Path, *args: str) -> list[str]:
    return [str(BIN / "dbt"), *args, "--target-path", str(work / "target"),
            "--log-path", str(work / "logs")]


def env_for(db: Path) -> dict:
    return {**os.environ, "CES_DUCKDB_PATH": str(db), "DBT_PROFILES_DIR": str(ROOT / "profiles"),
            "CES_DUCKDB_TEMP_DIR": str(db.parent / "tmp"), "CES_DUCKDB_MEMORY_LIMIT": MEMORY_LIMIT}


def repeated(size: int, name: str, rows: int, once, setup=None) -> Measure:
    """Run once; if it was short, twice more; report the median wall and the max peak."""
    walls, peaks = [], []
    while True:
        if setup:
            setup()
        wall, peak = once()
        walls.append(wall)
        peaks.append(peak)
        log(f"  {name}: {wall:.2f} s, peak {peak:,.0f} MiB")
        if len(walls) >= 3 or (len(walls) == 1 and wall >= REPEAT_BELOW_S):
            break
    return Measure(size, name, statistics.median(walls), len(walls), max(peaks), rows)


def scores_of(db: Path, sql: str) -> dict[str, float]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {cid: round(float(s), 4) for cid, s in con.execute(sql).fetchall()}
    finally:
        con.close()


def parquet_scores(path: Path) -> dict[str, float]:
    return {cid: round(float(s), 4) for cid, s in duckdb.sql(
        f"select customer_id, engagement_score from '{path}'").fetchall()}


def mart_scores(db: Path) -> dict[str, float]:
    return scores_of(db, "select customer_id, engagement_score from marts.fct_customer_engagement")


def agree(label: str, a: dict[str, float], b: dict[str, float]) -> None:
    bad = [k for k in a.keys() | b.keys() if abs(a.get(k, 1e18) - b.get(k, -1e18)) > 1e-3]
    if bad:
        raise AssertionError(f"{label}: {len(bad)} customers disagree, e.g. "
                             f"{[(k, a.get(k), b.get(k)) for k in bad[:3]]}")
    log(f"  agree: {label} ({len(a):,} customers)")


def prepare(size: int, work: Path) -> tuple[Path, int, int]:
    """Demo data of about `size` events in work/ces.duckdb, with the last day of loads held back
    in bench.next_day_*. Returns (file, raw rows, held-back rows)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "ces.duckdb"
    log(f"size {size:,}: generating demo data")
    subprocess.run([sys.executable, "-m", "cestools.demo_data", "--path", str(db),
                    "--events", str(size)], cwd=ROOT, check=True)
    con = duckdb.connect(str(db))
    con.execute("create schema if not exists bench")
    for t in ("product_events", "support_tickets"):
        con.execute(f"""create or replace table bench.next_day_{t} as
            select * from raw.{t} where loaded_at > (select max(loaded_at) - interval 1 day
                                                    from raw.product_events)""")
        con.execute(f"delete from raw.{t} where loaded_at > (select max(loaded_at) - interval 1 day "
                    "from raw.product_events)")
    base_rows = con.execute("select (select count(*) from raw.product_events) + "
                            "(select count(*) from raw.support_tickets)").fetchone()[0]
    new_rows = con.execute("select (select count(*) from bench.next_day_product_events) + "
                           "(select count(*) from bench.next_day_support_tickets)").fetchone()[0]
    con.execute("checkpoint")
    con.close()
    log(f"  raw rows {base_rows:,}; held-back next day {new_rows:,} ({100 * new_rows / base_rows:.2f}%)")
    return db, base_rows, new_rows


def land_next_day_in(db: Path) -> None:
    c = duckdb.connect(str(db))
    for t in ("product_events", "support_tickets"):
        c.execute(f"insert into raw.{t} select * from bench.next_day_{t}")
    c.close()


def bench_size(size: int, pandas_max: int, workdir: Path) -> list[Measure]:
    work = workdir / f"{size}"
    db, base_rows, new_rows = prepare(size, work)
    env = env_for(db)
    subprocess.run(dbt_cmd(work, "seed", "--full-refresh"), cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)

    results = []
    out_floor = work / "floor.parquet"
    results.append(repeated(size, "floor", base_rows, lambda: run_measured(
        [sys.executable, "-m", "devtools.reference", "floor", str(db), str(out_floor)], env)))
    results.append(repeated(size, "full_models", base_rows, lambda: run_measured(
        dbt_cmd(work, "run", "--full-refresh"), env)))
    agree("full build = floor", mart_scores(db), parquet_scores(out_floor))
    results.append(repeated(size, "full_build", base_rows, lambda: run_measured(
        dbt_cmd(work, "build", "--full-refresh"), env)))

    before = work / "before_next_day.duckdb"
    shutil.copy(db, before)

    def land_next_day() -> None:
        shutil.copy(before, db)
        land_next_day_in(db)
        os.sync()  # the copy's write-back must not land inside the timed run

    results.append(repeated(size, "incremental", new_rows, lambda: run_measured(
        dbt_cmd(work, "run"), env), setup=land_next_day))
    incremental = mart_scores(db)
    results.append(repeated(size, "no_new_data", 0, lambda: run_measured(
        dbt_cmd(work, "run"), env)))
    run_measured([sys.executable, "-m", "devtools.reference", "floor", str(db), str(out_floor)], env)
    agree("incremental = floor on the new data", incremental, parquet_scores(out_floor))
    if size <= pandas_max:
        out_pd = work / "pandas.parquet"
        results.append(repeated(size, "pandas", base_rows + new_rows, lambda: run_measured(
            [sys.executable, "-m", "devtools.reference", "pandas", str(db), str(out_pd)], env)))
        agree("pandas = incremental", parquet_scores(out_pd), incremental)
    else:
        log(f"  pandas: skipped above {pandas_max:,} events (it holds every row as Python objects)")
    before.unlink()
    return results


def engine_scores(engine: str, env: dict) -> dict[str, float]:
    """fct_customer_engagement's scores as built on PostgreSQL or Spark (Spark: read from the
    table's Parquet files in the cluster's warehouse folder)."""
    if engine == "spark_thrift":
        folder = Path(env["CES_SPARK_CLUSTER_DIR"]) / "tables" / "marts.db" / "fct_customer_engagement"
        return parquet_scores(folder / "*.parquet")
    pg = pg_connect(config.load(env))
    try:
        with pg.cursor() as cur:
            cur.execute("select customer_id, engagement_score from marts.fct_customer_engagement")
            return {cid: round(float(s), 4) for cid, s in cur.fetchall()}
    finally:
        pg.close()


def model_times(work: Path) -> dict[str, float]:
    """Each model's execution time (s) in the last dbt command run in work: dbt's own timing of
    the model's statements, from its run_results.json (hooks and tests left out)."""
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: float(r["execution_time"])
            for r in results if r["unique_id"].startswith("model.")}


def bench_engine(engine: str, size: int, workdir: Path, server_env: dict,
                 times: dict[str, dict[str, float]] | None = None, warm_up: bool = False) -> list[Measure]:
    """Full and incremental builds of the project on PostgreSQL or Spark, on the same data and
    held-back day as DuckDB's, in one run. times, if given, receives each model's time in the
    full_models, incremental and no_new_data runs. warm_up: one full run first, not measured
    (a server's first queries are slow while it compiles its code)."""
    times = {} if times is None else times
    work = workdir / f"{engine}-{size}"
    db, base_rows, new_rows = prepare(size, work)
    env = {**env_for(db), **server_env, "CES_TARGET": engine}
    if engine == "postgres":
        database = f"ces_bench_{size}"
        pg = pg_connect(config.load(env))
        pg.autocommit = True
        with pg.cursor() as cur:
            cur.execute(f'drop database if exists "{database}"')
            cur.execute(f'create database "{database}"')
        pg.close()
        env["CES_PG_DBNAME"] = database
    land = [sys.executable, "-m", "cestools.landing", "--from", str(db)]
    started = time.perf_counter()
    # the landing's own progress lines are shown: through Spark's Thrift server it takes 4.5
    # minutes at 10M events and 13 to 17 at 30M
    subprocess.run(land, cwd=ROOT, env=env, check=True)
    log(f"  {engine}: landed {base_rows:,} raw rows in {time.perf_counter() - started:.1f} s")
    subprocess.run(dbt_cmd(work, "seed", "--full-refresh"), cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    if warm_up:
        wall, _ = run_measured(dbt_cmd(work, "run", "--full-refresh"), env)
        log(f"  {engine}: warm-up run (not recorded): {wall:.2f} s")
    label = f"{engine}:"
    results = [repeated_once(size, f"{label}full_models", base_rows, dbt_cmd(work, "run", "--full-refresh"), env)]
    times["full_models"] = model_times(work)
    results.append(repeated_once(size, f"{label}full_build", base_rows, dbt_cmd(work, "build", "--full-refresh"), env))
    next_day = work / "next_day.duckdb"
    con = duckdb.connect(str(next_day))
    con.execute(f"attach '{db}' as src (read_only)")
    con.execute("create schema raw")
    for t in ("product_events", "support_tickets"):
        con.execute(f"create table raw.{t} as select * from src.bench.next_day_{t}")
    con.close()
    subprocess.run([sys.executable, "-m", "cestools.landing", "--from", str(next_day), "--tables",
                    "raw.product_events,raw.support_tickets", "--append"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    results.append(repeated_once(size, f"{label}incremental", new_rows, dbt_cmd(work, "run"), env))
    times["incremental"] = model_times(work)
    # the same run again with nothing new: what an incremental run costs before any new row
    results.append(repeated_once(size, f"{label}no_new_data", 0, dbt_cmd(work, "run"), env))
    times["no_new_data"] = model_times(work)
    land_next_day_in(db)
    floor = work / "floor.parquet"
    run_measured([sys.executable, "-m", "devtools.reference", "floor", str(db), str(floor)], env_for(db))
    agree(f"{engine} incremental = floor", engine_scores(engine, env), parquet_scores(floor))
    return results


def repeated_once(size: int, name: str, rows: int, cmd: list[str], env: dict) -> Measure:
    wall, peak = run_measured(cmd, env)
    log(f"  {name}: {wall:.2f} s, peak {peak:,.0f} MiB")
    return Measure(size, name, wall, 1, peak, rows)


ENGINES_HEADING = "## PostgreSQL and Spark"
MODEL_TIMES_HEADING = "## Where a Spark run spends its time"
MODEL_TIME_RUNS = ["full_models", "incremental", "no_new_data"]
MODEL_TIME_SHOWN_S = 1.0


def model_time_lines(size: int, times: dict[str, dict[str, float]], walls: dict[str, float]) -> list[str]:
    """Each model's time in the Spark runs of one size (models under MODEL_TIME_SHOWN_S in every
    run summed in one row), slowest in the incremental run first; then the sums and the walls."""
    models = sorted({m for run in times.values() for m in run})
    def cell(run: str, model: str) -> float:
        return times.get(run, {}).get(model, 0.0)
    shown = [m for m in models if max(cell(r, m) for r in MODEL_TIME_RUNS) >= MODEL_TIME_SHOWN_S]
    shown.sort(key=lambda m: (-cell("incremental", m), m))
    rest = [m for m in models if m not in shown]
    lines = [
        MODEL_TIMES_HEADING,
        "",
        f"Written by `make bench` on {dt.datetime.now():%Y-%m-%d %H:%M}: each model's time in the Spark runs "
        f"of {size:,} events in the table above, as dbt timed its statements (run_results.json). dbt runs "
        "as many models at once as the worker has cores (2), so a run's wall is less than the sum of its "
        "models' times; the wall also holds dbt's start (parsing, connecting). A model whose time hardly "
        "drops from full_models to no_new_data recomputes the same work on every run.",
        "",
        "| model | full_models s | incremental s | no_new_data s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for m in shown:
        lines.append(f"| {m} | " + " | ".join(f"{cell(r, m):.1f}" for r in MODEL_TIME_RUNS) + " |")
    if rest:
        lines.append(f"| the other {len(rest)} models (each under {MODEL_TIME_SHOWN_S:.0f} s) | "
                     + " | ".join(f"{sum(cell(r, m) for m in rest):.1f}" for r in MODEL_TIME_RUNS) + " |")
    lines.append("| **sum of the models' times** | "
                 + " | ".join(f"{sum(times.get(r, {}).values()):.1f}" for r in MODEL_TIME_RUNS) + " |")
    lines.append("| **wall of the dbt command** | "
                 + " | ".join(f"{walls[r]:.1f}" if r in walls else "–" for r in MODEL_TIME_RUNS) + " |")
    return [*lines, ""]
BACKTEST_HEADING = "## Backtest cost (DuckDB)"


# a backtest date before the first event has no whole window: no backtest point is scored
NO_BACKTEST_VARS = "{ces_backtest_dates: ['1900-01-01']}"


def bench_backtest(size: int, workdir: Path) -> list[Measure]:
    """What the backtest adds to `make build`: a whole `dbt build --full-refresh` on the demo
    data (outcomes included), and the same build with no backtest point (the scoring chain then
    scores the as-of point alone)."""
    work = workdir / f"backtest-{size}"
    db, base_rows, _ = prepare(size, work)
    env = env_for(db)
    subprocess.run(dbt_cmd(work, "seed", "--full-refresh"), cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    without = repeated(size, "build_without_backtest", base_rows, lambda: run_measured(
        dbt_cmd(work, "build", "--full-refresh", "--vars", NO_BACKTEST_VARS), env))
    build = repeated(size, "full_build", base_rows, lambda: run_measured(
        dbt_cmd(work, "build", "--full-refresh"), env))
    rows = duckdb.connect(str(db), read_only=True)
    try:
        populated = rows.execute("select count(*) from intermediate.int_backtest_population").fetchone()[0]
    finally:
        rows.close()
    build.rows = populated
    shutil.rmtree(work, ignore_errors=True)
    return [without, build]


def backtest_lines(results: list[Measure]) -> list[str]:
    lines = [BACKTEST_HEADING, "",
             f"Written on {dt.datetime.now():%Y-%m-%d %H:%M}. On the demo data (2,000 customers, 6 months, "
             "outcomes included): `dbt build --full-refresh` of the whole project, and the same build with no "
             f"backtest point (`--vars \"{NO_BACKTEST_VARS}\"`): the scoring chain (int_scoring_points and the "
             "int_point_* models) then scores the as-of point alone, and the backtest marts are empty. The "
             "backtest reads the compact daily event layer, never raw. Target: it adds at most 10% to the build "
             "at 100M events. Rows: population rows scored (dates × versions × outcomes × customers).", "",
             "| events | build s | build without backtest points s | backtest adds | rows | met |",
             "| ---: | ---: | ---: | ---: | ---: | --- |"]
    by = {(m.size, m.name): m for m in results}
    for size in sorted({m.size for m in results}):
        full, without = by[(size, "full_build")], by[(size, "build_without_backtest")]
        share = (full.wall - without.wall) / without.wall
        met = ("yes" if share <= 0.10 else "no") if size >= 100_000_000 else ""
        lines.append(f"| {size:,} | {full.wall:.2f} | {without.wall:.2f} | {100 * share:+.1f}% | {full.rows:,} | {met} |")
    return lines + [""]


def write_section(heading: str, lines: list[str], path: Path) -> None:
    """Replace the section under heading (or add it at the end), leaving the others as they are."""
    text = path.read_text() if path.exists() else ""
    before, _, after = text.partition(heading)
    rest = after.split("\n## ", 1)[1] if "\n## " in after else ""
    path.write_text(before.rstrip("\n") + "\n\n" + "\n".join(lines) + (("\n## " + rest) if rest else ""))
    log(f"wrote {path} ({heading})")


def write_backtest(results: list[Measure], path: Path) -> None:
    write_section(BACKTEST_HEADING, backtest_lines(results), path)


DASHBOARD_HEADING = "## Dashboard page timings"
DASHBOARD_PAGES = {"Segments": "", "The four uses": "uses", "Customer": "customer", "Weights lab": "weights-lab",
                   "Data health": "data-health", "Backtest": "backtest"}
DASHBOARD_GOAL_S = 2.0


def bench_dashboard(customers: int, events: int, workdir: Path) -> list[str]:
    """Build and publish demo data of this size, start the dashboard and time every page in
    headless Chromium: the first visit (it reads the serving tables it needs), the median of
    three later visits, and the weights lab's recompute after a weight is edited."""

    work = workdir / "dashboard"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db, serving = work / "ces.duckdb", work / "serving.duckdb"
    env = env_for(db)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cestools.demo_data", "--path", str(db), "--customers", str(customers),
                    "--events", str(events), "--seed", "42", "--quiet"], cwd=ROOT, env=env, check=True)
    log(f"dashboard: demo data ({customers:,} customers, {events:,} events) in {time.perf_counter() - started:.0f} s")
    subprocess.run(dbt_cmd(work, "build", "--quiet"), cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "-m", "cestools.publish", "--build", str(db), "--serving", str(serving),
                    "--parquet-dir", str(work / "serving"), "--target-path", str(work / "target")],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    con = duckdb.connect(str(serving), read_only=True)
    try:
        served = {t: con.execute(f"select count(*) from {t}").fetchone()[0]
                  for t in ("fct_customer_engagement", "fct_customer_event_contributions",
                            "fct_customer_engagement_monthly")}
    finally:
        con.close()
    rows = []
    with browser.dashboard(serving, work / "dashboard.log") as url, browser.browser() as page:
        for name, path in DASHBOARD_PAGES.items():
            first = browser.open_page(page, f"{url}/{path}")
            later = statistics.median(browser.open_page(page, f"{url}/{path}") for _ in range(3))
            rows.append((name, first, later))
            log(f"  dashboard {name}: first {first:.2f} s, later {later:.2f} s")
        browser.open_page(page, f"{url}/weights-lab")
        edits = []
        for i, weight in enumerate((31, 47, 63), 1):
            field = page.get_by_label("integration_connected")
            field.fill(str(weight))
            t0 = time.perf_counter()
            field.press("Enter")
            # done when the changed-weights table shows the new weight and every chart is drawn
            page.locator('[data-testid="stTable"]').filter(has_text=f"{weight}.0000").first.wait_for()
            browser.wait_drawn(page)
            edits.append(time.perf_counter() - t0)
            log(f"  weights lab recompute {i}: {edits[-1]:.2f} s")
    recompute = statistics.median(edits)
    shutil.rmtree(work, ignore_errors=True)
    worst = max(max(later for _, _, later in rows), recompute)
    lines = [DASHBOARD_HEADING, "",
             f"Written on {dt.datetime.now():%Y-%m-%d %H:%M}. `make demo-data CUSTOMERS={customers} EVENTS={events}`, "
             f"built and published: {served['fct_customer_engagement']:,} customers, "
             f"{served['fct_customer_event_contributions']:,} contribution rows, "
             f"{served['fct_customer_engagement_monthly']:,} customer months in the serving file. Headless Chromium "
             "(Debian's package, through Playwright) at 1400×1000; a page is timed from navigation until every chart "
             "on it is drawn (its canvas painted), every table and widget is loaded (none still a placeholder) and the "
             "script has finished. First visit: the serving tables the "
             "page needs are read (once per publish, then cached), and for Segments, the first page of the browser "
             "session, the app's JavaScript loads too; later: the median of three more visits. The recompute is "
             "timed from the edited weight's Enter until the changed-weights table shows it and every chart is "
             "redrawn (median of three edits, each a new what-if). Goal: "
             f"{DASHBOARD_GOAL_S:g} s or less.", "",
             "| page | first visit s | later visits s | met |", "| --- | ---: | ---: | --- |"]
    for name, first, later in rows:
        met = "yes" if max(first, later) <= DASHBOARD_GOAL_S else ("after the first visit" if later <= DASHBOARD_GOAL_S
                                                                  else "no")
        lines.append(f"| {name} | {first:.2f} | {later:.2f} | {met} |")
    lines.append(f"| Weights lab: recompute after editing one weight | | {recompute:.2f} | "
                 f"{'yes' if recompute <= DASHBOARD_GOAL_S else 'no'} |")
    first_worst = max(first for _, first, _ in rows)
    lines += ["", f"Slowest page after its first visit: {worst:.2f} s; slowest first visit: {first_worst:.2f} s.", ""]
    return lines


def kept_measures(lines: list[str]) -> list[Measure]:
    """The DuckDB rows of a results table written earlier, for the × DuckDB column."""
    kept = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[0].replace(",", "").isdigit():
            try:
                kept.append(Measure(int(cells[0].replace(",", "")), cells[1], float(cells[2]), int(cells[3]),
                                    float(cells[4].replace(",", "")), 0))
            except ValueError:
                continue
    return kept


MEASUREMENT_ORDER = ["full_models", "full_build", "incremental", "no_new_data"]


def kept_engine_measures(text: str) -> list[Measure]:
    """The PostgreSQL and Spark rows of a results file written earlier (rows from events/s × wall)."""
    kept = []
    section = text.partition(ENGINES_HEADING)[2].split("\n## ")[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 7 and cells[1].replace(",", "").isdigit():
            try:
                wall = float(cells[3])
                rate = float(cells[6].replace(",", "")) if cells[6] not in ("–", "") else 0.0
                kept.append(Measure(int(cells[1].replace(",", "")), f"{cells[0]}:{cells[2]}", wall, int(cells[4]),
                                    float(cells[5].replace(",", "")), round(rate * wall)))
            except ValueError:
                continue
    return kept


def merged_engine_measures(kept: list[Measure], measured: list[Measure]) -> list[Measure]:
    """This run's engine rows, and the earlier run's for every engine, size and measurement this
    run did not measure (a run of one engine or size keeps the others' figures)."""
    rows = {(m.name, m.size): m for m in kept}
    rows.update({(m.name, m.size): m for m in measured})
    def order(m: Measure) -> tuple:
        engine, name = m.name.split(":")
        return (engine, m.size, MEASUREMENT_ORDER.index(name) if name in MEASUREMENT_ORDER else 99)
    return sorted(rows.values(), key=order)


def engine_lines(results: list[Measure], duck: list[Measure]) -> list[str]:
    duck_walls = {(m.size, m.name): m.wall for m in duck}
    walls = {(m.size, *m.name.split(":")): m.wall for m in results}
    lines = [
        ENGINES_HEADING,
        "",
        f"Written by `make bench` on {dt.datetime.now():%Y-%m-%d %H:%M}, the same machine. The same demo "
        "data and held-back day as DuckDB's, landed in each engine (PostgreSQL 15 on a server the "
        "benchmark started, JIT off, fsync off; Spark 4.0 on a standalone cluster the benchmark started on this "
        "machine, one worker with 2 cores and 4 GB, reached through its Thrift server, Parquet; "
        "the cluster's first full run, on the first size, was a warm-up and is not shown). "
        "One run each. Peak memory is the dbt process tree: the servers' own memory (PostgreSQL's, the "
        "Spark cluster's JVMs) is not in it. × DuckDB compares with the DuckDB row of the "
        "same size and measurement in the table above, where there is one. The scores after the "
        "incremental run agreed with the floor for every customer. A run that measures only some "
        "engines or sizes keeps the other rows of the file as they were.",
        "",
        "| engine | events | measurement | wall s | runs | peak MiB | events/s | × DuckDB | incremental share |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in results:
        engine, name = m.name.split(":")
        ratio = m.wall / duck_walls[(m.size, name)] if (m.size, name) in duck_walls else None
        share = ""
        if name in ("incremental", "no_new_data"):
            # against the full run (models only, like the incremental run), and against the full
            # build (models and tests)
            share = ", ".join(f"{100 * m.wall / walls[(m.size, engine, full)]:.1f}% of {full}"
                              for full in ("full_models", "full_build") if (m.size, engine, full) in walls)
        per_s = f"{m.rows / m.wall:,.0f}" if m.rows else "–"
        lines.append(f"| {engine} | {m.size:,} | {name} | {m.wall:.2f} | {m.runs} | {m.peak_mib:,.0f} | {per_s} | "
                     f"{f'{ratio:.2f}' if ratio else '–'} | {share} |")
    return [*lines, ""]


def write_results(results: list[Measure], path: Path, pandas_max: int,
                  engine_results: list[Measure] | None = None) -> None:
    """The DuckDB table (kept from the file as it is when this run measured no DuckDB size),
    then the PostgreSQL and Spark table; the sections written after them (backtest, Spark's
    model times, dashboard) stay at the end as they were."""
    old = path.read_text() if path.exists() else ""
    later = later_sections(old)
    if engine_results:
        engine_results = merged_engine_measures(kept_engine_measures(old), engine_results)
    write_tables(results, path, pandas_max, engine_results)
    if later:
        path.write_text(path.read_text().rstrip("\n") + "\n\n" + later)


LATER_HEADINGS = (BACKTEST_HEADING, MODEL_TIMES_HEADING, DASHBOARD_HEADING)


def first_of(text: str, headings: tuple[str, ...]) -> int:
    """Where the first of these headings starts in text (its length if none is there)."""
    return min([text.find(h) for h in headings if h in text], default=len(text))


def later_sections(text: str) -> str:
    """The text from the first of the sections written after the tables, or ''."""
    return text[first_of(text, LATER_HEADINGS):]


def write_tables(results: list[Measure], path: Path, pandas_max: int,
                 engine_results: list[Measure] | None = None) -> None:
    if not results:
        text = path.read_text() if path.exists() else ""
        kept = text[:first_of(text, (ENGINES_HEADING, *LATER_HEADINGS))].rstrip("\n").splitlines()
        path.write_text("\n".join([*kept, "", *engine_lines(engine_results or [], kept_measures(kept))]))
        log(f"wrote {path} (the DuckDB table kept as it was)")
        return
    floors = {m.size: m.wall for m in results if m.name == "floor"}
    fulls = {m.size: m.wall for m in results if m.name == "full_models"}
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {dt.datetime.now():%Y-%m-%d %H:%M}, "
        f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, DuckDB "
        f"{duckdb.__version__}, DuckDB memory_limit {MEMORY_LIMIT} (dbt and the floor alike). Wall time is the median of the runs shown "
        f"(runs under {REPEAT_BELOW_S:.0f} s are repeated 3 times); peak memory is the largest "
        "RSS of the whole process tree (dbt and its threads, or the Python process). Events/s "
        "is raw rows processed per second (for the incremental run: the new rows; no_new_data "
        "processes none). "
        "The four methods agreed on every customer's score at every size.",
        "",
        "| events | measurement | wall s | runs | peak MiB | events/s | × floor | target | met |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for m in results:
        ratio = m.wall / floors[m.size] if m.size in floors else float("nan")
        target, met = TARGETS.get(m.name, ""), ""
        if m.name == "full_models":
            met = "yes" if ratio <= 1.5 else "no"
        elif m.name == "full_build":
            met = "yes" if ratio <= 2.5 else "no"
        elif m.name == "incremental":
            share = m.wall / fulls[m.size]
            target += f" ({100 * share:.1f}%)"
            met = "yes" if share <= 0.10 else "no"
        elif m.name == "no_new_data":
            target = f"none ({100 * m.wall / fulls[m.size]:.1f}% of full_models)"
        if m.peak_mib > 4096:
            met += " (peak > 4 GiB)"
        per_s = f"{m.rows / m.wall:,.0f}" if m.rows else "–"
        lines.append(f"| {m.size:,} | {m.name} | {m.wall:.2f} | {m.runs} | {m.peak_mib:,.0f} | "
                     f"{per_s} | {ratio:.2f} | {target} | {met} |")
    lines += ["", f"pandas runs only up to {pandas_max:,} events.", ""]
    if engine_results:
        lines += engine_lines(engine_results, results)
    path.write_text("\n".join(lines))
    log(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="1000000,10000000,100000000")
    p.add_argument("--with-1b", action="store_true", help="add 1,000,000,000 events")
    p.add_argument("--pandas-max", type=int, default=10_000_000)
    p.add_argument("--postgres-sizes", default="1000000,10000000")
    p.add_argument("--spark-sizes", default="10000,1000000,10000000")
    p.add_argument("--backtest-sizes", default="10000000,100000000",
                   help="sizes at which to measure what the backtest adds to the build")
    p.add_argument("--dashboard-customers", type=int, default=100_000,
                   help="customers of the dashboard timing (0 skips it)")
    p.add_argument("--dashboard-events", type=int, default=20_000_000)
    p.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    p.add_argument("--workdir", default=None,
                   help="where the warehouses are built (default: bench/.work.ces-<pid>.tmp, removed at the end)")
    a = p.parse_args(argv)
    if a.workdir is None:
        # a folder of this run's own, named after its process: the work folder of a run that was
        # killed is removed by the next run (the rule that removes a dead publish's files)
        removed = remove_leftovers(ROOT / "bench", {"work"})
        if removed:
            log(f"removed the work folder(s) of benchmark runs that died: {', '.join(removed)}")
        a.workdir = str(ROOT / "bench" / temporary_name("work", os.getpid()))
    # the work folder is removed at the end only if this run created it: a folder given with
    # --workdir that already existed keeps everything but the benchmark's own subfolders
    created_workdir = not Path(a.workdir).exists()
    sizes = [int(s) for s in a.sizes.split(",") if s]
    if a.with_1b:
        sizes.append(1_000_000_000)
    results: list[Measure] = []
    for size in sizes:
        results += bench_size(size, a.pandas_max, Path(a.workdir))
        write_results(results, Path(a.out), a.pandas_max)
    engine_results: list[Measure] = []
    pg_sizes = [int(s) for s in a.postgres_sizes.split(",") if s]
    if pg_sizes:
        with local_postgres() as pg_env:
            for size in pg_sizes:
                engine_results += bench_engine("postgres", size, Path(a.workdir), pg_env)
                write_results(results, Path(a.out), a.pandas_max, engine_results)
    spark_sizes = [int(s) for s in a.spark_sizes.split(",") if s]
    if spark_sizes:
        with local_spark_cluster(memory="4g", log=log) as cluster_env:
            for i, size in enumerate(spark_sizes):
                times: dict[str, dict[str, float]] = {}
                measured = bench_engine("spark_thrift", size, Path(a.workdir), cluster_env, times,
                                        warm_up=i == 0)
                engine_results += measured
                write_results(results, Path(a.out), a.pandas_max, engine_results)
            # the last size's models (of --spark-sizes): where an incremental run still spends its time
            walls = {m.name.split(":")[1]: m.wall for m in measured}
            write_section(MODEL_TIMES_HEADING, model_time_lines(size, times, walls), Path(a.out))
    backtest_results: list[Measure] = []
    for size in [int(s) for s in a.backtest_sizes.split(",") if s]:
        backtest_results += bench_backtest(size, Path(a.workdir))
        write_backtest(backtest_results, Path(a.out))
    if a.dashboard_customers:
        write_section(DASHBOARD_HEADING, bench_dashboard(a.dashboard_customers, a.dashboard_events,
                                                         Path(a.workdir)), Path(a.out))
    if created_workdir:
        shutil.rmtree(a.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(errors.run(main))
