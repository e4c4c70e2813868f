"""Every catalogued defect has the outcome docs/data-quality.md promises.

The demo warehouse (conftest.demo_db) carries every defect the generator can inject, with the
number of rows planted in demo.injected_defects. The clean generator makes none of the
quarantine reasons, conflicting re-deliveries or unknown customers, so planted counts must
be found exactly. Defects of the weights seed and empty inputs are in test_reliability.py.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT, query
from oracle import key, scores

from cestools.artifacts import check_run_results
from cestools.defects import CATALOGUE

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow

INJECTED = [d for d in CATALOGUE if d.injected]


def test_the_default_size_demo_with_every_defect_passes_a_whole_build(demo_db):
    """make test's dbt build: on a default-size demo with every catalogued defect, every
    model, seed, data test and unit test of the project ran and passed (the publish gate's own
    check, which names what did not), and the defects really were there to be caught."""
    target = demo_db.parent / "target"
    check_run_results(target)  # raises unless every node of the manifest ran and passed
    ran = Counter(r["unique_id"].split(".")[0] for r in json.loads((target / "run_results.json").read_text())["results"])
    assert ran["model"] and ran["seed"] and ran["test"] and ran["unit_test"], ran
    assert set(planted(demo_db)) == {d.code for d in INJECTED} and all(planted(demo_db).values())
    assert query(demo_db, "select count(*) from demo.customer_archetypes")[0][0] == 2000


def planted(db: Path) -> dict[str, int]:
    return dict(query(db, "select defect, rows_added from demo.injected_defects"))


def quarantined(db: Path, source: str, reason: str) -> int:
    return query(db, f"""select count(*) from marts.fct_quarantined_events
                         where event_source = '{source}' and reason = '{reason}'""")[0][0]


def reconciled(db: Path, outcome: str, reason: str) -> int:
    return query(db, f"""select coalesce(sum(event_count), 0) from marts.fct_event_reconciliation
                         where outcome = '{outcome}' and reason = '{reason}'""")[0][0]


def mart_counts(db: Path) -> dict[str, tuple]:
    return {cid: (score, n) for cid, score, n in query(
        db, "select customer_id, engagement_score, event_count from marts.fct_customer_engagement")}


def customers_of(db: Path, id_like: str) -> set[str]:
    return {key(c) for (c,) in query(
        db, f"select distinct customer_id from raw.product_events where event_id like '{id_like}'")}


def check_quarantine(db: Path, code: str, source: str, reason: str) -> None:
    n = planted(db)[code]
    assert n > 0
    assert quarantined(db, source, reason) == n
    assert reconciled(db, "quarantined", reason) >= n


@functools.cache
def oracle_and_mart(db: Path) -> tuple[dict[str, tuple], dict[str, tuple]]:
    """(oracle, mart): customer key -> (score, event count); computed once per warehouse."""
    oracle = {k.lower(): (s.engagement_score, s.event_count) for k, s in scores(str(db)).items()}
    return oracle, {k.lower(): v for k, v in mart_counts(db).items()}


def check_attributed_like_oracle(db: Path, customers: set[str]) -> None:
    """These customers have exactly the oracle's score and event count."""
    assert customers
    oracle, got = oracle_and_mart(db)
    for customer in customers:
        assert got[customer] == oracle[customer], customer


def test_blank_customer_id(demo_db):
    check_quarantine(demo_db, "blank_customer_id", "product", "missing_customer_id")
    raw = {r for (r,) in query(demo_db, """select distinct raw_customer_id from marts.fct_quarantined_events
                                         where reason = 'missing_customer_id'""")}
    assert raw == {None, "   "}, "the original (blank or null) value is kept for inspection"


def test_missing_event_id(demo_db):
    check_quarantine(demo_db, "missing_event_id", "product", "missing_event_id")


def test_missing_occurred_at(demo_db):
    check_quarantine(demo_db, "missing_occurred_at", "product", "missing_occurred_at")


def test_exact_redelivery(demo_db):
    n = planted(demo_db)["exact_redelivery"]
    assert n > 100, "the generator re-delivers about 0.4% of events"
    assert reconciled(demo_db, "deduplicated", "exact_redelivery") == n


def test_conflicting_redelivery(demo_db):
    n = planted(demo_db)["conflicting_redelivery"]
    assert reconciled(demo_db, "deduplicated", "conflicting_redelivery") == n
    # the earliest copy is the one scored: the oracle keeps the earliest too
    conflicting = {key(c) for (c,) in query(demo_db, """
        select distinct customer_id from raw.product_events
        where event_id in (select event_id from raw.product_events where event_id like 'ev_%'
                           group by event_id having count(distinct event_name) > 1)""")}
    check_attributed_like_oracle(demo_db, conflicting)


def test_id_formatting_is_repaired(demo_db):
    assert planted(demo_db)["id_formatting"] > 0
    raw_ids = {c for (c,) in query(demo_db, "select distinct customer_id from raw.product_events "
                                            "where event_id like 'dfx_id_format_%'")}
    assert any(c != c.strip() for c in raw_ids) and any(c.strip() != c.strip().upper() for c in raw_ids)
    # attributed to the CRM customer: none of them is unknown or quarantined
    assert reconciled(demo_db, "unknown_customer", "unknown_customer") == planted(demo_db)[
        "unknown_customer"]
    check_attributed_like_oracle(demo_db, customers_of(demo_db, "dfx_id_format_%"))


def test_unknown_customer_is_held_back(demo_db):
    n = planted(demo_db)["unknown_customer"]
    assert reconciled(demo_db, "unknown_customer", "unknown_customer") == n
    ghosts = customers_of(demo_db, "dfx_unknown_customer_%")
    in_mart = {c.lower() for c in mart_counts(demo_db)}
    assert ghosts and not ghosts & in_mart


def test_unmapped_event_scores_zero(demo_db):
    n = planted(demo_db)["unmapped_event"]
    assert reconciled(demo_db, "scored_in_window", "unmapped_event_type") == n
    rows = query(demo_db, """select count(*), sum(event_count), sum(contribution)
                             from marts.fct_customer_event_contributions
                             where event_type = 'beta_feature_clicked'""")[0]
    assert rows[0] > 0 and rows[1] == n and rows[2] == 0
    check_attributed_like_oracle(demo_db, customers_of(demo_db, "dfx_unmapped_%"))


def test_occurred_after_loaded(demo_db):
    check_quarantine(demo_db, "occurred_after_loaded", "product", "occurred_after_loaded")


def test_occurred_before_lower_bound(demo_db):
    check_quarantine(demo_db, "occurred_before_lower_bound", "product", "occurred_before_lower_bound")


def test_late_arrival_is_scored(demo_db):
    lateness = query(demo_db, """select min(loaded_at - occurred_at), max(loaded_at - occurred_at)
                                 from raw.product_events where event_id like 'dfx_late_%'""")[0]
    assert lateness[0].days >= 10 and lateness[1].days >= 30, "planted well beyond the lookback"
    check_attributed_like_oracle(demo_db, customers_of(demo_db, "dfx_late_%"))


def test_customer_history_uses_latest_row(demo_db):
    latest = query(demo_db, """
        select trim(customer_id), coalesce(nullif(trim(segment), ''), 'unknown'), plan
        from raw.customers
        qualify row_number() over (partition by lower(trim(customer_id))
                                   order by loaded_at desc, created_at desc) = 1""")
    mart = {c: (s, p) for c, s, p in query(
        demo_db, "select customer_id, segment, plan from marts.fct_customer_engagement")}
    assert len(mart) == len(latest), "one row per customer, however many CRM rows it has"
    assert all(mart[c] == (s, p) for c, s, p in latest)
    assert sum(1 for s, _ in mart.values() if s == "unknown") == planted(demo_db)["customer_history"] // 2


def test_ticket_missing_created_at(demo_db):
    check_quarantine(demo_db, "ticket_missing_created_at", "support", "missing_occurred_at")


def test_ticket_unknown_priority(demo_db):
    check_quarantine(demo_db, "ticket_unknown_priority", "support", "unknown_priority")
    assert {r for (r,) in query(demo_db, """select distinct raw_priority from marts.fct_quarantined_events
                                          where reason = 'unknown_priority'""")} == {"P1", ""}


def test_every_injected_defect_has_a_test():
    tested = {name for name in globals() if name.startswith("test_")}
    for d in INJECTED:
        assert any(d.code in name for name in tested), f"no test for {d.code}"


def test_the_data_quality_page_lists_every_defect():
    page = (ROOT / "docs" / "data-quality.md").read_text()
    section = page[page.index("# Bad input"):]
    table = section[:section.index("\n## ", 1)] if "\n## " in section[1:] else section
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))
    assert listed == {d.code for d in CATALOGUE}


def test_reconciliation_balances_on_demo_data_with_defects(demo_db):
    raw = dict(query(demo_db, """select 'product', count(*) from raw.product_events
                                 union all select 'support', count(*) from raw.support_tickets"""))
    got = dict(query(demo_db, """select event_source, sum(event_count)
                                 from marts.fct_event_reconciliation group by 1"""))
    assert got == raw
