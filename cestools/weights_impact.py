"""What a weight change does, for the reviewer of a weight-change pull request.

    python -m cestools.weights_impact [--base v2] [--compare v3] [--vars YAML]

Builds marts.fct_weights_change_impact(_segment) and what they need (`dbt build --select`),
then prints the weights that changed (old -> new, with the new row's description) and the
impact: the score distribution per segment, the tier moves and the customers who move most.
By default it compares the version in force with the newest version, even one that takes
effect after the as-of date (the one a pull request adds); when the version in force is the
newest, the one before it with the version in force. Both score the current window.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from cestools import config, engines, errors, settings
from cestools.engines import quote
from cestools.errors import CesError


def build_impact(base: str | None, compare: str | None, cli_vars: str | None) -> None:
    values = settings.parse_cli_vars(cli_vars)
    values["ces_impact_base_version"] = base
    values["ces_impact_compare_version"] = compare
    cmd = [str(Path(sys.executable).parent / "dbt"), "build", "--select", "+fct_weights_change_impact_segment",
           "--indirect-selection", "cautious", "--quiet", "--vars", settings.vars_text(values)]
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        raise CesError("the dbt build of the impact marts failed (its output is above); no report was printed.")


def changed_defaults(wh, base: str, compare: str) -> list[tuple]:
    """(event_type, base weight, compare weight, description) of every default weight that
    differs, including a type only one of the two versions has."""
    return wh.fetchall(f"""
        with base as (
            select event_type, weight, description from staging.stg_weights__event_weights
            where weights_version = {quote(base)} and segment is null
        ),
        compare as (
            select event_type, weight, description from staging.stg_weights__event_weights
            where weights_version = {quote(compare)} and segment is null
        )
        select coalesce(compare.event_type, base.event_type), base.weight, compare.weight,
               coalesce(compare.description, base.description)
        from base full outer join compare on base.event_type = compare.event_type
        where base.weight is distinct from compare.weight
        order by 1""")


def changed_overrides(wh, base: str, compare: str) -> list[tuple]:
    """(segment, event_type, base weight, base source, compare weight, compare source,
    description) for every type a segment overrides in either version whose weight for that
    segment changes: the weight that applies (override, else default) on each side."""
    b, c = quote(base), quote(compare)
    return wh.fetchall(f"""
        with overridden as (
            select distinct segment, event_type from staging.stg_weights__event_weights
            where segment is not null and weights_version in ({b}, {c})
        ),
        resolved as (
            select * from intermediate.int_event_weights_resolved where segment is not null
        )
        select overridden.segment, overridden.event_type, base.weight, base.weight_source,
               compare.weight, compare.weight_source,
               coalesce(compare_row.description, base_row.description)
        from overridden
        left join resolved as base
            on base.weights_version = {b} and base.segment = overridden.segment
            and base.event_type = overridden.event_type
        left join resolved as compare
            on compare.weights_version = {c} and compare.segment = overridden.segment
            and compare.event_type = overridden.event_type
        left join staging.stg_weights__event_weights as base_row
            on base_row.weights_version = {b} and base_row.segment = overridden.segment
            and base_row.event_type = overridden.event_type
        left join staging.stg_weights__event_weights as compare_row
            on compare_row.weights_version = {c} and compare_row.segment = overridden.segment
            and compare_row.event_type = overridden.event_type
        where base.weight is distinct from compare.weight
           or base.weight_source is distinct from compare.weight_source
        order by 1, 2""")


def number(value) -> str:
    return "-" if value is None else f"{float(value):g}"


def report() -> None:
    wh = engines.open_warehouse(config.load())
    try:
        base, compare, n = wh.fetchall("""
            select max(base_version), max(compare_version), count(*)
            from marts.fct_weights_change_impact""")[0]
        as_of, in_force = wh.fetchall(
            "select as_of_date, weights_version from intermediate.int_scoring_window")[0]
        starts = dict(wh.fetchall("""select weights_version, effective_from
                                     from intermediate.int_weights_versions"""))
        changes = changed_defaults(wh, base, compare)
        overrides = changed_overrides(wh, base, compare)
        segments = wh.fetchall("""
            select segment, customers, avg_base_score, avg_compare_score, median_base_score,
                   median_compare_score, customers_tier_up, customers_tier_down
            from marts.fct_weights_change_impact_segment order by segment""")
        moves = wh.fetchall("""
            select base_tier, compare_tier, count(*)
            from marts.fct_weights_change_impact
            where base_tier <> compare_tier
            group by base_tier, compare_tier order by 3 desc, 1, 2""")
        movers = wh.fetchall("""
            (select customer_id, segment, base_score, compare_score, score_delta, base_tier,
                    compare_tier
             from marts.fct_weights_change_impact order by score_delta desc, customer_id limit 5)
            union all
            (select customer_id, segment, base_score, compare_score, score_delta, base_tier,
                    compare_tier
             from marts.fct_weights_change_impact order by score_delta asc, customer_id limit 5)
        """)
    finally:
        wh.close()

    def when(version: str) -> str:
        start = starts.get(version)
        tag = "in force" if version == in_force else ("future" if start and start > as_of else "past")
        return f"{version} (from {start}, {tag})"

    print(f"\nWeights change impact: {when(base)} -> {when(compare)}")
    print(f"{n:,} customers, both versions scoring the window ending {as_of}\n")
    print(f"Default weights that change ({len(changes)})")
    if not changes:
        print("  none: the two versions' defaults weight every event type the same")
    for event_type, old, new, description in changes:
        print(f"  {event_type:<24}{number(old):>8} -> {number(new):<8} {description or ''}")
    print(f"\nSegment overrides that change ({len(overrides)}; the weight that applies to the segment, "
          "override or default)")
    if not overrides:
        print("  none")
    for segment, event_type, old, old_source, new, new_source, description in overrides:
        print(f"  {segment:<12}{event_type:<24}{number(old):>8} ({old_source or '-'}) -> "
              f"{number(new)} ({new_source or '-'})  {description or ''}")
    print("\nScore distribution per segment")
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--base", default=None, help="version compared from (BASE=)")
    p.add_argument("--compare", default=None, help="version compared to (COMPARE=)")
    p.add_argument("--vars", default=None, help="dbt vars of the build (VARS=), as YAML")
    p.add_argument("--report-only", action="store_true", help="print the report of the marts as built")
    a = p.parse_args(argv)
    if not a.report_only:
        build_impact(a.base or None, a.compare or None, a.vars)
    report()
    return 0


if __name__ == "__main__":
    sys.exit(errors.run(main))
