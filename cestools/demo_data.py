"""Deterministic demo data for the CES warehouse, generated inside DuckDB.

Writes the raw contract (raw.product_events, raw.support_tickets, raw.customers with dated CRM
changes, raw.customer_outcomes) and the ground truth: demo.customer_archetypes and
demo.planted_effects, the event types that really drive each outcome (the backtest tests check
that `make suggest-weights` finds them). Every random draw is a hash of (seed, row identity),
so the output depends only on the arguments, not on thread scheduling.

    python -m cestools.demo_data --events 400000 --seed 42 --path warehouse/ces.duckdb
    python -m cestools.demo_data --defects   # plus every catalogued defect (cestools/defects.py)
    python -m cestools.demo_data --if-empty  # what `make build` runs: only into a file with no raw tables

It writes only into a file that holds no table it did not write itself (the project's own dbt
schemas aside): a team's data is never replaced. The tables it writes are listed in
demo.generated_tables as it writes them. A file holding any other table is the user's: --if-empty
leaves it as it is, and a plain run refuses unless --force, which replaces only the raw
contract tables in `raw` and never touches any other table.

A fresh dataset replaces the raw tables, so it also drops the schemas dbt built in the file (as
dbt's manifest lists them): the incremental event layer describes the old data and would
otherwise be extended, not rebuilt.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cestools import artifacts, config, defects, engines, errors, ownership, settings
from cestools.engines.duckdb_engine import DuckDBWarehouse
from cestools.errors import CesError

DEFAULT_PATH = config.DEFAULT_DUCKDB_PATH
DEFAULT_EVENTS = 400_000
DEFAULT_CUSTOMERS = 2_000
HISTORY_DAYS = 183

# (event name as snake case, relative frequency, title-case spelling some SDKs send)
EVENT_TYPES: list[tuple[str, float]] = [
    ("session_started", 30.0),
    ("dashboard_viewed", 22.0),
    ("filter_applied", 12.0),
    ("report_created", 8.0),
    ("api_request", 8.0),
    ("comment_added", 6.0),
    ("data_exported", 5.0),
    ("report_shared", 4.0),
    ("alert_configured", 2.0),
    ("automation_created", 1.5),
    ("user_invited", 1.0),
    ("integration_connected", 0.5),
]

# Per archetype: share of customers, lifecycle stage, base events/day, event-mix multipliers.
# The stage is the one at the end of the history for archetypes without an outcome; the
# outcomes (a churn, a conversion, an upgrade) are drawn from the events (decide_outcomes).
ARCHETYPES: dict[str, dict] = {
    "power_user": {"share": 0.07, "stage": "active", "rate": 3.0},
    "steady": {"share": 0.08, "stage": "active", "rate": 1.0},
    "new": {"share": 0.05, "stage": "active", "rate": 1.0},
    "declining": {"share": 0.08, "stage": "active", "rate": 1.3},
    "dormant": {"share": 0.06, "stage": "active", "rate": 1.0},
    "trial_converting": {"share": 0.06, "stage": "trial", "rate": 1.6},
    "trial_stalling": {"share": 0.06, "stage": "trial", "rate": 0.8},
    "narrow_user": {"share": 0.08, "stage": "active", "rate": 0.9},
    "outgrowing_plan": {"share": 0.07, "stage": "active", "rate": 3.5},
    # earlier trials, ended during the history (the backtest's conversions): busy while they
    # last, alike but in how much they invite and integrate (TRIAL_MIX; a deep trial does it
    # most, so it uses the most features and converts); and starter customers who upgraded
    "past_trial_light": {"share": 0.13, "stage": "trial", "rate": 2.4},
    "past_trial_medium": {"share": 0.12, "stage": "trial", "rate": 2.4},
    "past_trial_deep": {"share": 0.09, "stage": "trial", "rate": 2.4},
    "upgraded": {"share": 0.05, "stage": "active", "rate": 2.5},
}
PAST_TRIALS = ("past_trial_light", "past_trial_medium", "past_trial_deep")

# Event-mix multipliers by archetype (1.0 = default frequency; 0 = never used).
# A past trial, during the trial, uses the four everyday types, which every past trial uses
# alike, plus the planted ones (integrations and invites), as often as its kind says: the deep
# trials use more features than the others only through the planted types.
TRIAL_MIX = {name: 0.0 for name in ("api_request", "comment_added", "data_exported", "report_shared",
                                    "alert_configured", "automation_created")}
MIX: dict[str, dict[str, float]] = {
    "narrow_user": {name: (1.0 if name in ("session_started", "dashboard_viewed") else 0.0)
                    for name, _ in EVENT_TYPES},
    "trial_converting": {"user_invited": 6.0, "integration_connected": 8.0, "report_shared": 3.0,
                         "report_created": 2.0, "alert_configured": 2.0},
    "trial_stalling": {"report_created": 0.3, "report_shared": 0.1, "user_invited": 0.0,
                       "integration_connected": 0.0, "automation_created": 0.0},
    "outgrowing_plan": {"api_request": 4.0, "user_invited": 3.0, "automation_created": 3.0},
    "power_user": {"automation_created": 2.0, "integration_connected": 2.0},
    "past_trial_light": {**TRIAL_MIX, "integration_connected": 0.5, "user_invited": 0.5},
    "past_trial_medium": {**TRIAL_MIX, "integration_connected": 1.0, "user_invited": 1.0},
    "past_trial_deep": {**TRIAL_MIX, "integration_connected": 40.0, "user_invited": 30.0},
    "upgraded": {"api_request": 3.0, "user_invited": 3.0, "automation_created": 3.0},
}
# archetypes whose mix multipliers add or remove events of their types only: the day's event
# rate is scaled by the mix's total, so every other type keeps exactly the base expected count
PLANTED_MIX = (*PAST_TRIALS, "upgraded")

# The planted truth (demo.planted_effects): each outcome is drawn from the customer's own
# event counts through a logistic model, so the types without a coefficient carry no signal.
# One story: the behaviour the archetypes show is what drives the outcomes, so the flags that
# find the archetypes also predict the outcomes.
#   churned: at each month end m, an established customer (CHURN_BASES, with the declining and
#            dormant ones) churns in the next 30 days with probability sigmoid(intercept +
#            Σ coefficient · count of the type in the 30 days ending m): fewer sessions and more
#            tickets, more churn. The intercept is solved for so that CHURN_SHARE of them churn.
#   converted: a past trial converts at its end with probability
#            sigmoid(CONVERT_INTERCEPT + Σ coefficient · count of the type during the trial, up
#            to its last month end): the deep trials invite and integrate most.
# A product-event coefficient is per event at the default density (DEFAULT_EVENTS per
# DEFAULT_CUSTOMERS); at another density it is divided by the ratio (planted_coefficients), so
# the story is the same at every size. Events after a churn or a lapsed trial are removed.
# (not the upgraded customers: a customer has one CRM change in the demo, and theirs is the upgrade)
CHURN_BASES = ("steady", "power_user", "narrow_user", "outgrowing_plan", "declining", "dormant")
CHURN_SHARE = 0.20
CHURN_COEFFICIENTS = {"session_started": -0.5, "support_ticket_opened": 1.5}
CONVERT_INTERCEPT = -3.6
CONVERT_COEFFICIENTS = {"integration_connected": 0.5, "user_invited": 0.3}
DECLINE_DAYS = 25  # a declining customer falls to 8% of its activity over this many days
CHURN_FIRST_DAY = 40  # churns start after 40 days of history, so the first windows are whole


def planted_coefficients(opts: Options) -> dict[str, dict[str, float]]:
    """The coefficients of the planted truth at this run's density: a product-event coefficient
    divided by the events per customer relative to the default (tickets do not scale)."""
    density = (opts.events / opts.customers) / (DEFAULT_EVENTS / DEFAULT_CUSTOMERS)

    def scaled(coefficients: dict[str, float]) -> dict[str, float]:
        return {t: round(c if t == "support_ticket_opened" else c / density, 6) for t, c in coefficients.items()}

    return {"churned": scaled(CHURN_COEFFICIENTS), "converted": scaled(CONVERT_COEFFICIENTS)}


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    out, m = [], first.replace(day=1)
    while m <= last:
        m = (m + dt.timedelta(days=32)).replace(day=1)
        out.append(m - dt.timedelta(days=1))
    return [d for d in out if first <= d <= last]

SEGMENTS = [("SMB", 0.55, 1.0, 6), ("Mid-Market", 0.30, 2.0, 30), ("Enterprise", 0.15, 4.0, 150)]
COUNTRIES = ["US", "GB", "DE", "FR", "NL", "CA", "AU", "BR", "IN", "JP", "ES", "SE"]
NAME_A = ["Acme", "Blue", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris",
          "Juniper", "Kite", "Lumen", "Maple", "Nova", "Orbit", "Pine", "Quartz", "River"]
NAME_B = ["Analytics", "Labs", "Systems", "Foods", "Logistics", "Health", "Capital", "Studio",
          "Retail", "Energy", "Works", "Partners", "Cloud", "Media"]
PRIORITIES = ["low", "normal", "high", "urgent"]


@dataclass(frozen=True)
class Options:
    path: str = DEFAULT_PATH
    events: int = DEFAULT_EVENTS
    customers: int = DEFAULT_CUSTOMERS
    seed: int = 42
    end_date: dt.date = dt.date(2026, 10, 31)
    duplicate_rate: float = 0.004
    if_empty: bool = False
    defects: bool = False
    quiet: bool = False
    force: bool = False
    raw_schema: str = "raw"  # the var ces_raw_schema of this run: demo data lands only in `raw`
    raw_database: str | None = None  # the var ces_raw_database: set, the raw tables are elsewhere
    renamed: dict[str, str] = dataclasses.field(default_factory=dict)  # ces_<table>_identifier vars set otherwise
    target: str = "duckdb"  # CES_TARGET: duckdb; postgres or spark (generated in DuckDB, then landed)


def log(opts: Options, message: str) -> None:
    if not opts.quiet:
        print(f"[demo-data] {message}", flush=True)


def mix_total(archetype: str | None) -> float:
    mult = MIX.get(archetype, {}) if archetype else {}
    return sum(freq * mult.get(name, 1.0) for name, freq in EVENT_TYPES)


def build_customers(opts: Options) -> list[tuple]:
    """One row per customer; small, so plain Python with a seeded RNG is fine. An upgrade is
    planned here (the plan and stage before it, the outcome, its day index in stop_day); churns
    and the ends of past trials are drawn from the events later (decide_outcomes)."""
    rng = random.Random(opts.seed)
    names = list(ARCHETYPES)
    shares = [ARCHETYPES[n]["share"] for n in names]
    history_start = opts.end_date - dt.timedelta(days=HISTORY_DAYS - 1)
    rows = []
    for i in range(1, opts.customers + 1):
        archetype = rng.choices(names, shares)[0]
        seg_name, _, seg_mult, seats = rng.choices(SEGMENTS, [s[1] for s in SEGMENTS])[0]
        if archetype in ("outgrowing_plan", "upgraded"):
            seg_name, seg_mult, seats = "SMB", 1.0, 6
        stage = ARCHETYPES[archetype]["stage"]
        paid_plan = {"SMB": rng.choice(["starter", "starter", "professional"]),
                     "Mid-Market": "professional", "Enterprise": "enterprise"}[seg_name]
        if archetype in ("trial_converting", "trial_stalling"):
            created = opts.end_date - dt.timedelta(days=rng.randint(8, 27))
            plan = "trial"
        elif archetype == "new":
            created = opts.end_date - dt.timedelta(days=rng.randint(20, 50))
            plan = rng.choice(["starter", "professional"])
        elif archetype in PAST_TRIALS:
            created = history_start + dt.timedelta(days=rng.randint(10, HISTORY_DAYS - 32))
            plan = "trial"
        else:
            created = history_start - dt.timedelta(days=rng.randint(10, 900))
            plan = paid_plan
        if archetype in ("outgrowing_plan", "upgraded"):
            plan = "starter" if archetype == "outgrowing_plan" else "professional"
        elif archetype == "power_user" and plan == "starter":
            plan = "professional"  # heavy use on the lowest plan is what outgrowing_plan means
        # day index (0 = history start) when activity fades (declining/dormant), the trial
        # ends (past trials) or the plan is upgraded
        stop_day = {
            "dormant": HISTORY_DAYS - rng.randint(40, HISTORY_DAYS + 30),
            "declining": HISTORY_DAYS - rng.randint(50, HISTORY_DAYS + 30),
            "upgraded": rng.randint(CHURN_FIRST_DAY, HISTORY_DAYS - 3),
        }.get(archetype, HISTORY_DAYS)
        if archetype in PAST_TRIALS:
            stop_day = (created - history_start).days + rng.randint(14, 30)
        prior_plan, prior_stage, outcome = ("starter", "active", "upgraded") if archetype == "upgraded" \
            else (None, None, None)
        created_at = dt.datetime.combine(created, dt.time(9, 0)) + dt.timedelta(
            minutes=rng.randint(0, 600))
        rate = ARCHETYPES[archetype]["rate"] * rng.uniform(0.7, 1.3)
        if archetype in PLANTED_MIX:
            rate *= mix_total(archetype) / mix_total(None)
        customer_id = f"C{i:06d}"
        rows.append((
            i, customer_id, f"{rng.choice(NAME_A)} {rng.choice(NAME_B)} {i}", seg_name, plan,
            stage, rng.choice(COUNTRIES), created_at, archetype, seg_mult, seats, stop_day,
            rate, prior_plan, prior_stage, outcome, paid_plan,
        ))
    return rows


def mix_rows() -> list[tuple]:
    """A 1000-slot lookup per archetype: slot -> event type, by cumulative frequency."""
    rows = []
    for archetype in ARCHETYPES:
        mult = MIX.get(archetype, {})
        weights = [(name, freq * mult.get(name, 1.0)) for name, freq in EVENT_TYPES]
        total = sum(w for _, w in weights)
        slot = 0
        for idx, (name, w) in enumerate(weights):
            n = round(1000 * w / total) if idx < len(weights) - 1 else 1000 - slot
            for _ in range(max(0, min(n, 1000 - slot))):
                rows.append((archetype, slot, name))
                slot += 1
        while slot < 1000:  # rounding leftovers go to the most common type
            rows.append((archetype, slot, weights[0][0]))
            slot += 1
    return rows


def uniform(seed: int, *parts: str) -> str:
    """SQL for a deterministic uniform [0, 1) draw from the seed and row identity."""
    inner = ", ".join(parts)
    return f"(hash({seed}, {inner}) % 1000000007) / 1000000007.0"


def mark_generated(con: duckdb.DuckDBPyConnection, opts: Options) -> None:
    """Claim the tables before writing them (complete = false until the end), so an interrupted
    run leaves a file the next run may still overwrite, not one that looks like a user's."""
    con.execute("create schema if not exists demo")
    con.execute(f"""
        create or replace table {ownership.DEMO_MARKER} (
            table_schema varchar, table_name varchar, seed integer, events bigint,
            customers integer, generated_at timestamp, complete boolean)
    """)
    tables = ownership.GENERATED_TABLES + ([ownership.DEFECTS_TABLE] if opts.defects else [])
    for name in tables:
        schema, table = name.split(".")
        con.execute(f"insert into {ownership.DEMO_MARKER} values (?, ?, ?, ?, ?, now(), false)",
                    [schema, table, opts.seed, opts.events, opts.customers])


def create_schemas(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists demo")
    con.execute("create schema if not exists demo_work")
    con.execute("""
        create or replace table raw.customers (
            customer_id varchar, customer_name varchar, segment varchar, plan varchar,
            lifecycle_stage varchar, country varchar, created_at timestamp, loaded_at timestamp)
    """)
    con.execute("""
        create or replace table raw.product_events (
            event_id varchar, customer_id varchar, user_id varchar, event_name varchar,
            occurred_at timestamp, loaded_at timestamp)
    """)
    con.execute("""
        create or replace table raw.support_tickets (
            ticket_id varchar, customer_id varchar, created_at timestamp, priority varchar,
            loaded_at timestamp)
    """)
    con.execute("""
        create or replace table raw.customer_outcomes (
            customer_id varchar, outcome varchar, occurred_at timestamp, loaded_at timestamp)
    """)
    con.execute("create or replace table demo.customer_archetypes "
                "(customer_id varchar, archetype varchar)")
    con.execute("create or replace table demo.planted_effects "
                "(outcome varchar, event_type varchar, direction varchar, effect varchar)")


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Bulk insert through a registered DataFrame (executemany is slow in DuckDB)."""
    import pandas as pd

    con.register("incoming_rows", pd.DataFrame(rows))
    con.execute(f"insert into {table} select * from incoming_rows")
    con.unregister("incoming_rows")


def load_customers(con: duckdb.DuckDBPyConnection, opts: Options) -> None:
    rows = build_customers(opts)
    con.execute("""
        create or replace table demo_work.customers (
            customer_num integer, customer_id varchar, customer_name varchar, segment varchar,
            plan varchar, lifecycle_stage varchar, country varchar, created_at timestamp,
            archetype varchar, segment_multiplier double, seats integer, stop_day integer,
            base_rate double, prior_plan varchar, prior_stage varchar, outcome varchar,
            paid_plan varchar)
    """)
    insert_rows(con, "demo_work.customers", rows)
    con.execute("create or replace table demo_work.event_mix "
                "(archetype varchar, slot integer, event_name varchar)")
    insert_rows(con, "demo_work.event_mix", mix_rows())


def sigmoid_sql(logit: str) -> str:
    return f"(1.0 / (1.0 + exp(-({logit}))))"


def sql_list(names: tuple[str, ...]) -> str:
    """Names as a SQL list of string literals, for `in (...)`."""
    return ", ".join(f"'{n}'" for n in names)


def type_counts_sql(types: list[str], name_column: str) -> str:
    """One 0/1 column per type (n_0, n_1, ...): is the event of that type. Summed as integers,
    so the counts, and the points made of them, do not depend on the order of a parallel sum."""
    return ", ".join(f"cast(lower(replace({name_column}, ' ', '_')) = '{t}' as integer) as n_{i}"
                     for i, t in enumerate(types))


def summed_counts_sql(types: list[str]) -> str:
    return ", ".join(f"coalesce(sum(n_{i}), 0) as n_{i}" for i in range(len(types)))


def points_sql(coefficients: dict[str, float]) -> str:
    """Σ coefficient · count, over the columns of type_counts_sql(list(coefficients))."""
    return " + ".join(f"{c} * n_{i}" for i, c in enumerate(coefficients.values()))


def decide_outcomes(con: duckdb.DuckDBPyConnection, opts: Options) -> dict[str, float]:
    """Draw the churns and the ends of past trials from the events themselves (the planted
    truth, see CHURN_COEFFICIENTS), remove the events of customers who have gone, then land
    the CRM rows (with the rows before each change), the outcomes and the ground truth."""
    s = opts.seed
    start = opts.end_date - dt.timedelta(days=HISTORY_DAYS - 1)
    planted = planted_coefficients(opts)
    # a past trial converts at its end with probability sigmoid(intercept + Σ c · n), n counted
    # over the trial up to the last month end before its end (the sales review; the window a
    # backtest on that month end sees), or over the whole trial when it spans no month end
    convert_types = list(planted["converted"])
    con.execute(f"""
        create or replace table demo_work.trial_ends as
        with reviewed as (
            select customer_num, customer_id,
                   case when date_trunc('month', date '{start}' + stop_day) - interval 1 day >= cast(created_at as date)
                        then cast(date_trunc('month', date '{start}' + stop_day) as timestamp)
                        else cast(date '{start}' + stop_day as timestamp)
                   end as counted_until
            from demo_work.customers
            where archetype in ({sql_list(PAST_TRIALS)})
        ),
        counted as (
            select r.customer_num, {summed_counts_sql(convert_types)}
            from reviewed as r
            left join (select distinct event_id, customer_id, occurred_at,
                              {type_counts_sql(convert_types, 'event_name')}
                       from raw.product_events) as e
                on e.customer_id = r.customer_id
                and e.occurred_at < r.counted_until
            group by r.customer_num
        )
        select customer_num,
               {uniform(s, 'customer_num', "'cv'")}
                   < {sigmoid_sql(f"{CONVERT_INTERCEPT} + {points_sql(planted['converted'])}")} as converted
        from counted
    """)
    con.execute("""
        update demo_work.customers as cu
        set outcome = case when t.converted then 'converted' end,
            prior_plan = 'trial', prior_stage = 'trial',
            plan = case when t.converted then cu.paid_plan else 'trial' end,
            lifecycle_stage = case when t.converted then 'active' else 'churned' end
        from demo_work.trial_ends as t
        where cu.customer_num = t.customer_num
    """)
    # at each month end m, an established customer churns within the next 30 days with
    # probability sigmoid(intercept + Σ c · n), n counted over the 30 days ending m (the window
    # a backtest on m sees); the first month that draws it wins. The intercept is solved for so
    # that CHURN_SHARE of them churn during the history, whatever the events per customer.
    months = [m for m in month_ends(start, opts.end_date)
              if (m - start).days >= CHURN_FIRST_DAY - 30 and (m - start).days + 30 < HISTORY_DAYS]
    month_list = ", ".join(f"(date '{m}')" for m in months)
    churn_types = list(planted["churned"])
    con.execute(f"""
        create or replace table demo_work.churn_days as
        with events as (
            select customer_id, cast(occurred_at as date) as day,
                   {type_counts_sql(churn_types, 'event_name')}
            from (select distinct event_id, customer_id, event_name, occurred_at from raw.product_events)
            union all
            select customer_id, cast(created_at as date),
                   {type_counts_sql(churn_types, "'support_ticket_opened'")}
            from raw.support_tickets
        ),
        months as (select * from (values {month_list}) as m(month_end)),
        windowed as (
            select cu.customer_num, m.month_end, {summed_counts_sql(churn_types)}
            from demo_work.customers as cu
            cross join months as m
            left join events as e
                on e.customer_id = cu.customer_id
                and e.day between m.month_end - 29 and m.month_end
            where cu.archetype in ({sql_list(CHURN_BASES)})
            group by cu.customer_num, m.month_end
        )
        select customer_num,
               date_diff('day', date '{start}', month_end) + 1
                   + cast(floor(30 * {uniform(s, 'customer_num', 'month_end', "'cd'")}) as integer) as d,
               {points_sql(planted['churned'])} as points, {uniform(s, 'customer_num', 'month_end', "'ch'")} as u
        from windowed
    """)
    eligible = con.execute("select count(distinct customer_num) from demo_work.churn_days").fetchone()[0]

    def churners(intercept: float) -> int:
        return con.execute(f"select count(distinct customer_num) from demo_work.churn_days "
                           f"where u < {sigmoid_sql(f'{intercept} + points')}").fetchone()[0]

    # wide bounds: at 100M events a customer's window holds thousands of sessions, and the
    # intercept that keeps CHURN_SHARE is in the hundreds
    low, high = -1e5, 1e5
    for _ in range(64):  # the share of churners rises with the intercept
        mid = (low + high) / 2
        low, high = (mid, high) if churners(mid) < CHURN_SHARE * eligible else (low, mid)
    intercept = round(high, 4)
    con.execute(f"""
        update demo_work.customers as cu
        set outcome = 'churned', prior_plan = cu.plan, prior_stage = 'active',
            lifecycle_stage = 'churned', stop_day = c.d
        from (select customer_num, min(d) as d from demo_work.churn_days
              where u < {sigmoid_sql(f'{intercept} + points')} group by customer_num) as c
        where cu.customer_num = c.customer_num
    """)
    land_crm(con, opts)
    return {"churn_intercept": intercept}


def land_crm(con: duckdb.DuckDBPyConnection, opts: Options) -> None:
    start = opts.end_date - dt.timedelta(days=HISTORY_DAYS - 1)
    horizon = dt.datetime.combine(opts.end_date + dt.timedelta(days=1), dt.time(6, 0))
    s = opts.seed
    # the moment a CRM change happens (a churn, a conversion, an upgrade, a lapsed trial) on
    # its day; the CRM export lands it early the next morning
    con.execute(f"""
        create or replace table demo_work.changes as
        select customer_num, customer_id, outcome,
               cast(date '{start}' + stop_day as timestamp)
                   + to_seconds(cast(floor(36000 + 36000 * {uniform(s, 'customer_num', "'oc'")}) as bigint))
                   as occurred_at
        from demo_work.customers
        where prior_stage is not null
    """)
    con.execute("alter table demo_work.changes add column loaded_at timestamp")
    load_delay = uniform(s, "customer_num", "'ol'")
    con.execute("update demo_work.changes set loaded_at = cast(cast(occurred_at as date) + 1 as timestamp) "
                f"+ to_seconds(cast(10800 + 3600 * {load_delay} as bigint))")
    # a customer who churned, or whose trial lapsed, has gone: no event after that moment
    for table, at in (("product_events", "occurred_at"), ("support_tickets", "created_at")):
        con.execute(f"""
            delete from raw.{table} using demo_work.changes as ch
            where {table}.customer_id = ch.customer_id and {table}.{at} >= ch.occurred_at
              and (ch.outcome = 'churned' or ch.outcome is null)
        """)
    # the CRM export lands a little after each account is created; a customer who changed
    # during the history has its earlier row too (change-data capture)
    con.execute(f"""
        insert into raw.customers
        with exported as (
            select cu.customer_num, cu.customer_id, cu.customer_name, cu.segment,
                   coalesce(cu.prior_plan, cu.plan) as plan,
                   coalesce(cu.prior_stage, cu.lifecycle_stage) as lifecycle_stage,
                   cu.country, cu.created_at, cu.created_at + interval 2 hour as loaded_at
            from demo_work.customers as cu
            union all
            select cu.customer_num, cu.customer_id, cu.customer_name, cu.segment, cu.plan,
                   cu.lifecycle_stage, cu.country, cu.created_at, ch.loaded_at
            from demo_work.customers as cu
            inner join demo_work.changes as ch using (customer_num)
            where ch.loaded_at <= timestamp '{horizon}'
        )
        select customer_id, customer_name, segment, plan, lifecycle_stage, country, created_at,
               loaded_at
        from exported order by loaded_at, customer_num
    """)
    con.execute(f"""
        insert into raw.customer_outcomes
        select customer_id, outcome, occurred_at, loaded_at
        from demo_work.changes
        where outcome is not null and loaded_at <= timestamp '{horizon}'
        order by loaded_at, customer_num
    """)
    con.execute("insert into demo.customer_archetypes select customer_id, archetype "
                "from demo_work.customers order by customer_num")
    insert_rows(con, "demo.planted_effects", planted_effects(opts))


def planted_effects(opts: Options) -> list[tuple[str, str, str, str]]:
    """(outcome, event type, direction for a good score, effect): '+' means more of the type
    should raise the score (more of a good outcome, less of a bad one)."""
    planted = planted_coefficients(opts)
    rows = [("churned", t, "+" if c < 0 else "-",
             f"{c:+g} on the log-odds of churning in the 30 days after a month end, per event in the 30 days before it")
            for t, c in planted['churned'].items()]
    rows += [("converted", t, "+" if c > 0 else "-",
              f"{c:+g} on the log-odds of converting at the end of a trial, per event during it (up to its last month end)")
             for t, c in planted['converted'].items()]
    rows += [("upgraded", t, "+", f"{m:g}x in starter customers who upgrade")
             for t, m in MIX["upgraded"].items()]
    return rows


def activity_shape_sql() -> str:
    """Relative activity of a customer on day index d, by archetype (before scaling)."""
    return f"""
        case
            when c.day_date < cast(c.created_at as date) then 0.0
            when c.archetype = 'churned' and c.d >= c.stop_day then 0.0
            when c.archetype = 'dormant' and c.d >= c.stop_day then 0.0
            when c.archetype = 'declining' and c.d >= c.stop_day
                then greatest(0.08, 1.0 - 0.92 * (c.d - c.stop_day) / {DECLINE_DAYS}.0)
            -- a converted trial settles a little below its trial's pace, with the default mix (insert_events)
            when c.archetype in ({sql_list(PAST_TRIALS)}) and c.d >= c.stop_day then 0.75
            when c.archetype = 'trial_converting'
                then 0.6 + 1.2 * least(1.0, (c.day_date - cast(c.created_at as date)) / 14.0)
            when c.archetype = 'trial_stalling'
                then case when c.day_date - cast(c.created_at as date) < 4 then 1.5 else 0.12 end
            else 1.0
        end
        * case when dayofweek(c.day_date) in (0, 6) then 0.35 else 1.0 end
    """


def plan_days(con: duckdb.DuckDBPyConnection, opts: Options) -> float:
    """Expected events per customer-day; returns the scale factor that hits opts.events."""
    start = opts.end_date - dt.timedelta(days=HISTORY_DAYS - 1)
    con.execute(f"""
        create or replace table demo_work.customer_days as
        with grid as (
            select cu.*, r.range as d, date '{start}' + cast(r.range as integer) as day_date
            from demo_work.customers as cu
            cross join range({HISTORY_DAYS}) as r
        )
        select c.customer_num, c.customer_id, c.archetype, c.seats, c.d, c.day_date,
               c.base_rate * c.segment_multiplier * ({activity_shape_sql()}) as weight,
               c.stop_day, c.created_at
        from grid as c
    """)
    # rounded: a parallel sum of doubles may differ in its last bits from run to run
    total = con.execute("select round(sum(weight), 6) from demo_work.customer_days").fetchone()[0] or 1.0
    return opts.events / (total * (1 + opts.duplicate_rate))


def insert_events(con: duckdb.DuckDBPyConnection, opts: Options, scale: float) -> None:
    """Explode customer-days into events, a chunk of days at a time, with progress."""
    s = opts.seed
    chunk = 15
    started = time.time()
    horizon = dt.datetime.combine(opts.end_date + dt.timedelta(days=1), dt.time(6, 0))
    for first in range(0, HISTORY_DAYS, chunk):
        last = min(HISTORY_DAYS, first + chunk) - 1
        con.execute(f"""
            insert into raw.product_events
            with counts as (
                select *, cast(floor(weight * {scale} * (0.6 + 0.8 * {uniform(s, 'customer_num', 'd', "'n'")})
                                      + {uniform(s, 'customer_num', 'd', "'r'")}) as integer) as n
                from demo_work.customer_days
                where d between {first} and {last} and weight > 0
            ),
            exploded as (
                -- a past trial uses the trial's mix until its end, then the default one
                select c.customer_num, c.customer_id, c.seats, c.d, c.day_date, k.k,
                       case when c.archetype in ({sql_list(PAST_TRIALS)}) and c.d >= c.stop_day then 'steady'
                            else c.archetype end as archetype
                from counts as c, unnest(range(c.n)) as k(k)
            ),
            events as (
                select
                    'ev_' || customer_num || '_' || d || '_' || k as event_id,
                    customer_id,
                    'u_' || customer_num || '_' || (1 + cast(floor(seats * {uniform(s, 'customer_num', 'd', 'k', "'u'")}) as integer)) as user_id,
                    m.event_name,
                    {uniform(s, 'customer_num', 'd', 'k', "'f'")} as u_format,
                    {uniform(s, 'customer_num', 'd', 'k', "'l'")} as u_late,
                    {uniform(s, 'customer_num', 'd', 'k', "'x'")} as u_dup,
                    cast(day_date as timestamp)
                        + to_seconds(cast(floor(86399 * {uniform(s, 'customer_num', 'd', 'k', "'t'")}) as bigint))
                        as occurred_at
                from exploded as e
                inner join demo_work.event_mix as m
                    on e.archetype = m.archetype
                    and cast(floor(1000 * {uniform(s, 'customer_num', 'd', 'k', "'m'")}) as integer) = m.slot
            ),
            delivered as (
                select
                    event_id, customer_id, user_id,
                    -- some SDKs send Title Case names; staging normalises them
                    case when u_format < 0.08 then replace(upper(event_name[1]) || event_name[2:], '_', ' ')
                         else event_name end as event_name,
                    occurred_at,
                    occurred_at + case
                        when u_late < 0.90 then to_seconds(cast(60 + 1740 * u_late / 0.90 as bigint))
                        when u_late < 0.98 then to_seconds(cast(3600 + 39600 * (u_late - 0.90) / 0.08 as bigint))
                        else to_seconds(cast(86400 + 345600 * (u_late - 0.98) / 0.02 as bigint))
                    end as loaded_at,
                    u_dup
                from events
            ),
            copies as (
                select event_id, customer_id, user_id, event_name, occurred_at, loaded_at
                from delivered
                union all
                -- at-least-once delivery: a small share arrives again, minutes to a day later
                select event_id, customer_id, user_id, event_name, occurred_at,
                       loaded_at + to_seconds(cast(300 + 86000 * u_dup / {opts.duplicate_rate} as bigint))
                from delivered
                where u_dup < {opts.duplicate_rate}
            )
            select * from copies
            where loaded_at <= timestamp '{horizon}'
            order by loaded_at
        """)
        done = con.execute("select count(*) from raw.product_events").fetchone()[0]
        log(opts, f"events: days {first + 1}-{last + 1} of {HISTORY_DAYS}, "
                  f"{done:,} rows so far, {time.time() - started:.0f} s")


def insert_tickets(con: duckdb.DuckDBPyConnection, opts: Options) -> None:
    s = opts.seed
    con.execute(f"""
        insert into raw.support_tickets
        with rates as (
            select *,
                -- the established customers who may churn share one rate, so a ticket count is
                -- not also a sign of the kind of customer (which would leak into other types)
                case archetype
                    when 'declining' then case when d >= stop_day then 0.12 else 0.03 end
                    when 'trial_stalling' then 0.08
                    else 0.03
                end * (case when weight > 0 then 1 else 0 end) as p
            from demo_work.customer_days
        ),
        tickets as (
            select customer_num, customer_id, d,
                cast(day_date as timestamp)
                    + to_seconds(cast(floor(86399 * {uniform(s, 'customer_num', 'd', "'tt'")}) as bigint))
                    as created_at,
                {uniform(s, 'customer_num', 'd', "'tp'")} as u_priority
            from rates
            where {uniform(s, 'customer_num', 'd', "'tk'")} < p
        )
        select
            'T-' || customer_num || '-' || d as ticket_id,
            customer_id,
            created_at,
            case when u_priority < 0.35 then 'low' when u_priority < 0.8 then 'normal'
                 when u_priority < 0.95 then 'high' else 'urgent' end as priority,
            created_at + to_seconds(cast(600 + 7200 * u_priority as bigint)) as loaded_at
        from tickets
        order by loaded_at
    """)


def check_options(opts: Options) -> None:
    if opts.events < 1:
        raise CesError(f"EVENTS is {opts.events}; allowed: a whole number of at least 1, the approximate "
                       "number of demo product-event rows (default 400000). Nothing was changed.")
    if opts.customers < 1:
        raise CesError(f"CUSTOMERS is {opts.customers}; allowed: a whole number of at least 1 "
                       "(default 2000). Nothing was changed.")


def decide(opts: Options, wh: engines.Warehouse, owned: set[str], built: set[str]) -> tuple[bool, ownership.Contents]:
    """The ownership rules on this warehouse's contents, with their reason logged: write demo
    data (True), or leave the warehouse as it is (False); a refusal raises CesError."""
    contents = wh.contents(owned, built)
    go, note = ownership.should_generate(contents, wh.name, if_empty=opts.if_empty, force=opts.force,
                                         raw_schema=opts.raw_schema, renamed=opts.renamed,
                                         raw_database=opts.raw_database)
    if note:
        log(opts, note)
    return go, contents


def generate_on_server(opts: Options, cfg: config.Config) -> dict[str, int]:
    """Demo data on PostgreSQL or Spark (CES_TARGET): generated in a scratch DuckDB file of the
    generator's own (warehouse/demo-for-<engine>.duckdb), then landed (PostgreSQL: COPY; Spark:
    Parquet files with tables over them), under the same ownership rules as a DuckDB file."""
    owned, built = artifacts.project_objects()
    wh = engines.open_warehouse(cfg, read_only=False)
    try:
        go, _contents = decide(opts, wh, owned, built)
        if not go:
            return {}
        scratch = Path(opts.path).parent / f"demo-for-{opts.target}.duckdb"
        scratch.unlink(missing_ok=True)
        generated = generate(Options(**{**opts.__dict__, "path": str(scratch), "if_empty": False,
                                        "force": False, "target": "duckdb"}))
        for schema in ownership.schemas_to_drop(owned, wh.schemas(), keep={"raw", "demo", opts.raw_schema}):
            wh.drop_schema(schema)
        # the marker last: a landing that stops half-way leaves no complete demo marker
        names = [*ownership.GENERATED_TABLES, *([ownership.DEFECTS_TABLE] if opts.defects else []),
                 ownership.DEMO_MARKER]
        wh.land(scratch, [tuple(n.split(".", 1)) for n in names],  # type: ignore[misc]
                log=lambda m: log(opts, f"landing {m}"))
        log(opts, f"landed in {wh.name}: " + ", ".join(f"{k} {v:,}" for k, v in generated.items()))
        return generated
    finally:
        wh.close()


def generate_in_file(opts: Options, cfg: config.Config) -> dict[str, int]:
    """Demo data written straight into the DuckDB file opts.path."""
    os.makedirs(os.path.dirname(os.path.abspath(opts.path)), exist_ok=True)
    wh = DuckDBWarehouse.open(cfg, read_only=False, path=opts.path)
    con = wh.con
    try:
        con.execute(f"set temp_directory='{os.path.dirname(os.path.abspath(opts.path))}/tmp'")
        con.execute("set memory_limit='4GB'")
        owned, built = artifacts.project_objects()
        go, contents = decide(opts, wh, owned, built)
        if not go:
            return counts(con) if contents.demo_complete and opts.if_empty else {}
        started = time.time()
        log(opts, f"generating ~{opts.events:,} events for {opts.customers:,} customers "
                  f"(seed {opts.seed}, history ending {opts.end_date}) into {opts.path}")
        dropped = ownership.schemas_to_drop(owned, wh.schemas(), keep={"raw", "demo", opts.raw_schema})
        for schema in dropped:
            wh.drop_schema(schema)
        if dropped:
            log(opts, "dropped what dbt built from the old data: schemas " + ", ".join(dropped))
        mark_generated(con, opts)
        create_schemas(con)
        load_customers(con, opts)
        scale = plan_days(con, opts)
        insert_events(con, opts, scale)
        insert_tickets(con, opts)
        truth = decide_outcomes(con, opts)
        log(opts, f"outcomes drawn from the events (churn intercept {truth['churn_intercept']})")
        con.execute("drop schema demo_work cascade")
        if opts.defects:
            added = defects.inject(con, opts.seed, opts.end_date)
            log(opts, "defects injected: " + ", ".join(f"{k} {v}" for k, v in added.items()))
        con.execute(f"update {ownership.DEMO_MARKER} set complete = true")
        result = counts(con)
        log(opts, "done in {:.0f} s: {}".format(
            time.time() - started, ", ".join(f"{k} {v:,}" for k, v in result.items())))
        return result
    finally:
        wh.close()


def generate(opts: Options, cfg: config.Config | None = None) -> dict[str, int]:
    check_options(opts)
    cfg = dataclasses.replace(cfg or config.load(), target=opts.target)
    if engines.engine_class(cfg).lands_from_scratch:
        return generate_on_server(opts, cfg)
    return generate_in_file(opts, cfg)


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = ["raw.product_events", "raw.support_tickets", "raw.customers",
              "raw.customer_outcomes", "demo.customer_archetypes"]
    return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def parse_args(argv: list[str] | None = None, cfg: config.Config | None = None) -> Options:
    cfg = cfg or config.load()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--path", default=cfg.duckdb_path)
    p.add_argument("--events", type=int, default=DEFAULT_EVENTS,
                   help="approximate number of product-event rows (default %(default)s)")
    p.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--end-date", type=dt.date.fromisoformat, default=Options.end_date,
                   help="last day of history (default %(default)s)")
    p.add_argument("--if-empty", action="store_true",
                   help="write demo data only into a file that holds no raw table (what make build runs)")
    p.add_argument("--force", action="store_true",
                   help="replace raw.customers, raw.product_events, raw.support_tickets and raw.customer_outcomes even when they "
                        "are not demo data (FORCE=1); no other table is touched")
    p.add_argument("--vars", default=None,
                   help="the dbt --vars of the build (YAML): demo data is written only for ces_raw_schema raw "
                        "and the raw tables' own names (ces_<table>_identifier)")
    p.add_argument("--defects", action="store_true",
                   help="inject every catalogued defect (see cestools/defects.py and docs/data-quality.md)")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    project_vars = settings.project_vars(a.vars)
    return Options(path=a.path, events=a.events, customers=a.customers, seed=a.seed,
                   end_date=a.end_date, if_empty=a.if_empty, defects=a.defects,
                   quiet=a.quiet, force=a.force, raw_schema=str(project_vars.get("ces_raw_schema", "raw")),
                   raw_database=project_vars.get("ces_raw_database"),
                   renamed=ownership.renamed_raw_tables(project_vars), target=cfg.target)


def main(argv: list[str] | None = None) -> int:
    generate(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(errors.run(main))
