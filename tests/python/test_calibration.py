"""Calibrated probabilities: the probability mart against an independent oracle, the SQL model
against the fitter's own arithmetic, `make calibrate` judged on dates the fit never saw, and
its refusals. The hand-worked cases are dbt unit tests (int_outcome_probabilities,
fct_calibration_backtest)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal

import pytest
from conftest import ROOT, dbt, flag_backtest_and_suggestions, query
from oracle import outcome_probabilities

from cestools import calibration, config, engines

# builds the project with dbt: the whole suite, not make test-fast
pytestmark = pytest.mark.slow

FEATURES = ["segment_percentile", "score_change", "days_since_last_event", "active_days", "distinct_event_types"]


def run_calibrate(db, *args):
    return subprocess.run([sys.executable, "-m", "cestools.calibration", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "CES_DUCKDB_PATH": str(db), "CES_TARGET": "duckdb"})


def test_probability_mart_matches_the_oracle(demo_db):
    expected = outcome_probabilities(str(demo_db))
    got = {(cid, o): (float(p), dict(zip(FEATURES, map(float, f), strict=True)))
           for cid, o, p, *f in query(demo_db, f"""
               select customer_id, outcome, probability, {', '.join(FEATURES)}
               from marts.fct_customer_outcome_probability""")}
    assert len(expected) > 1000 and {o for _, o in expected} == {"churned", "converted", "upgraded"}
    assert set(got) == set(expected)
    for k, (p, features) in expected.items():
        assert abs(got[k][0] - p) <= 1e-6, (k, got[k], p, features)
        assert all(abs(got[k][1][f] - v) <= 1e-6 for f, v in features.items()), (k, got[k][1], features)


def test_sql_applies_the_seed_as_the_fitter_does(demo_db, monkeypatch):
    """int_outcome_probabilities (SQL) and calibration.predict (numpy) compute the same model
    from the same seed rows at every point: a candidate's reported holdout measures are then
    what fct_calibration_backtest will show once its rows are in the seed."""
    monkeypatch.setenv("CES_DUCKDB_PATH", str(demo_db))
    monkeypatch.setenv("CES_TARGET", "duckdb")
    wh = engines.open_warehouse(config.load())
    try:
        for outcome in ("churned", "converted", "upgraded"):
            frame = wh.frame(f"""
                select f.*, p.probability, p.calibration_version
                from intermediate.int_outcome_features as f
                inner join intermediate.int_outcome_probabilities as p
                    on f.point_id = p.point_id and f.outcome = p.outcome and f.customer_key = p.customer_key
                where f.outcome = '{outcome}'""")
            assert len(frame) > 100
            with open(ROOT / "seeds" / "ces_calibration.csv", newline="") as f:
                rows = [r for r in csv.DictReader(f) if r["outcome"] == outcome]
            for version in sorted({r["calibration_version"] for r in rows}):
                mine = [r for r in rows if r["calibration_version"] == version]
                fitted = calibration.Fit(
                    outcome, 30, FEATURES,
                    intercept=sum(float(r["coefficient"]) for r in mine if r["term"] == "intercept" and not r["segment"]),
                    coefficients={t: sum(float(r["coefficient"]) for r in mine if r["term"] == t) for t in FEATURES},
                    segment_shifts={r["segment"]: float(r["coefficient"]) for r in mine
                                    if r["term"] == "intercept" and r["segment"]},
                    train_dates=[], holdout_dates=[], train_rate=0.0)
                part = frame[frame["calibration_version"] == version]
                for column in part.columns:
                    if column.startswith("feature_"):
                        part[column] = part[column].astype(float)
                numpy = calibration.predict(fitted, part)
                sql = part["probability"].astype(float).to_numpy()
                assert abs(numpy - sql).max() <= 1e-6, (outcome, version)
    finally:
        wh.close()


def test_calibrate_beats_the_base_rate_on_dates_the_fit_never_saw(demo_db, monkeypatch, record_property):
    """The later third of the backtest dates is the holdout: there the fitted probabilities must
    beat predicting the fitting dates' base rate for everyone (Brier skill above 0), rank the
    outcome better than chance, and the candidate must be in the seed's format (its deciles on
    the default demo: test_demo_story.py)."""
    monkeypatch.setenv("CES_DUCKDB_PATH", str(demo_db))
    monkeypatch.setenv("CES_TARGET", "duckdb")
    wh = engines.open_warehouse(config.load())
    try:
        # every outcome of the demo has at least 30 positives on its fitting and holdout dates
        for outcome in ("churned", "converted", "upgraded"):
            csv_path, report, lines, m = calibration.calibrate(wh, outcome, 30)
            record_property(f"calibrate {outcome}", f"AUC {m['auc']:.3f}, Brier {m['brier']:.4f}, "
                                                    f"base-rate Brier {m['base_brier']:.4f}, skill {m['skill']:+.3f}")
            assert m["skill"] > 0 and m["auc"] > 0.6, (outcome, m)
            with open(csv_path, newline="") as f:
                rows = list(csv.reader(f))
            assert rows[0] == calibration.SEED_COLUMNS
            assert {r[3] for r in rows[1:]} == {"intercept", *FEATURES}
            assert {r[0] for r in rows[1:]} == {"v2"} and {r[2] for r in rows[1:]} == {outcome}
            assert any("reliability on the holdout" in line for line in lines) and report.exists()
    finally:
        wh.close()


def test_calibrate_refuses_with_too_few_positives_or_an_unknown_outcome(demo_db):
    few = run_calibrate(demo_db, "--outcome", "churned", "--min-positives", "100000")
    assert few.returncode != 0
    assert "at least 100000 are needed" in few.stderr and "No candidate was written" in few.stderr
    unknown = run_calibrate(demo_db, "--outcome", "renewed")
    assert unknown.returncode != 0 and "allowed: an outcome of seeds/ces_outcomes.csv" in unknown.stderr
    missing = run_calibrate(demo_db)
    assert missing.returncode != 0 and "OUTCOME is missing" in missing.stderr


PROBABILITY_VARS = {"ces_trial_min_probability": 0.25, "ces_churn_min_probability": 0.06,
                    "ces_upsell_min_probability": 0.03}
FLAG_OUTCOMES = {"is_trial_conversion_candidate": ("converted", "ces_trial_min_probability", "conversion"),
                 "is_churn_risk": ("churned", "ces_churn_min_probability", "churn"),
                 "is_upsell_candidate": ("upgraded", "ces_upsell_min_probability", "upgrade")}


def test_flags_by_probability_follow_the_oracles_probabilities(demo_db, tmp_path, monkeypatch):
    """With the three ces_*_min_probability vars set, each flag of fct_customer_engagement is
    raised exactly for the customers whose probability (recomputed by the oracle from raw
    data) reaches its var, its reason gives that probability, and the backtest of those flags
    (fct_flag_backtest) is the suggest-thresholds grid's row at the same minimum."""
    db = tmp_path / "ces.duckdb"
    shutil.copy2(demo_db, db)
    cli_vars = json.dumps(PROBABILITY_VARS)
    dbt(db, "run", "-s", "int_point_flags+", vars=PROBABILITY_VARS)
    expected = outcome_probabilities(str(db))
    rows = query(db, f"""select customer_id, flag_reasons, {', '.join(FLAG_OUTCOMES)}
                         from marts.fct_customer_engagement""")
    assert len(rows) > 1000
    raised = dict.fromkeys(FLAG_OUTCOMES, 0)
    for customer_id, reasons, *flags in rows:
        for (flag, (outcome, name, words)), is_flagged in zip(FLAG_OUTCOMES.items(), flags, strict=True):
            p = expected.get((customer_id, outcome), (None,))[0]
            p = None if p is None else round(p, 6)  # the mart stores 6 decimals
            assert is_flagged == (p is not None and p >= PROBABILITY_VARS[name]), (customer_id, flag, p)
            if is_flagged:
                raised[flag] += 1
                percent = int(Decimal(str(p * 100)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
                assert f"{words} probability {percent}% within 30 days" in reasons, (customer_id, reasons, p)
            else:
                assert f"{words} probability" not in (reasons or "")
    assert all(raised.values()), raised  # each definition raised some flags on this demo

    lines, totals = flag_backtest_and_suggestions(db, cli_vars, monkeypatch)
    for flag, (_outcome, name, _words) in FLAG_OUTCOMES.items():
        tp, flagged, pos = totals[flag]
        now = lines[lines.index(next(line for line in lines if f"{flag} by probability" in line)) + 1]
        assert f"{name}: {PROBABILITY_VARS[name]:g}" in now, now
        precision = f"precision {tp / flagged:.2f}" if flagged else "precision -"
        assert precision in now and f"recall {tp / pos:.2f}" in now, (flag, now)
