"""Print what a weight change does, for the reviewer of a weight-change pull request.

Reads marts.fct_weights_change_impact(_segment), which `make weights-impact` builds first
(with BASE=/COMPARE= passed as the vars ces_impact_base_version / ces_impact_compare_version).
"""

from __future__ import annotations

import os
import sys

import duckdb


def main() -> int:
    path = os.environ.get("CES_DUCKDB_PATH", "warehouse/ces.duckdb")
    con = duckdb.connect(path, read_only=True)
    try:
        base, compare, n = con.execute("""
            select max(base_version), max(compare_version), count(*)
            from marts.fct_weights_change_impact""").fetchone()
        segments = con.execute("""
            select segment, customers, avg_base_score, avg_compare_score, median_base_score,
                   median_compare_score, customers_tier_up, customers_tier_down
            from marts.fct_weights_change_impact_segment order by segment""").fetchall()
        moves = con.execute("""
            select base_tier, compare_tier, count(*)
            from marts.fct_weights_change_impact
            where base_tier <> compare_tier
            group by all order by 3 desc""").fetchall()
        movers = con.execute("""
            (select customer_id, segment, base_score, compare_score, score_delta, base_tier,
                    compare_tier
             from marts.fct_weights_change_impact order by score_delta desc, customer_id limit 5)
            union all
            (select customer_id, segment, base_score, compare_score, score_delta, base_tier,
                    compare_tier
             from marts.fct_weights_change_impact order by score_delta asc, customer_id limit 5)
        """).fetchall()
    finally:
        con.close()

    print(f"\nWeights change impact: {base} -> {compare} ({n:,} customers, current window)\n")
    print("Score distribution per segment")
    print(f"  {'segment':<12}{'customers':>10}{'avg ' + base:>12}{'avg ' + compare:>12}"
          f"{'median ' + base:>14}{'median ' + compare:>14}{'tier up':>9}{'tier down':>11}")
    for seg, c, ab, ac, mb, mc, up, down in segments:
        print(f"  {seg:<12}{c:>10,}{ab:>12.1f}{ac:>12.1f}{mb:>14.1f}{mc:>14.1f}{up:>9,}{down:>11,}")
    changed = sum(m[2] for m in moves)
    print(f"\nTier changes: {changed:,} of {n:,} customers ({100 * changed / max(n, 1):.1f}%)")
    for frm, to, c in moves:
        print(f"  {frm:>9} -> {to:<9} {c:>6,}")
    print("\nCustomers who move most (score delta)")
    print(f"  {'customer':<10}{'segment':<12}{base:>10}{compare:>10}{'delta':>10}  tier")
    for cid, seg, b, c, d, bt, ct in movers:
        print(f"  {cid:<10}{seg:<12}{b:>10.1f}{c:>10.1f}{d:>+10.1f}  {bt} -> {ct}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
