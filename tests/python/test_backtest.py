"""Backtests: point in time, the arithmetic against an independent oracle and a hand-made
dataset worked out by hand, agreement with the mart, the suggested weights against the planted
truth, and the refusals."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import duckdb
import pytest
from conftest import ROOT, create_raw, dbt, flag_backtest_and_suggestions, generate, query
from oracle import backtest as oracle_backtest

from cestools import backtest

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow

D = dt.date(2026, 3, 31)


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def hand_db(tmp_path_factory):
    """Seven active customers, three trials and the point-in-time traps, backtested at
    2026-03-31 (v1 in force: session_started 1, report_created 5)."""
    db = tmp_path_factory.mktemp("hand") / "ces.duckdb"
    con = create_raw(db)
    con.execute("create table raw.customer_outcomes (customer_id varchar, outcome varchar, "
                "occurred_at timestamp, loaded_at timestamp)")
    crm = [("A", "active", "2026-01-01 08:00"), ("B", "active", "2026-01-01 08:00"),
           ("C", "active", "2026-01-01 08:00"), ("D", "active", "2026-01-01 08:00"),
           ("E", "active", "2026-01-01 08:00"), ("E", "churned", "2026-04-01 10:00"),  # loaded after D
           ("F", "active", "2026-04-01 09:00"),  # first known after D
           ("G", "active", "2026-01-01 08:00"), ("H", "active", "2026-01-01 08:00"),
           ("I", "active", "2026-01-01 08:00"), ("J", "active", "2026-01-01 08:00"),
           ("T1", "trial", "2026-03-01 08:00"), ("T2", "trial", "2026-03-01 08:00"),
           ("T3", "trial", "2026-03-01 08:00")]
    for cid, stage, loaded in crm:
        con.execute("insert into raw.customers values (?, ?, 'SMB', ?, ?, 'US', ?, ?)",
                    [cid, f"{cid} Ltd", "trial" if stage == "trial" else "starter", stage,
                     ts("2025-12-01 08:00"), ts(loaded)])
    events = [("A", "report_created", "2026-03-10 10:00", "2026-03-10 10:05"),
              ("A", "report_created", "2026-03-11 10:00", "2026-03-11 10:05"),
              ("A", "session_started", "2026-01-15 10:00", "2026-01-15 10:05"),  # before the window
              *[("B", "session_started", f"2026-03-{day:02d} 09:00", f"2026-03-{day:02d} 09:05")
                for day in (2, 5, 9, 16, 30)],
              ("C", "report_created", "2026-03-12 10:00", "2026-03-12 10:05"),
              ("C", "report_created", "2026-03-20 10:00", "2026-04-02 08:00"),  # loaded after D
              ("E", "session_started", "2026-03-31 23:00", "2026-03-31 23:30"),
              *[("I", "session_started", f"2026-03-{day:02d} 09:00", f"2026-03-{day:02d} 09:05")
                for day in (3, 4, 5)]]
    for n, (cid, name, occurred, loaded) in enumerate(events):
        con.execute("insert into raw.product_events values (?, ?, 'u1', ?, ?, ?)",
                    [f"e{n}", cid, name, ts(occurred), ts(loaded)])
    outcomes = [("C", "churned", "2026-04-10 12:00"), ("D", "churned", "2026-04-20 12:00"),
                ("E", "churned", "2026-04-01 09:00"),
                ("G", "churned", "2026-03-10 12:00"),  # before D, CRM not updated: left out
                ("J", "churned", "2026-03-31 23:59:59"),  # on D itself: happened by D, left out
                ("H", "churned", "2026-04-30 23:59:59"),  # the last second of (D, D + 30]
                ("I", "churned", "2026-05-01 00:00:00"),  # the first second after it: negative
                ("T1", "converted", "2026-04-05 12:00")]
    for cid, outcome, occurred in outcomes:
        con.execute("insert into raw.customer_outcomes values (?, ?, ?, ?)",
                    [cid, outcome, ts(occurred), ts(occurred) + dt.timedelta(days=1)])
    con.close()
    dbt(db, "build", vars={"ces_backtest_dates": [str(D)], "ces_allow_empty_window": True})
    return db


def test_point_in_time_counts_only_what_was_loaded_by_the_end_of_d(hand_db):
    scores = dict(query(hand_db, f"""select customer_key, engagement_score from intermediate.int_point_scores
                                    where point_kind = 'backtest' and scoring_date = '{D}'
                                    and weights_version = 'v1'"""))
    assert scores["c"] == 5, "the report_created loaded on 2026-04-02 occurred before D but must not count at D"
    assert scores["a"] == 10 and scores["b"] == 5 and scores["e"] == 1 and scores["i"] == 3


def test_point_in_time_crm_changes_loaded_after_d_do_not_change_the_population(hand_db):
    members = {k: positive for k, positive in query(hand_db, f"""
        select customer_key, is_positive from intermediate.int_backtest_population
        where outcome = 'churned' and backtest_date = '{D}' and weights_version = 'v1'""")}
    assert "e" in members, "E's move to churned was loaded on 2026-04-01: at D it is active"
    assert "f" not in members, "F's first CRM row was loaded after D"
    assert "g" not in members and "j" not in members, "a customer who churned by D is left out"
    assert members["h"] is True and members["i"] is False, "the label window is (D, D + 30 days]"
    assert set(members) == {"a", "b", "c", "d", "e", "h", "i"}


def test_hand_made_auc_and_lift_worked_out_by_hand(hand_db):
    rows = {(v, o): (pop, pos, auc, lift) for v, o, pop, pos, auc, lift in query(hand_db, f"""
        select weights_version, outcome, population, positives, auc, top_decile_lift
        from marts.fct_score_backtest where backtest_date = '{D}' and segment = 'all'""")}
    # v1 oriented scores (minus the score, churn is bad): positives C -5, D 0, E -1, H 0;
    # negatives A -10, B -5, I -3. Pairs won: C 1 + 0.5 (tie with B), D 3, E 3, H 3 = 10.5 of 12.
    # Top decile: ceil(7/10) = 1 customer, D or H (tied at 0, both positive): rate 1 / (4/7).
    pop, pos, auc, lift = rows[("v1", "churned")]
    assert (pop, pos) == (7, 4)
    assert float(auc) == pytest.approx(10.5 / 12, abs=1e-6)
    assert float(lift) == pytest.approx(7 / 4, abs=1e-4)
    # v2 (sessions 0.5, reports 6): C -6 wins only against A: 1 + 3 + 3 + 3 = 10 of 12
    assert float(rows[("v2", "churned")][2]) == pytest.approx(10 / 12, abs=1e-6)
    # tie-heavy: three trials with no events, one converts: AUC exactly 0.5, lift 1
    pop, pos, auc, lift = rows[("v1", "converted")]
    assert (pop, pos, float(auc), float(lift)) == (3, 1, 0.5, 1.0)
    # no upgrade happened: no AUC or lift, but the population is still reported
    pop, pos, auc, lift = rows[("v1", "upgraded")]
    assert pos == 0 and auc is None and lift is None and pop == 9  # recurring: G and J stay; F is unknown at D


def test_hand_made_matches_the_oracle(hand_db):
    assert_matches_oracle(hand_db, dates=[D])


def test_demo_backtest_matches_the_oracle(demo_db):
    assert_matches_oracle(demo_db)


def assert_matches_oracle(db, dates=None):
    expected = oracle_backtest(str(db), dates=dates)
    got = {(d, v, o, s): (pop, pos, auc, lift) for d, v, o, s, pop, pos, auc, lift in query(db, """
        select backtest_date, weights_version, outcome, segment, population, positives, auc, top_decile_lift
        from marts.fct_score_backtest""")}
    assert expected and set(got) == set(expected)
    for k, e in expected.items():
        pop, pos, auc, lift = got[k]
        assert (pop, pos) == (e["population"], e["positives"]), k
        assert (auc is None) == (e["auc"] is None) and (auc is None or abs(float(auc) - e["auc"]) <= 5e-7 + 1e-12), k
        assert (lift is None) == (e["lift"] is None) and (lift is None or abs(float(lift) - e["lift"]) <= 5e-5 + 1e-9), k


def test_the_backtest_at_the_as_of_date_equals_the_mart(tmp_path, demo_db):
    """With everything loaded by D (rows loaded later removed), the backtest at D scores each
    customer exactly as fct_customer_engagement does with ces_as_of_date D, flags included."""
    day = dt.date(2026, 9, 30)
    db = tmp_path / "ces.duckdb"
    generate(db, "--seed", "7", "--events", "100000", "--customers", "600")
    con = duckdb.connect(str(db))
    for table in ("customers", "product_events", "support_tickets", "customer_outcomes"):
        con.execute(f"delete from raw.{table} where loaded_at >= timestamp '{day + dt.timedelta(days=1)}'")
    con.close()
    dbt(db, "build", vars={"ces_as_of_date": str(day), "ces_backtest_dates": [str(day)]})
    columns = ("engagement_score, previous_engagement_score, active_days, distinct_event_types, "
               "days_since_last_event, is_trial_conversion_candidate, is_churn_risk, is_upsell_candidate, "
               "needs_training, segment_percentile")
    mart = query(db, f"select customer_id, weights_version, {columns} from marts.fct_customer_engagement order by 1")
    back = query(db, f"select customer_id, weights_version, {columns} from intermediate.int_point_scores "
                     f"where point_kind = 'backtest' and scoring_date = '{day}' and is_version_in_force order by 1")
    assert len(mart) > 500 and len(back) == len(mart)
    for m, b in zip(mart, back, strict=True):
        assert m[:-1] == b[:-1], (m, b)
        assert abs(float(m[-1]) - b[-1]) <= 0.005 + 1e-9, (m, b)  # the mart rounds the percentile to 2 places


def test_without_outcomes_the_backtest_builds_empty_and_says_so(tmp_path):
    db = tmp_path / "ces.duckdb"
    generate(db, "--seed", "3", "--events", "20000", "--customers", "200")
    con = duckdb.connect(str(db))
    con.execute("drop table raw.customer_outcomes")
    con.close()
    proc = dbt(db, "build")
    assert "raw.customer_outcomes does not exist" in proc.stdout
    assert query(db, "select count(*) from marts.fct_score_backtest") == [(0,)]
    assert query(db, "select count(*) from intermediate.int_point_scores where point_kind = 'backtest'") == [(0,)]
    assert query(db, "select count(*) from intermediate.int_point_scores where point_kind = 'as_of'") == query(db, """
        select count(*) * (select count(distinct weights_version) from staging.stg_weights__event_weights)
        from marts.fct_customer_engagement"""), "the as-of point still scores every customer under every version"
    report = run_backtest(db, "report")
    assert report.returncode != 0 and "The backtest marts are empty" in report.stderr
    assert query(db, "select count(*) from marts.fct_calibration_backtest") == [(0,)]
    calibrate = subprocess.run([sys.executable, "-m", "cestools.calibration", "--outcome", "churned"], cwd=ROOT,
                               capture_output=True, text=True,
                               env={**os.environ, "CES_DUCKDB_PATH": str(db), "CES_TARGET": "duckdb"})
    assert calibrate.returncode != 0 and "no backtest date has an answer yet" in calibrate.stderr


def run_backtest(db, *args):
    return subprocess.run([sys.executable, "-m", "cestools.backtest", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "CES_DUCKDB_PATH": str(db), "CES_TARGET": "duckdb"})


def test_flag_backtest_matches_the_thresholds_it_suggests_from(demo_db, monkeypatch):
    """suggest-thresholds evaluates the flags' own SQL rule over a grid of thresholds: at today's
    vars it must give the mart's precision and recall, or its suggestions would be about another
    rule."""
    lines, totals = flag_backtest_and_suggestions(demo_db, None, monkeypatch)
    for flag, (tp, flagged, pos) in totals.items():
        now = next(line for i, line in enumerate(lines) if i and flag in lines[i - 1] and "now:" in line)
        precision = f"precision {tp / flagged:.2f}" if flagged else "precision -"
        assert precision in now and f"recall {tp / pos:.2f}" in now, (flag, now)


@pytest.mark.parametrize("outcome,drivers", [
    ("churned", {"session_started": +1, "support_ticket_opened": -1}),
    ("converted", {"integration_connected": +1, "user_invited": +1}),
])
def test_suggested_weights_recover_the_planted_truth(demo_db, monkeypatch, outcome, drivers, record_property):
    from cestools import config, engines

    planted = {t: d for o, t, d, _ in query(demo_db, "select * from demo.planted_effects") if o == outcome}
    assert {t: (1 if d == "+" else -1) for t, d in planted.items()} == drivers
    monkeypatch.setenv("CES_DUCKDB_PATH", str(demo_db))
    monkeypatch.setenv("CES_TARGET", "duckdb")
    wh = engines.open_warehouse(config.load())
    try:
        data = backtest.load_dataset(wh, outcome)
        fitted = backtest.fit_weights(data, non_negative=False)
        csv_path, _report, lines = backtest.suggest_weights(wh, outcome, False, 30)
    finally:
        wh.close()
    train = data.frame[data.frame["backtest_date"].isin(backtest.split_dates(data.dates)[0])]
    # effect per standard deviation of the count: comparable across frequent and rare types
    effect = {t: fitted[t] * float(train[t].std()) for t in data.types}
    record_property("figures", f"suggest-weights {outcome}: " + ", ".join(
        f"{t} {effect[t]:+.2f}" for t in sorted(effect, key=lambda t: -abs(effect[t]))))
    ranked = sorted(effect, key=lambda t: -abs(effect[t]))
    assert set(ranked[:len(drivers)]) == set(drivers), f"the largest fitted effects are {ranked[:3]}"
    assert all(effect[t] * sign > 0 for t, sign in drivers.items()), "a planted driver has the wrong sign"
    others = sorted(abs(effect[t]) for t in data.types if t not in drivers)
    strongest = abs(effect[ranked[0]])
    assert others[-1] < strongest / 2 and others[len(others) // 2] < strongest / 5, \
        "the no-signal types are not near zero"
    holdout = next(line for line in lines if "holdout AUC" in line)
    today_auc, new_auc = (float(part.split(":")[1].split()[0]) for part in holdout.split("   ") if ":" in part)
    assert new_auc >= today_auc, holdout
    rows = csv_path.read_text().splitlines()
    assert rows[0] == "weights_version,effective_from,segment,event_type,weight,description"
    assert len(rows) - 1 == len(data.types) and all(r.startswith("v4,") for r in rows[1:])


def test_suggest_weights_refuses_with_too_few_positives(demo_db):
    proc = run_backtest(demo_db, "suggest-weights", "--outcome", "churned", "--min-positives", "100000")
    assert proc.returncode != 0
    assert "at least 100000 are needed" in proc.stderr and "No candidate was written" in proc.stderr
    unknown = run_backtest(demo_db, "suggest-weights", "--outcome", "renewed")
    assert unknown.returncode != 0 and "allowed: an outcome of seeds/ces_outcomes.csv" in unknown.stderr


def test_the_report_ends_with_a_plain_sentence_per_outcome(demo_db):
    proc = run_backtest(demo_db, "report")
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-3:]
    assert [line.split()[0] in {"v1", "v2", "v3"} for line in last] == [True] * 3, last
    assert {o for o in ("churned", "converted", "upgraded") if any(o in line for line in last)} == \
        {"churned", "converted", "upgraded"}
    # before the sentences: the reliability of each outcome's newest calibration, ten deciles each
    deciles = [line.split() for line in proc.stdout.splitlines() if line.startswith("  ") and len(line.split()) == 6
               and line.split()[0] in ("churned", "converted", "upgraded") and line.split()[2].isdigit()]
    assert sorted((d[0], int(d[2])) for d in deciles) == sorted(
        (o, i) for o in ("churned", "converted", "upgraded") for i in range(1, 11)), deciles
    assert sum(1 for line in proc.stdout.splitlines() if "Brier skill" in line) == 3
