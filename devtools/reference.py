"""Two reference implementations of fct_customer_engagement for the benchmark.

- floor: one hand-written DuckDB query over the raw tables, the fastest way we know.
- pandas: what an analyst would write in a notebook.

Both apply the scoring rules of docs/using-the-score.md (quarantine defective deliveries, then deduplicate the
valid ones on source + id keeping the earliest load, window ending at the latest scored event's date, weights version in force).
Run as `python -m devtools.reference floor|pandas DB OUT.parquet` so the benchmark can measure
each in its own process.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb

WEIGHTS_CSV = Path(__file__).resolve().parents[1] / "seeds" / "ces_event_weights.csv"
PRIORITIES = ("low", "normal", "high", "urgent")


def floor_sql(window_days: int = 30, future_tolerance_hours: int = 24,
              min_occurred_date: str = "2000-01-01") -> str:
    return f"""
    with
    weights as (
        select weights_version, cast(effective_from as date) as effective_from, event_type,
               cast(weight as decimal(12, 4)) as weight
        from read_csv('{WEIGHTS_CSV}', all_varchar = true)
    ),
    deliveries as (
        select 'product' as src, nullif(trim(event_id), '') as eid,
               lower(nullif(trim(customer_id), '')) as ck, event_name as raw_name,
               occurred_at, loaded_at, false as bad_source
        from raw.product_events
        union all
        select 'support', nullif(trim(ticket_id), ''), lower(nullif(trim(customer_id), '')),
               'support_ticket_opened', created_at, loaded_at,
               coalesce(lower(trim(priority)) not in {PRIORITIES}, true)
        from raw.support_tickets
    ),
    valid as (
        select * from deliveries
        where eid is not null and ck is not null and occurred_at is not null
          and nullif(trim(raw_name), '') is not null
          and occurred_at <= loaded_at + interval {future_tolerance_hours} hour
          and occurred_at >= timestamp '{min_occurred_date}'
          and not bad_source
    ),
    first_copies as (
        select ck, raw_name, cast(occurred_at as date) as d
        from valid
        qualify row_number() over (partition by src, eid
                                   order by loaded_at, occurred_at, raw_name, ck) = 1
    ),
    as_of as (select max(d) as as_of from first_copies),
    version as (
        select weights_version from weights, as_of where effective_from <= as_of
        order by effective_from desc limit 1
    ),
    counts as (
        select ck, raw_name, count(*) as n
        from first_copies, as_of
        where d between as_of - {window_days - 1} and as_of
        group by all
    ),
    typed as (
        select ck, regexp_replace(regexp_replace(lower(regexp_replace(trim(raw_name),
                   '([a-z0-9])([A-Z])', '\\1_\\2', 'g')), '[^a-z0-9]+', '_', 'g'), '^_+|_+$', '', 'g')
                   as event_type, n
        from counts
    ),
    points as (
        select typed.ck, sum(coalesce(w.weight, 0) * typed.n) as score, sum(typed.n) as n
        from typed cross join version
        left join weights as w
            on w.weights_version = version.weights_version and w.event_type = typed.event_type
        group by typed.ck
    ),
    customers as (
        select trim(customer_id) as customer_id, lower(trim(customer_id)) as ck
        from raw.customers
        where nullif(trim(customer_id), '') is not null
        qualify row_number() over (partition by lower(trim(customer_id))
                                   order by loaded_at desc, created_at desc) = 1
    )
    select customers.customer_id, cast(coalesce(points.score, 0) as decimal(18, 4)) as engagement_score,
           coalesce(points.n, 0) as event_count
    from customers left join points on customers.ck = points.ck
    """


def run_floor(db: str, out: str, threads: int = 2) -> None:
    # the same memory limit as the dbt profile, so the floor and dbt spill alike
    memory_limit = os.environ.get("CES_DUCKDB_MEMORY_LIMIT", "3.5GB")
    con = duckdb.connect(db, read_only=True)
    con.execute(f"set memory_limit='{memory_limit}'; set threads={threads}; "
                f"set preserve_insertion_order=false; set temp_directory='{Path(db).parent}/tmp'")
    con.execute(f"copy ({floor_sql()}) to '{out}' (format parquet)")
    con.close()


def run_pandas(db: str, out: str) -> None:
    import pandas as pd

    con = duckdb.connect(db, read_only=True)
    ev = con.execute("select * from raw.product_events").df()
    tk = con.execute("select * from raw.support_tickets").df()
    cu = con.execute("select * from raw.customers").df()
    con.close()
    weights = pd.read_csv(WEIGHTS_CSV, dtype=str)
    weights["effective_from"] = pd.to_datetime(weights["effective_from"])
    weights["weight"] = weights["weight"].astype(float)

    def blank_to_na(s: pd.Series) -> pd.Series:
        s = s.str.strip()
        return s.mask(s == "")

    ev = pd.DataFrame({
        "src": "product", "eid": blank_to_na(ev["event_id"]),
        "ck": blank_to_na(ev["customer_id"]).str.lower(), "raw_name": ev["event_name"],
        "occurred_at": ev["occurred_at"], "loaded_at": ev["loaded_at"], "bad_source": False})
    tk = pd.DataFrame({
        "src": "support", "eid": blank_to_na(tk["ticket_id"]),
        "ck": blank_to_na(tk["customer_id"]).str.lower(), "raw_name": "support_ticket_opened",
        "occurred_at": tk["created_at"], "loaded_at": tk["loaded_at"],
        "bad_source": ~tk["priority"].str.strip().str.lower().isin(PRIORITIES)})
    allev = pd.concat([ev, tk], ignore_index=True)
    del ev, tk
    ok = (allev["eid"].notna() & allev["ck"].notna() & allev["occurred_at"].notna()
          & allev["raw_name"].notna() & (allev["raw_name"].str.strip() != "")
          & (allev["occurred_at"] <= allev["loaded_at"] + pd.Timedelta(hours=24))
          & (allev["occurred_at"] >= pd.Timestamp("2000-01-01")) & ~allev["bad_source"])
    allev = allev[ok]
    allev = allev.sort_values(["loaded_at", "occurred_at", "raw_name", "ck"], kind="stable")
    allev = allev.drop_duplicates(["src", "eid"], keep="first")
    allev["d"] = allev["occurred_at"].dt.normalize()
    as_of = allev["d"].max()
    win = allev[(allev["d"] >= as_of - pd.Timedelta(days=29)) & (allev["d"] <= as_of)]
    counts = win.groupby(["ck", "raw_name"]).size().rename("n").reset_index()
    names = counts["raw_name"].drop_duplicates()
    snake = (names.str.strip().str.replace(r"([a-z0-9])([A-Z])", r"\1_\2", regex=True).str.lower()
             .str.replace(r"[^a-z0-9]+", "_", regex=True).str.strip("_"))
    counts["event_type"] = counts["raw_name"].map(dict(zip(names, snake, strict=True)))
    version = weights[weights["effective_from"] <= as_of].sort_values("effective_from").iloc[-1][
        "weights_version"]
    w = weights[weights["weights_version"] == version][["event_type", "weight"]]
    counts = counts.merge(w, on="event_type", how="left").fillna({"weight": 0.0})
    counts["points"] = counts["weight"] * counts["n"]
    per = counts.groupby("ck").agg(score=("points", "sum"), n=("n", "sum")).reset_index()
    cu["customer_id"] = blank_to_na(cu["customer_id"])
    cu = cu[cu["customer_id"].notna()]
    cu["ck"] = cu["customer_id"].str.lower()
    cu = cu.sort_values(["loaded_at", "created_at"]).drop_duplicates("ck", keep="last")
    res = cu[["customer_id", "ck"]].merge(per, on="ck", how="left").fillna({"score": 0.0, "n": 0})
    res = res.rename(columns={"score": "engagement_score", "n": "event_count"})
    res["engagement_score"] = res["engagement_score"].round(4)
    res[["customer_id", "engagement_score", "event_count"]].to_parquet(out) if _has_pyarrow() else \
        duckdb.from_df(res[["customer_id", "engagement_score", "event_count"]]).write_parquet(out)


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: list[str]) -> int:
    kind, db, out = argv
    {"floor": run_floor, "pandas": run_pandas}[kind](db, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
