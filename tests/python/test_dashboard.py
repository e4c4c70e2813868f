"""The dashboard in a real browser: the demo warehouse is built and published, the dashboard is
started on a free port of 127.0.0.1 and driven in headless Chromium (Debian's package, through
Playwright). Each page must draw its charts with no error element, and show the numbers the
serving data holds; the weights lab's what-if is checked against a direct SQL computation.
A screenshot of each page is saved under warehouse/test/screenshots/ (docs/dashboard.md shows them)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import ROOT

from devtools import browser

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow

SCREENSHOTS = ROOT / "warehouse" / "test" / "screenshots"
PAGES = {"segments": "", "uses": "uses", "customer": "customer", "weights-lab": "weights-lab",
         "data-health": "data-health", "backtest": "backtest"}


def num(text: str) -> float:
    return float(text.replace(",", "").replace("–", "nan"))


@pytest.fixture(scope="module")
def serving(demo_serving) -> Path:
    return demo_serving


@pytest.fixture(scope="module")
def app(serving) -> str:
    with browser.dashboard(serving, serving.parent / "dashboard.log") as url:
        yield url


@pytest.fixture(scope="module")
def page():
    with browser.browser() as p:
        yield p


def sql(serving: Path, query: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def table_text(page, column: str) -> str:
    """The text of the one table on the page with this column: found by what it shows, not by
    its place. No waiting here: open_page must not return before every table is on the page."""
    tables = page.locator('[data-testid="stTable"]').filter(has_text=column)
    assert tables.count() == 1, f"{tables.count()} tables show {column}"
    return tables.first.inner_text()


def assert_clean(page, name: str) -> None:
    assert page.locator(browser.ERROR_SELECTOR).count() == 0, \
        f"{name}: an error element is shown: {page.locator(browser.ERROR_SELECTOR).all_inner_texts()}"
    assert "Traceback" not in page.inner_text("body"), f"{name}: a traceback is shown"


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_draws_its_charts_without_error_and_is_screenshotted(app, page, name):
    browser.open_page(page, f"{app}/{PAGES[name]}")
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 1, f"{name}: no chart"
    assert_clean(page, name)
    browser.screenshot(page, SCREENSHOTS / f"{name}.png")
    assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
    # the picture shows what a user sees: every table on show laid out to its width
    _elements, _height, *table_widths = page.evaluate(browser.SHAPE_JS)
    assert all(w >= 200 for w in table_widths), f"{name}: a table is not laid out yet: {table_widths}"
    if name == "uses":
        assert table_widths, "the uses page shows the flagged customers of the open tab"


def test_segments_page_shows_each_segments_customers_and_table(app, page, serving):
    browser.open_page(page, f"{app}/")
    expected = sql(serving, "select segment, customers, avg_engagement_score from fct_segment_engagement")
    assert len(expected) >= 2
    table = table_text(page, "avg_engagement_score")
    for segment, customers, avg in expected:
        assert browser.metric(page, f"{segment} customers") == f"{customers:,}"
        assert f"{float(avg):,.1f}" in table, (segment, avg)


def test_uses_page_counts_each_flag_as_the_serving_data(app, page, serving):
    browser.open_page(page, f"{app}/uses")
    flags = {"is_trial_conversion_candidate": "Trial users likely to convert",
             "is_churn_risk": "Customers close to churn",
             "is_upsell_candidate": "Upsell and cross-sell candidates",
             "needs_training": "Customers who need product training"}
    for flag, label in flags.items():
        expected = sql(serving, f"select count(*) from fct_customer_engagement where {flag}")[0][0]
        assert expected > 0, flag
        page.get_by_role("tab", name=label).click()
        assert num(browser.metric(page, f"{label}: customers flagged")) == expected, flag
    assert_clean(page, "uses")


def test_customer_page_shows_the_customers_score_tier_reasons_and_contributions(app, page, serving):
    customer_id, score, tier, percentile, reasons = sql(serving, """
        select customer_id, engagement_score, engagement_tier, segment_percentile, flag_reasons
        from fct_customer_engagement where is_churn_risk and event_count > 0
        order by customer_id limit 1""")[0]
    browser.open_page(page, f"{app}/customer?customer={customer_id}")
    assert num(browser.metric(page, "Score")) == pytest.approx(float(score), abs=0.05)
    assert browser.metric(page, "Tier") == tier
    assert num(browser.metric(page, "Segment percentile")) == pytest.approx(float(percentile), abs=0.005)
    assert reasons in page.inner_text("body")
    contributions = sql(serving, "select event_type, contribution from fct_customer_event_contributions "
                                 "where customer_id = ?", [customer_id])
    table = table_text(page, "weight_source")
    for event_type, contribution in contributions:
        assert event_type in table and f"{float(contribution):.4f}" in table, event_type
    assert_clean(page, "customer")


def test_customer_page_shows_the_customers_calibrated_probabilities(app, page, serving):
    customer_id = sql(serving, """select customer_id from fct_customer_outcome_probability
                                  group by customer_id order by count(*) desc, customer_id limit 1""")[0][0]
    chances = sql(serving, """select outcome, horizon_days, probability from fct_customer_outcome_probability
                              where customer_id = ?""", [customer_id])
    assert chances, "the demo ships a calibration per outcome"
    browser.open_page(page, f"{app}/customer?customer={customer_id}")
    for outcome, horizon, probability in chances:
        assert browser.metric(page, f"{outcome} within {horizon} days") == f"{float(probability):.1%}", outcome
    assert_clean(page, "customer")


def test_uses_page_orders_an_outcomes_list_by_its_probability_and_downloads_it(app, page, serving):
    """The churn list, ordered by the probability of churning by default, downloads as CSV with
    that probability: the flagged customers, their probabilities as the mart holds them, in
    descending order."""
    browser.open_page(page, f"{app}/uses")
    label = "Customers close to churn"
    page.get_by_role("tab", name=label).click()
    with page.expect_download() as download:
        page.locator('[data-testid="stDownloadButton"]:visible button').click()
    rows = download.value.path().read_text().splitlines()
    header = rows[0].split(",")
    assert "probability" in header and "horizon_days" in header, header
    got = {line.split(",")[0]: float(line.split(",")[header.index("probability")]) for line in rows[1:]}
    expected = dict(sql(serving, """
        select e.customer_id, p.probability from fct_customer_engagement as e
        inner join fct_customer_outcome_probability as p
            on p.customer_id = e.customer_id and p.outcome = 'churned'
        where e.is_churn_risk"""))
    assert len(got) == sql(serving, "select count(*) from fct_customer_engagement where is_churn_risk")[0][0]
    assert got == {k: pytest.approx(float(v), abs=1e-6) for k, v in expected.items()}
    order = list(got.values())
    assert order == sorted(order, reverse=True), "ordered by the probability, highest first"


def test_backtest_page_shows_the_reliability_and_brier_skill_of_each_calibration(app, page, serving):
    browser.open_page(page, f"{app}/backtest")
    assert page.get_by_text("Calibrated probabilities", exact=True).count() == 1
    skills = sql(serving, """select outcome, calibration_version, avg(brier_skill) from (
                                select distinct outcome, calibration_version, backtest_date, brier_skill
                                from fct_calibration_backtest) group by all""")
    assert skills
    table = table_text(page, "mean_brier_skill")
    for outcome, version, skill in skills:
        assert outcome in table and version in table and f"{float(skill):.3f}" in table, (outcome, version, skill)
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 3, "AUC, reliability and Brier skill charts"
    assert_clean(page, "backtest")


def test_data_health_page_accounts_for_every_raw_row(app, page, serving):
    browser.open_page(page, f"{app}/data-health")
    total = sql(serving, "select sum(event_count) from fct_event_reconciliation")[0][0]
    quarantined = sql(serving, "select count(*) from fct_quarantined_events")[0][0]
    body = page.inner_text("body")
    assert f"Every raw row accounted for: {total:,}" in body
    assert f"Quarantine: {quarantined:,} rows" in body
    assert quarantined > 0, "the demo data has defects: some rows are quarantined"


def test_backtest_page_shows_the_mean_auc_of_each_version(app, page, serving):
    browser.open_page(page, f"{app}/backtest")
    means = sql(serving, """select outcome, weights_version, avg(auc) from fct_score_backtest
                            where segment = 'all' group by all""")
    assert means
    table = table_text(page, "mean_top_decile_lift")
    for outcome, version, auc in means:
        assert outcome in table and version in table and f"{auc:.3f}" in table, (outcome, version, auc)


# the what-if, recomputed in SQL from the serving data alone: the rules of
# int_point_scores (override else default, percent_rank in the segment, the
# highest tier reached, dormant without events), written independently of the dashboard's pandas
WHAT_IF_SQL = """
with weights as (
    select segment, event_type,
           case when $segment = '' and segment is null and event_type = $edited then $new_weight
                else weight end as weight
    from dim_event_weights where weights_version = $version
),
resolved as (
    select c.segment, d.event_type,
           case when c.segment = $segment and d.event_type = $edited then $new_weight
                else coalesce(o.weight, d.weight) end as weight
    from (select distinct segment from fct_customer_engagement) c
    cross join (select * from weights where segment is null) d
    left join (select * from dim_event_weights where weights_version = $version and weight_source = 'segment') o
        on o.segment = c.segment and o.event_type = d.event_type
),
scores as (
    select e.customer_id, e.segment,
           round(coalesce(sum(coalesce(r.weight, 0) * x.event_count), 0), 4) as score,
           coalesce(sum(x.event_count), 0) as events
    from fct_customer_engagement e
    left join fct_customer_event_contributions x on x.customer_id = e.customer_id
    left join resolved r on r.segment = e.segment and r.event_type = x.event_type
    group by all
),
ranked as (
    select *, 100 * percent_rank() over (partition by segment order by score) as pct from scores
)
select customer_id, score,
       case when events = 0 then (select engagement_tier from dim_engagement_tiers where min_segment_percentile is null)
            else (select engagement_tier from dim_engagement_tiers t where t.min_segment_percentile <= pct
                  order by t.min_segment_percentile desc limit 1) end as tier
from ranked
"""


def what_if(serving: Path, version: str, edited: str = "", new_weight: float = 0.0,
            segment: str = "") -> dict[str, tuple]:
    """Every customer's (score, tier level) under version, with one weight edited: the default
    (segment '') or one segment's."""
    con = duckdb.connect(str(serving), read_only=True)
    try:
        rows = con.execute(WHAT_IF_SQL, {"version": version, "edited": edited, "new_weight": new_weight,
                                         "segment": segment}).fetchall()
        levels = dict(con.execute("select engagement_tier, tier_level from dim_engagement_tiers").fetchall())
    finally:
        con.close()
    return {c: (float(s), levels[t]) for c, s, t in rows}


def moves(base: dict, compare: dict) -> tuple[int, int, float]:
    up = sum(compare[c][1] > base[c][1] for c in base)
    down = sum(compare[c][1] < base[c][1] for c in base)
    mean = sum(compare[c][0] - base[c][0] for c in base) / len(base)
    return up, down, mean


def test_weights_lab_shows_the_impact_and_a_live_what_if(app, page, serving):
    browser.open_page(page, f"{app}/weights-lab")
    base, compare = sql(serving, "select distinct base_version, compare_version from fct_weights_change_impact")[0]
    assert page.get_by_text(f"Impact of {base} → {compare}", exact=True).count() == 1, \
        "the lab opens on the pair the impact mart compares (in force vs newest)"
    up, down = sql(serving, """select count(*) filter (where tier_change = 'up'),
                                      count(*) filter (where tier_change = 'down') from fct_weights_change_impact""")[0]
    assert num(browser.metric(page, "Customers whose tier rises")) == up
    assert num(browser.metric(page, "Customers whose tier falls")) == down
    base_scores = what_if(serving, base)
    assert moves(base_scores, what_if(serving, compare))[:2] == (up, down), "the SQL oracle agrees with the mart"

    edited, new_weight = "integration_connected", 60.0
    field = page.get_by_label(edited)
    field.fill(f"{new_weight:g}")
    field.press("Enter")
    page.get_by_text(f"Impact of {base} → {compare} + 1 edit(s)", exact=True).wait_for()
    browser.wait_drawn(page)
    up, down, mean = moves(base_scores, what_if(serving, compare, edited, new_weight))
    assert (up, down) != moves(base_scores, what_if(serving, compare))[:2], "the edit changes the impact"
    assert num(browser.metric(page, "Customers whose tier rises")) == up
    assert num(browser.metric(page, "Customers whose tier falls")) == down
    assert num(browser.metric(page, "Mean score change")) == pytest.approx(mean, abs=0.005)
    changed = page.locator('[data-testid="stTable"]').filter(has_text=edited).filter(has_text="60.0000")
    changed.first.wait_for()
    assert_clean(page, "weights-lab")
    browser.screenshot(page, SCREENSHOTS / "weights-lab-what-if.png")

    with page.expect_download() as download:
        page.get_by_role("button", name="as rows of seeds/ces_event_weights.csv").click()
    rows = [line.split(",") for line in Path(download.value.path()).read_text().splitlines()]
    version = rows[0][0]
    assert version not in [v for (v,) in sql(serving, "select distinct weights_version from dim_event_weights")]
    assert all(r[0] == version for r in rows)
    defaults = {r[3]: float(r[4]) for r in rows if r[2] == ""}
    assert defaults[edited] == new_weight

    # one segment's weight: an override row for that segment only, on top of the first edit
    page.get_by_role("button", name="Reset the edits").click()
    page.get_by_text(f"Impact of {base} → {compare}", exact=True).wait_for()
    segment = sql(serving, "select segment from fct_segment_engagement order by customers desc limit 1")[0][0]
    page.get_by_label("Edit the weights of").click()
    page.get_by_role("option", name=segment, exact=True).click()
    page.get_by_text(f"The weights that apply to {segment}:").wait_for()
    browser.wait_single(page, "report_shared")
    field = page.get_by_label("report_shared")
    field.fill("40")
    field.press("Enter")
    page.get_by_text(f"Impact of {base} → {compare} + 1 edit(s)", exact=True).wait_for()
    browser.wait_drawn(page)
    up, down, mean = moves(base_scores, what_if(serving, compare, "report_shared", 40.0, segment))
    assert num(browser.metric(page, "Customers whose tier rises")) == up
    assert num(browser.metric(page, "Customers whose tier falls")) == down
    assert num(browser.metric(page, "Mean score change")) == pytest.approx(mean, abs=0.005)
    with page.expect_download() as download:
        page.get_by_role("button", name="as rows of seeds/ces_event_weights.csv").click()
    rows = [line.split(",") for line in Path(download.value.path()).read_text().splitlines()]
    assert [float(r[4]) for r in rows if r[2] == segment and r[3] == "report_shared"] == [40.0]
    assert {r[3]: float(r[4]) for r in rows if r[2] == ""}[edited] != new_weight, "the reset undid the first edit"
    assert_clean(page, "weights-lab")


def test_without_serving_data_every_page_says_to_run_make_build(page, tmp_path):
    with browser.dashboard(tmp_path / "missing.duckdb", tmp_path / "dashboard.log") as url:
        for name, path in PAGES.items():
            page.goto(f"{url}/{path}")
            page.get_by_text("There is no serving data at").first.wait_for()
            assert "run make build" in page.inner_text("body"), name
            assert_clean(page, name)


def test_the_dashboard_exposure_names_exactly_the_marts_it_reads(demo_db):
    import json
    import re

    from cestools.dashboard import data

    manifest = json.loads((demo_db.parent / "target" / "manifest.json").read_text())
    exposure = manifest["exposures"]["exposure.ces.dashboard"]
    declared = {uid.split(".")[-1] for uid in exposure["depends_on"]["nodes"]}
    read = {name for sql_ in data.TABLES.values() for name in re.findall(r"\b((?:fct|dim)_\w+)", sql_)}
    assert declared == read
    served = manifest["exposures"]["exposure.ces.bi_serving"]["depends_on"]["nodes"]
    public = {uid for uid, n in manifest["nodes"].items() if n["resource_type"] == "model" and n.get("access") == "public"}
    assert public == set(served), "bi_serving lists every published mart"


def test_the_dashboard_page_shows_a_screenshot_of_every_page():
    readme = (ROOT / "docs" / "dashboard.md").read_text()
    for name in [*PAGES, "weights-lab-what-if"]:
        shot = f"screenshots/{name}.png"
        assert f"({shot})" in readme, shot
        assert (ROOT / "docs" / shot).stat().st_size > 10_000, shot


def test_a_new_publish_shows_on_the_next_page_view_and_is_never_blocked(page, demo_serving, tmp_path):
    """The dashboard holds no handle on the serving file between page views: a publish (a new
    file renamed over it) is not blocked, and the next view shows the new numbers."""
    import os
    import shutil

    served = tmp_path / "serving.duckdb"
    shutil.copy(demo_serving, served)
    segment, customers = sql(served, "select segment, customers from fct_segment_engagement order by segment")[0]
    with browser.dashboard(served, tmp_path / "dashboard.log") as url:
        browser.open_page(page, f"{url}/")
        assert browser.metric(page, f"{segment} customers") == f"{customers:,}"
        staged = tmp_path / ".serving.duckdb.tmp"
        shutil.copy(served, staged)
        con = duckdb.connect(str(staged))
        con.execute("update fct_segment_engagement set customers = customers + 1000 where segment = ?", [segment])
        con.close()
        os.replace(staged, served)
        browser.open_page(page, f"{url}/")
        assert browser.metric(page, f"{segment} customers") == f"{customers + 1000:,}"
