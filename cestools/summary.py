"""Print what `make build` produced: customers scored and the score distribution per segment."""

from __future__ import annotations

import argparse
import sys

from cestools import config, engines, errors


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    wh = engines.open_warehouse(config.load())
    path, bi_hint = wh.name, wh.bi_hint()
    try:
        window = wh.fetchall("""
            select count(*), min(window_start), max(window_end), max(weights_version),
                   count(*) filter (where event_count > 0)
            from marts.fct_customer_engagement
        """)[0]
        rows = wh.fetchall("""
            select segment, customers, avg_engagement_score, median_engagement_score,
                   p90_engagement_score, total_engagement_score
            from marts.fct_segment_engagement
            order by avg_engagement_score desc
        """)
        outcomes = wh.fetchall("""
            select outcome, sum(event_count) from marts.fct_event_reconciliation
            group by outcome order by 2 desc
        """)
    finally:
        wh.close()
    customers, start, end, version, active = window
    print(f"\nCES summary ({path})")
    print(f"  customers scored: {customers:,} ({active:,} with events in the window)")
    print(f"  window: {start} to {end}, weights {version}")
    total = sum(n for _, n in outcomes)
    print(f"  raw event rows: {total:,} = " + " + ".join(f"{n:,} {o}" for o, n in outcomes)
          + "  (marts.fct_event_reconciliation)\n")
    header = f"  {'segment':<12}{'customers':>10}{'avg':>10}{'median':>10}{'p90':>10}{'total':>14}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for segment, n, avg, median, p90, total in rows:
        print(f"  {segment:<12}{n:>10,}{avg:>10.1f}{median:>10.1f}{p90:>10.1f}{total:>14,.1f}")
    print("\n" + bi_hint)
    print("it is replaced only after a dbt build whose tests all passed. docs/serving.md says how to connect.")
    return 0


if __name__ == "__main__":
    sys.exit(errors.run(main))
