"""What the dashboard reads and computes: the serving data only, opened read-only and closed
again at once, so the dashboard never holds a lock a publish or a build could wait on.

The weights lab's what-if is computed here, from the per-customer event counts of the window
(fct_customer_event_contributions) and the weights of dim_event_weights, with the rules of
int_point_scores: score = Σ weight × count (the segment's override, else the
version's default; an unweighted type adds 0), percentile rank of the score in the segment
among all its customers, the highest tier whose threshold that percentile reaches, dormant
with no scored event. tests/python/test_dashboard.py checks it against the marts.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pandas as pd

from cestools import config

SEED_COLUMNS = ["weights_version", "effective_from", "segment", "event_type", "weight", "description"]


class NoServingData(Exception):
    """The serving file is missing or holds no marts yet."""


def serving_path() -> Path:
    return Path(config.load().serving_path)


def stamp(path: Path) -> tuple[str, int]:
    """(path, modification time in ns): changes with each publish, which renames a new file in."""
    if not path.exists():
        raise NoServingData(f"There is no serving data at {path} yet: run `make build`, which publishes "
                            "the marts when the build passes.")
    return str(path), path.stat().st_mtime_ns


TABLES = {
    "customers": "select * from fct_customer_engagement",
    "segments": "select * from fct_segment_engagement order by segment",
    "contributions": "select customer_id, segment, event_type, event_count, weight, weight_source, "
                     "contribution, share_of_score from fct_customer_event_contributions",
    "monthly": "select * from fct_customer_engagement_monthly",
    "weights": "select * from dim_event_weights",
    "tiers": "select * from dim_engagement_tiers order by tier_level",
    "reconciliation": "select * from fct_event_reconciliation order by event_source, outcome, reason",
    "quarantine": "select event_source, reason, count(*) as events from fct_quarantined_events "
                  "group by event_source, reason order by events desc",
    "score_backtest": "select * from fct_score_backtest",
    "flag_backtest": "select * from fct_flag_backtest",
    "probabilities": "select customer_id, outcome, probability, horizon_days, calibration_version "
                     "from fct_customer_outcome_probability",
    "calibration_backtest": "select * from fct_calibration_backtest",
}
# numeric columns that arrive as DECIMAL: read as float for charts and arithmetic
FLOAT_TYPES = ("DECIMAL", "DOUBLE", "FLOAT", "REAL")


def load(path: str, name: str) -> pd.DataFrame:
    """One serving table as a DataFrame (decimals as floats)."""
    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.Error as exc:
        raise NoServingData(f"The serving file {path} cannot be opened ({exc}). Run `make build`.") from exc
    try:
        rel = con.sql(TABLES[name])
        casts = [f'cast("{c}" as double) as "{c}"' if str(t).startswith(FLOAT_TYPES) else f'"{c}"'
                 for c, t in zip(rel.columns, rel.types, strict=True)]
        return con.sql(f"select {', '.join(casts)} from ({TABLES[name]})").df()
    except duckdb.CatalogException as exc:
        raise NoServingData(f"The serving file {path} lacks a mart the dashboard reads ({exc}). "
                            "Run `make build` to publish every mart.") from exc
    finally:
        con.close()


def published_at(path: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(Path(path).stat().st_mtime, tz=dt.UTC)


# --- weights ---------------------------------------------------------------------------------

def versions(weights: pd.DataFrame) -> pd.DataFrame:
    """One row per weights version: effective_from, effective_until, is_in_force; oldest first."""
    return (weights[["weights_version", "effective_from", "effective_until", "is_in_force"]]
            .drop_duplicates("weights_version").sort_values("effective_from").reset_index(drop=True))


def seed_rows(weights: pd.DataFrame, version: str) -> pd.DataFrame:
    """A version's rows as the weights seed holds them: the defaults (segment empty) and each
    segment's overrides."""
    rows = weights[(weights["weights_version"] == version)
                   & (weights["segment"].isna() | (weights["weight_source"] == "segment"))]
    return rows[SEED_COLUMNS].sort_values(["segment", "event_type"], na_position="first").reset_index(drop=True)


def resolve(seed: pd.DataFrame, segments: list[str]) -> pd.DataFrame:
    """(segment, event_type, weight) for every segment: the override, else the default."""
    defaults = seed[seed["segment"].isna()][["event_type", "weight"]]
    grid = pd.DataFrame({"segment": segments}).merge(defaults, how="cross")
    overrides = seed[seed["segment"].notna()][["segment", "event_type", "weight"]]
    grid = grid.merge(overrides, on=["segment", "event_type"], how="left", suffixes=("", "_override"))
    grid["weight"] = grid["weight_override"].fillna(grid["weight"])
    return grid[["segment", "event_type", "weight"]]


def with_edits(seed: pd.DataFrame, edits: dict[tuple[str | None, str], float]) -> pd.DataFrame:
    """The seed rows with edits applied: (None, type) replaces the version's default weight;
    (segment, type) sets that segment's override, adding the override row when there is none."""
    out = seed.copy()
    added = []
    for (segment, event_type), weight in sorted(edits.items(), key=lambda e: (e[0][0] or "", e[0][1])):
        where = (out["segment"].isna() if segment is None else out["segment"] == segment) & (
            out["event_type"] == event_type)
        if where.any():
            out.loc[where, "weight"] = float(weight)
        else:
            added.append({"weights_version": seed["weights_version"].iloc[0],
                          "effective_from": seed["effective_from"].iloc[0], "segment": segment,
                          "event_type": event_type, "weight": float(weight),
                          "description": f"What-if override for {segment}"})
    if added:
        out = pd.concat([out, pd.DataFrame(added)], ignore_index=True)
    return out.sort_values(["segment", "event_type"], na_position="first").reset_index(drop=True)


def next_version(names: list[str]) -> str:
    numbers = [int(m.group(1)) for n in names if (m := re.fullmatch(r"v(\d+)", str(n)))]
    return f"v{max(numbers, default=0) + 1}"


def seed_csv(seed: pd.DataFrame, version: str, effective_from: dt.date) -> str:
    """The rows in the seed's format (seeds/ces_event_weights.csv) under a new version name."""
    out = seed.copy()
    out["weights_version"] = version
    out["effective_from"] = effective_from.isoformat()
    out["weight"] = out["weight"].map(lambda w: f"{w:.4f}".rstrip("0").rstrip(".") if w % 1 else f"{w:.1f}")
    return out[SEED_COLUMNS].to_csv(index=False, header=False)


# --- scoring ---------------------------------------------------------------------------------

def score(customers: pd.DataFrame, contributions: pd.DataFrame, resolved: pd.DataFrame,
          tiers: pd.DataFrame) -> pd.DataFrame:
    """customer_id, segment, engagement_score, event_count, segment_percentile, engagement_tier
    of every customer under the resolved weights."""
    counts = contributions[["customer_id", "segment", "event_type", "event_count"]].merge(
        resolved, on=["segment", "event_type"], how="left")
    counts["points"] = counts["weight"].fillna(0) * counts["event_count"]
    per = counts.groupby("customer_id", as_index=False).agg(engagement_score=("points", "sum"),
                                                             event_count=("event_count", "sum"))
    out = customers[["customer_id", "segment"]].merge(per, on="customer_id", how="left")
    out["engagement_score"] = out["engagement_score"].fillna(0).round(4)
    out["event_count"] = out["event_count"].fillna(0).astype("int64")
    rank = out.groupby("segment")["engagement_score"].rank(method="min")
    size = out.groupby("segment")["engagement_score"].transform("size")
    out["segment_percentile"] = (100 * (rank - 1) / (size - 1).where(size > 1)).fillna(0)
    thresholds = tiers[tiers["min_segment_percentile"].notna()].sort_values("min_segment_percentile")
    dormant = tiers.loc[tiers["min_segment_percentile"].isna(), "engagement_tier"]
    tier = pd.Series(None, index=out.index, dtype=object)
    for _, row in thresholds.iterrows():
        tier[out["segment_percentile"] >= row["min_segment_percentile"]] = row["engagement_tier"]
    if not dormant.empty:
        tier[out["event_count"] == 0] = dormant.iloc[0]
    out["engagement_tier"] = tier
    return out


def impact(base: pd.DataFrame, compare: pd.DataFrame, tiers: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What moving from the base scores to the compare scores does, as the CLI report shows it:
    per segment, the tier moves, the customers who move most."""
    both = base.merge(compare, on=["customer_id", "segment"], suffixes=("_base", "_compare"))
    both["score_delta"] = both["engagement_score_compare"] - both["engagement_score_base"]
    level = dict(zip(tiers["engagement_tier"], tiers["tier_level"], strict=True))
    moved = both["engagement_tier_compare"].map(level) - both["engagement_tier_base"].map(level)
    both["tier_change"] = pd.cut(moved, [-99, -0.5, 0.5, 99], labels=["down", "same", "up"]).astype(str)
    segments = both.groupby("segment").agg(
        customers=("customer_id", "size"),
        avg_base_score=("engagement_score_base", "mean"),
        avg_compare_score=("engagement_score_compare", "mean"),
        median_base_score=("engagement_score_base", "median"),
        median_compare_score=("engagement_score_compare", "median"),
        avg_score_delta=("score_delta", "mean"),
        customers_tier_up=("tier_change", lambda s: int((s == "up").sum())),
        customers_tier_down=("tier_change", lambda s: int((s == "down").sum())),
    ).reset_index()
    order = list(tiers.sort_values("tier_level", ascending=False)["engagement_tier"])
    moves = pd.crosstab(both["engagement_tier_base"], both["engagement_tier_compare"])
    moves = moves.reindex(index=order, columns=order, fill_value=0)
    moves.index.name, moves.columns.name = "from (base)", "to (compare)"
    movers = both.assign(abs_delta=both["score_delta"].abs()).sort_values(
        ["abs_delta", "customer_id"], ascending=[False, True]).head(15)
    movers = movers[["customer_id", "segment", "engagement_score_base", "engagement_score_compare",
                     "score_delta", "engagement_tier_base", "engagement_tier_compare"]]
    return {"both": both, "segments": segments, "moves": moves, "movers": movers}


def changed_weights(base_seed: pd.DataFrame, compare_seed: pd.DataFrame) -> pd.DataFrame:
    """segment, event_type, base weight, compare weight of every seed row that differs."""
    key = ["segment", "event_type"]
    b = base_seed.assign(segment=base_seed["segment"].fillna("(default)"))
    c = compare_seed.assign(segment=compare_seed["segment"].fillna("(default)"))
    both = b[[*key, "weight"]].merge(c[[*key, "weight"]], on=key, how="outer", suffixes=("_base", "_compare"))
    differs = ~((both["weight_base"] == both["weight_compare"])
                | (both["weight_base"].isna() & both["weight_compare"].isna()))
    return both[differs].sort_values(key).reset_index(drop=True)


def box_stats(frame: pd.DataFrame, by: str, value: str) -> pd.DataFrame:
    """Tukey box plot figures per group (quartiles, whiskers at 1.5 IQR within the data), so a
    chart draws 100,000 customers from a few numbers."""
    rows = []
    for key, values in frame.groupby(by)[value]:
        q1, median, q3 = values.quantile([0.25, 0.5, 0.75])
        iqr = q3 - q1
        inside = values[(values >= q1 - 1.5 * iqr) & (values <= q3 + 1.5 * iqr)]
        rows.append({by: key, "lower": inside.min(), "q1": q1, "median": median, "q3": q3,
                     "upper": inside.max(), "customers": len(values)})
    return pd.DataFrame(rows)


def flag_outcomes(flag_backtest: pd.DataFrame) -> dict[str, str]:
    """Each flag's outcome, as the backtest pairs them (seeds/ces_outcomes.csv): the flag whose
    list can be ordered by that outcome's probability."""
    pairs = flag_backtest[["flag", "outcome"]].drop_duplicates()
    return dict(zip(pairs["flag"], pairs["outcome"], strict=True))


def with_probability(flagged: pd.DataFrame, probabilities: pd.DataFrame, outcome: str | None) -> pd.DataFrame:
    """The flagged customers with the probability of the flag's outcome (and its horizon) as
    columns, where a calibration gives one; unchanged otherwise."""
    if outcome is None:
        return flagged
    mine = probabilities[probabilities["outcome"] == outcome][["customer_id", "probability", "horizon_days"]]
    return flagged.merge(mine, on="customer_id", how="left")
