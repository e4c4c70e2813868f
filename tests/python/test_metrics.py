"""The semantic layer: MetricFlow's configs validate, and every metric, queried with `mf query`
through the profile target `serving` (the published file, as `make metrics` reads it), equals
a plain SQL computation on the same serving data."""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, copy_project

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow

CUSTOMER_METRICS = ["customers_scored", "total_engagement_score", "avg_engagement_score",
                    "median_engagement_score", "avg_engagement_change", "trial_conversion_candidates",
                    "churn_risks", "upsell_candidates", "training_candidates", "trial_conversion_rate",
                    "churn_risk_rate", "upsell_rate", "training_rate", "share_champion", "share_engaged",
                    "share_passive", "share_at_risk", "share_dormant"]
# each metric as plain SQL over fct_customer_engagement
CUSTOMER_SQL = {
    "customers_scored": "count(*)",
    "total_engagement_score": "sum(engagement_score)",
    "avg_engagement_score": "avg(engagement_score)",
    "median_engagement_score": "median(engagement_score)",
    "avg_engagement_change": "avg(engagement_change)",
    "trial_conversion_candidates": "count(*) filter (where is_trial_conversion_candidate)",
    "churn_risks": "count(*) filter (where is_churn_risk)",
    "upsell_candidates": "count(*) filter (where is_upsell_candidate)",
    "training_candidates": "count(*) filter (where needs_training)",
    "trial_conversion_rate": "avg(case when is_trial_conversion_candidate then 1.0 else 0 end)",
    "churn_risk_rate": "avg(case when is_churn_risk then 1.0 else 0 end)",
    "upsell_rate": "avg(case when is_upsell_candidate then 1.0 else 0 end)",
    "training_rate": "avg(case when needs_training then 1.0 else 0 end)",
    **{f"share_{t}": f"avg(case when engagement_tier = '{t}' then 1.0 else 0 end)"
       for t in ("champion", "engaged", "passive", "at_risk", "dormant")},
}


@pytest.fixture(scope="module")
def mf_project(demo_db, demo_serving, tmp_path_factory):
    """A project copy holding the demo build's semantic manifest, with the env that points the
    `serving` target at the published file."""
    project = copy_project(tmp_path_factory.mktemp("mf") / "project")
    (project / "target").mkdir()
    shutil.copy2(demo_db.parent / "target" / "semantic_manifest.json", project / "target")
    env = {**os.environ, "CES_TARGET": "serving", "CES_SERVING_PATH": str(demo_serving),
           "DBT_PROFILES_DIR": str(project / "profiles")}
    return project, env


def mf(mf_project, *args: str) -> subprocess.CompletedProcess:
    project, env = mf_project
    proc = subprocess.run([str(BIN / "mf"), *args], cwd=project, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"mf {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}"
    return proc


def query(mf_project, tmp_path: Path, metrics: list[str], group_by: list[str]) -> list[dict]:
    out = tmp_path / f"mf_{len(list(tmp_path.iterdir()))}.csv"
    args = ["query", "--metrics", ",".join(metrics), "--csv", str(out)]
    if group_by:
        args += ["--group-by", ",".join(group_by)]
    mf(mf_project, *args)
    with open(out) as f:
        return list(csv.DictReader(f))


def sql(serving: Path, text: str) -> list[tuple]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return con.execute(text).fetchall()
    finally:
        con.close()


def close(a, b) -> bool:
    if a in ("", None) or b is None:
        return a in ("", None) and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)


def assert_equal(rows: list[dict], expected: dict[tuple, dict], keys: list[str]) -> None:
    got = {tuple(r[k] for k in keys): r for r in rows}
    assert set(got) == set(expected), (sorted(got), sorted(expected))
    for key, values in expected.items():
        for metric, value in values.items():
            assert close(got[key][metric], value), (key, metric, got[key][metric], value)


def test_mf_validate_configs_passes_against_the_serving_data(mf_project):
    out = mf(mf_project, "validate-configs").stdout
    assert "ERRORS: 0" in out and "against data warehouse" in out, out[-3000:]
    assert "ERRORS: 1" not in out


def test_every_customer_metric_equals_sql_per_segment_and_overall(mf_project, demo_serving, tmp_path):
    select = ", ".join(f"{sql_} as {name}" for name, sql_ in CUSTOMER_SQL.items())
    by_segment = sql(demo_serving, f"select segment, {select} from fct_customer_engagement group by segment")
    assert len(by_segment) >= 3
    expected = {(r[0],): dict(zip(CUSTOMER_SQL, r[1:], strict=True)) for r in by_segment}
    assert_equal(query(mf_project, tmp_path, CUSTOMER_METRICS, ["customer__segment"]), expected,
                 ["customer__segment"])
    overall = sql(demo_serving, f"select {select} from fct_customer_engagement")[0]
    assert_equal(query(mf_project, tmp_path, CUSTOMER_METRICS, []),
                 {(): dict(zip(CUSTOMER_SQL, overall, strict=True))}, [])


def test_metrics_by_plan_stage_tier_and_weights_version(mf_project, demo_serving, tmp_path):
    rows = sql(demo_serving, """select plan, lifecycle_stage, engagement_tier, weights_version, count(*),
                                       sum(engagement_score)
                                from fct_customer_engagement group by all""")
    keys = ["customer__plan", "customer__lifecycle_stage", "customer__engagement_tier", "customer__weights_version"]
    expected = {tuple(r[:4]): {"customers_scored": r[4], "total_engagement_score": r[5]} for r in rows}
    assert_equal(query(mf_project, tmp_path, ["customers_scored", "total_engagement_score"], keys), expected, keys)


def test_contribution_metrics_by_event_type_and_customer_segment(mf_project, demo_serving, tmp_path):
    rows = sql(demo_serving, """select x.event_type, c.segment, sum(x.contribution), sum(x.event_count)
                                from fct_customer_event_contributions x
                                join fct_customer_engagement c using (customer_id) group by all""")
    assert len({r[0] for r in rows}) >= 10
    keys = ["contribution__event_type", "customer__segment"]
    expected = {(r[0], r[1]): {"contribution_points": r[2], "scored_events": r[3]} for r in rows}
    assert_equal(query(mf_project, tmp_path, ["contribution_points", "scored_events"], keys), expected, keys)


def test_mean_outcome_probability_per_segment_and_outcome(mf_project, demo_serving, tmp_path):
    rows = sql(demo_serving, """select p.outcome, c.segment, avg(p.probability), count(*)
                                from fct_customer_outcome_probability p
                                join fct_customer_engagement c using (customer_id) group by all""")
    assert {r[0] for r in rows} == {"churned", "converted", "upgraded"} and len({r[1] for r in rows}) >= 3
    keys = ["customer_outcome__outcome", "customer__segment"]
    expected = {(r[0], r[1]): {"mean_outcome_probability": r[2], "customers_with_a_probability": r[3]} for r in rows}
    assert_equal(query(mf_project, tmp_path, ["mean_outcome_probability", "customers_with_a_probability"], keys),
                 expected, keys)


def test_monthly_score_with_the_weights_of_the_month_and_the_latest(mf_project, demo_serving, tmp_path):
    rows = sql(demo_serving, """select strftime(month_start, '%Y-%m-%d'), sum(engagement_score),
                                       sum(engagement_score_latest_weights), count(*)
                                from fct_customer_engagement_monthly group by all""")
    assert len(rows) >= 4
    differs = [r for r in rows if r[1] != r[2]]
    assert differs, "a weights change in the history makes the two scores differ in some month"
    got = query(mf_project, tmp_path, ["monthly_score", "monthly_score_latest_weights", "customer_months_scored"],
                ["metric_time__month"])
    for r in got:
        r["metric_time__month"] = r["metric_time__month"][:10]
    expected = {(r[0],): {"monthly_score": r[1], "monthly_score_latest_weights": r[2],
                          "customer_months_scored": r[3]} for r in rows}
    assert_equal(got, expected, ["metric_time__month"])


def test_saved_queries_answer_the_readme_questions(mf_project, demo_serving):
    out = mf(mf_project, "query", "--saved-query", "top_churn_risks").stdout
    worst = sql(demo_serving, """select customer_id from fct_customer_engagement where is_churn_risk
                                 order by engagement_change, customer_id limit 1""")[0][0]
    assert worst in out
    out = mf(mf_project, "query", "--saved-query", "tier_shares").stdout
    for (segment,) in sql(demo_serving, "select distinct segment from fct_customer_engagement"):
        assert segment in out
