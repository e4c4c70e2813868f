"""Insights on the demo data: every flag has its reasons, and the trend and history columns
equal the oracle (the flags against the planted archetypes: test_demo_story.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import query
from oracle import monthly_scores, scores

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow

def test_flag_reasons_explain_every_flag(demo_db):
    rows = query(demo_db, """
        select is_trial_conversion_candidate or is_churn_risk or is_upsell_candidate
               or needs_training, flag_reasons
        from marts.fct_customer_engagement""")
    assert all((reason is not None) == bool(any_flag) for any_flag, reason in rows)


def test_previous_score_matches_oracle(demo_db):
    expected = scores(str(demo_db))
    got = {cid: (prev, change, pct) for cid, prev, change, pct in query(demo_db, """
        select customer_id, previous_engagement_score, engagement_change, engagement_change_pct
        from marts.fct_customer_engagement""")}
    for cid, e in expected.items():
        prev, change, pct = got[cid]
        assert prev == e.previous_engagement_score, cid
        assert change == e.engagement_score - e.previous_engagement_score, cid
        if e.previous_engagement_score == 0:
            assert pct is None, cid
        else:
            want = 100 * (e.engagement_score - e.previous_engagement_score) / abs(
                e.previous_engagement_score)
            assert abs(pct - want) <= Decimal("0.005"), cid


def test_monthly_scores_match_oracle(demo_db):
    expected = monthly_scores(str(demo_db))
    got = {(cid, m): (v, s, sl) for cid, m, v, s, sl in query(demo_db, """
        select customer_id, month_start, weights_version, engagement_score,
               engagement_score_latest_weights
        from marts.fct_customer_engagement_monthly""")}
    assert set(got) == set(expected)
    wrong = [k for k in expected if got[k] != expected[k]]
    assert not wrong, f"{len(wrong)} customer-months differ, e.g. {[(k, got[k], expected[k]) for k in wrong[:3]]}"
    assert {v for v, _, _ in expected.values()} == {"v1", "v2"}, "history spans a weight change"


def test_contributions_explain_scores(demo_db):
    rows = query(demo_db, """
        select f.customer_id, f.engagement_score, sum(c.contribution), sum(c.share_of_score)
        from marts.fct_customer_engagement as f
        inner join marts.fct_customer_event_contributions as c using (customer_id)
        group by all""")
    assert rows
    for cid, score, total, share in rows:
        assert total == score, cid
        if score != 0:
            assert abs(share - 1) < Decimal("0.0001"), cid
