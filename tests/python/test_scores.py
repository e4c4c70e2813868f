"""The marts equal an independent recomputation of the scoring rules, on demo data and on
small hand-made datasets whose answers are worked out by hand below."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from conftest import copy_project, create_raw, dbt, query
from oracle import scores

# builds the project with dbt (and some start servers): the whole suite, not make test-fast
pytestmark = pytest.mark.slow


def mart_scores(db: Path) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in query(db, """
        select customer_id, segment, engagement_score, event_count, weights_version,
               window_start, window_end
        from marts.fct_customer_engagement""")}


def assert_matches_oracle(db: Path, **kwargs) -> dict:
    expected = scores(str(db), **kwargs)
    actual = mart_scores(db)
    assert set(actual) == set(expected), "the mart must have exactly one row per CRM customer"
    wrong = {cid: (actual[cid], e) for cid, e in expected.items()
             if actual[cid] != (e.segment, e.engagement_score, e.event_count, e.weights_version,
                                e.window_start, e.window_end)}
    assert not wrong, f"{len(wrong)} customers differ from the oracle, e.g. {list(wrong.items())[:3]}"
    return expected


def percentile(values: list[Decimal], q: str) -> Decimal:
    """Continuous percentile (linear interpolation, as percentile_cont), in exact decimal
    arithmetic, rounded half away from zero to 4 decimals as the marts round it."""
    xs = sorted(values)
    pos = Decimal(q) * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    exact = xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
    return exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def test_demo_scores_match_oracle(demo_db):
    expected = assert_matches_oracle(demo_db)
    assert sum(1 for s in expected.values() if s.event_count > 0) > 100, "demo should be lively"


def test_demo_segments_match_oracle(demo_db):
    expected = scores(str(demo_db))
    by_segment: dict[str, list[Decimal]] = {}
    for s in expected.values():
        by_segment.setdefault(s.segment, []).append(s.engagement_score)
    rows = query(demo_db, """select segment, customers, total_engagement_score,
        median_engagement_score, p25_engagement_score, p75_engagement_score, p90_engagement_score
        from marts.fct_segment_engagement""")
    assert {r[0] for r in rows} == set(by_segment)
    for segment, n, total, median, p25, p75, p90 in rows:
        values = by_segment[segment]
        assert n == len(values)
        assert total == sum(values)
        for got, q in ((median, "0.5"), (p25, "0.25"), (p75, "0.75"), (p90, "0.9")):
            assert got == percentile(values, q), (segment, q)


def ts(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s)


@pytest.fixture(scope="module")
def handmade_db(tmp_path_factory) -> Path:
    """Hand-made raw data. Weights (seed): v1 from 2026-01-01, v2 from 2026-09-15.

    Latest scored event: 2026-10-31, so D = 2026-10-31, window 2026-10-02..2026-10-31, v2.
      C1: report_created e1 on 10-30, delivered twice (exact duplicate)        -> counts 1
          report_created e2 on 10-30                                           -> 1
          'Report Shared' e3 on 10-02 (window's first day, title case)         -> 1
          report_created e4 on 10-01 (the day before the window)               -> 0
          'mystery_clicked' e5 on 10-20 (no weight)                            -> 0 points, 1 event
          support ticket t1 on 10-15                                           -> 1
          session_started e6, e7, e8 on 09-14 (only for the version-change tests)
        v2 score: 2 x 6 (report_created) + 8 (report_shared) + 0 + (-4) = 16, events 5
      C2: no events                                                           -> 0
      C3: ' c3 ' in events (whitespace and case) matches CRM 'C3':
          session_started e9 on 10-31                                          -> 0.5
      GHOST (not in CRM): report_created e10                                   -> not scored
      C4: two CRM rows, Enterprise (loaded 2025-01-01) then SMB (loaded 2026-06-01): the latest
          decides, so C4 is SMB. report_created e11 on 10-20, user_invited e12 on 10-21
          v2 score: 6 + 12 = 18, events 2
    """
    db = tmp_path_factory.mktemp("handmade") / "ces.duckdb"
    con = create_raw(db)
    con.executemany("insert into raw.customers values (?, ?, ?, ?, ?, ?, ?, ?)", [
        ("C1", "One", "SMB", "starter", "active", "US", ts("2025-01-01"), ts("2025-01-01")),
        ("C2", "Two", "Enterprise", "enterprise", "active", "DE", ts("2025-01-01"), ts("2025-01-01")),
        ("C3", "Three", "SMB", "starter", "active", "GB", ts("2025-01-01"), ts("2025-01-01")),
        ("C4", "Four", "Enterprise", "enterprise", "active", "US", ts("2025-01-01"), ts("2025-01-01")),
        ("C4", "Four", "SMB", "starter", "active", "US", ts("2025-01-01"), ts("2026-06-01")),
    ])
    e = [
        ("e1", "C1", "u1", "report_created", "2026-10-30 10:00", "2026-10-30 10:05"),
        ("e1", "C1", "u1", "report_created", "2026-10-30 10:00", "2026-10-31 09:00"),
        ("e2", "C1", "u1", "report_created", "2026-10-30 11:00", "2026-10-30 11:05"),
        ("e3", "C1", "u2", "Report Shared", "2026-10-02 00:00", "2026-10-02 00:10"),
        ("e4", "C1", "u2", "report_created", "2026-10-01 23:59", "2026-10-02 00:10"),
        ("e5", "C1", "u2", "mystery_clicked", "2026-10-20 12:00", "2026-10-20 12:01"),
        ("e6", "C1", "u1", "session_started", "2026-09-14 08:00", "2026-09-14 08:01"),
        ("e7", "C1", "u1", "session_started", "2026-09-14 09:00", "2026-09-14 09:01"),
        ("e8", "C1", "u1", "session_started", "2026-09-14 10:00", "2026-09-14 10:01"),
        ("e9", " c3 ", "u9", "session_started", "2026-10-31 07:00", "2026-10-31 07:01"),
        ("e10", "GHOST", "u0", "report_created", "2026-10-25 07:00", "2026-10-25 07:01"),
        ("e11", "C4", "u4", "report_created", "2026-10-20 10:00", "2026-10-20 10:05"),
        ("e12", "C4", "u4", "user_invited", "2026-10-21 10:00", "2026-10-21 10:05"),
    ]
    con.executemany("insert into raw.product_events values (?, ?, ?, ?, ?, ?)",
                    [(a, b, c, d, ts(o), ts(lo)) for a, b, c, d, o, lo in e])
    con.execute("insert into raw.support_tickets values "
                "('t1', 'C1', timestamp '2026-10-15 09:00', 'high', timestamp '2026-10-15 09:30')")
    con.close()
    return db


@pytest.fixture(scope="module")
def handmade_built(handmade_db) -> tuple[Path, str]:
    """handmade_db after one `dbt build`, and that build's output. Tests that build it again
    with other vars or seeds do so on a copy (on_copy), so every test starts from this build."""
    return handmade_db, dbt(handmade_db, "build").stdout


def on_copy(handmade_built: tuple[Path, str], tmp_path: Path) -> Path:
    """A copy of the built hand-made warehouse in tmp_path, for a test to build again."""
    db = tmp_path / "copy" / "ces.duckdb"
    db.parent.mkdir()
    shutil.copy(handmade_built[0], db)
    return db


def test_handmade_known_answers(handmade_built):
    handmade_db = handmade_built[0]
    got = mart_scores(handmade_db)
    assert set(got) == {"C1", "C2", "C3", "C4"}, "GHOST is not a CRM customer and gets no row"
    assert got["C1"][1:4] == (Decimal("16"), 5, "v2")
    assert got["C2"][1:3] == (Decimal("0"), 0)
    assert got["C3"][1:3] == (Decimal("0.5"), 1)
    assert got["C4"][:3] == ("SMB", Decimal("18"), 2), "the latest CRM row decides the segment"
    assert got["C1"][4:] == (dt.date(2026, 10, 2), dt.date(2026, 10, 31))
    assert_matches_oracle(handmade_db)


def test_handmade_warns_about_unmapped_types_and_unknown_customers(handmade_built):
    out = handmade_built[1]
    assert "WARN" in out and "event_types_without_weight" in out
    assert "events_of_customers_not_in_crm" in out


@pytest.mark.parametrize("as_of, version, c1_score", [
    ("2026-09-14", "v1", Decimal("3")),    # 3 sessions x 1.0 under v1
    ("2026-09-15", "v2", Decimal("1.5")),  # 3 sessions x 0.5 under v2, on v2's first day
])
def test_each_side_of_a_weights_version_change(handmade_built, tmp_path, as_of, version, c1_score):
    handmade_db = on_copy(handmade_built, tmp_path)
    dbt(handmade_db, "build", vars={"ces_as_of_date": as_of})
    got = mart_scores(handmade_db)
    assert got["C1"][1] == c1_score and got["C1"][3] == version
    assert_matches_oracle(handmade_db, as_of=dt.date.fromisoformat(as_of))


def test_empty_window_fails_unless_asked_for_then_scores_zero(handmade_built, tmp_path):
    handmade_db = on_copy(handmade_built, tmp_path)
    # 2026-07-01 is before the first scored event (2026-09-14): every score would be 0
    failed = dbt(handmade_db, "build", vars={"ces_as_of_date": "2026-07-01"}, check=False)
    assert failed.returncode != 0
    assert "the as-of date 2026-07-01 is outside the scored events (first 2026-09-14, newest 2026-10-31)" \
        in failed.stdout
    later = dbt(handmade_db, "build", vars={"ces_as_of_date": "2026-11-05"}, check=False)
    assert later.returncode != 0 and "the as-of date 2026-11-05 is outside" in later.stdout
    dbt(handmade_db, "build", vars={"ces_as_of_date": "2026-07-01", "ces_allow_empty_window": True})
    got = mart_scores(handmade_db)
    assert {cid: row[1:3] for cid, row in got.items()} == {
        "C1": (Decimal("0"), 0), "C2": (Decimal("0"), 0), "C3": (Decimal("0"), 0), "C4": (Decimal("0"), 0)}
    assert {row[3] for row in got.values()} == {"v1"}
    assert_matches_oracle(handmade_db, as_of=dt.date(2026, 7, 1))


OVERRIDES = [
    "v2,2026-09-15,SMB,report_created,7.0,SMB report authors renew even more",
    "v2,2026-09-15,Enterprise,report_created,20.0,Enterprise reports are board material",
    "v2,2026-09-15,Enterprise,user_invited,1.0,Enterprise seats come through SSO",
]


def test_handmade_segment_overrides(handmade_built, tmp_path):
    """The same hand-made data with v2 overrides for SMB and Enterprise, worked by hand:
      C1 (SMB): 2 x 7 (SMB override of report_created) + 8 + 0 + (-4)          = 18
      C2 (Enterprise): no events                                                  = 0
      C3 (SMB): session_started has no override: 0.5                              = 0.5
      C4 (SMB now, Enterprise before): 7 (SMB override) + 12 (the default: the
          Enterprise override of user_invited is not C4's any more)               = 19
    """
    handmade_db = on_copy(handmade_built, tmp_path)
    project = copy_project(tmp_path / "project")
    seed = project / "seeds" / "ces_event_weights.csv"
    seed.write_text(seed.read_text() + "\n".join(OVERRIDES) + "\n")
    env = {"DBT_PROFILES_DIR": str(project / "profiles")}
    dbt(handmade_db, "build", "--project-dir", str(project), env=env)
    got = mart_scores(handmade_db)
    assert {cid: row[1] for cid, row in got.items()} == {
        "C1": Decimal("18"), "C2": Decimal("0"), "C3": Decimal("0.5"), "C4": Decimal("19")}
    assert_matches_oracle(handmade_db, weights_csv=seed)
    sources = dict(((c, t), s) for c, t, s in query(handmade_db, """
        select customer_id, event_type, weight_source from marts.fct_customer_event_contributions"""))
    assert sources[("C1", "report_created")] == "segment"
    assert sources[("C1", "report_shared")] == "default"
    assert sources[("C4", "user_invited")] == "default"


def test_a_seed_without_the_segment_column_builds_unchanged(handmade_built, tmp_path):
    """A seed written before segments existed (no segment column) gives the same marts."""
    before = mart_scores(handmade_built[0])
    handmade_db = on_copy(handmade_built, tmp_path)
    project = copy_project(tmp_path / "project")
    seed = project / "seeds" / "ces_event_weights.csv"
    rows = [line.split(",", 5) for line in seed.read_text().splitlines()]
    assert rows[0][2] == "segment"
    seed.write_text("\n".join(",".join(r[:2] + r[3:]) for r in rows if r[2] == "" or r[2] == "segment") + "\n")
    env = {"DBT_PROFILES_DIR": str(project / "profiles")}
    dbt(handmade_db, "build", "--project-dir", str(project), env=env)
    assert mart_scores(handmade_db) == before
    assert query(handmade_db, "select count(*) from information_schema.columns where table_schema = 'seeds' "
                              "and table_name = 'ces_event_weights' and column_name = 'segment'") == [(0,)]
