"""An independent oracle for the CES scoring rules.

Recomputes every customer's score from the raw rows and the weights CSV in plain Python,
following the rules as docs/using-the-score.md states them, without reusing any of the project's SQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

WEIGHTS_CSV = Path(__file__).resolve().parents[2] / "seeds" / "ces_event_weights.csv"
PRIORITIES = {"low", "normal", "high", "urgent"}


@dataclass(frozen=True)
class Delivery:
    source: str
    event_id: str | None
    customer_key: str | None
    event_type: str | None
    occurred_at: dt.datetime | None
    loaded_at: dt.datetime
    defect: str | None


@dataclass(frozen=True)
class Score:
    customer_id: str
    segment: str
    engagement_score: Decimal
    event_count: int
    weights_version: str
    window_start: dt.date
    window_end: dt.date
    previous_engagement_score: Decimal = Decimal(0)


def snake(name: str | None) -> str | None:
    if name is None:
        return None
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip()).lower()
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def clean(value: str | None) -> str | None:
    if value is None or value.strip() == "":
        return None
    return value.strip()


def key(value: str | None) -> str | None:
    v = clean(value)
    return v.lower() if v is not None else None


Weights = dict[tuple[str | None, str], Decimal]  # (segment or None for the default, type) -> w


def read_weights(path: Path = WEIGHTS_CSV) -> dict[str, tuple[dt.date, Weights]]:
    """version -> (effective_from, weights). The segment column is optional: without it every
    row is a default."""
    versions: dict[str, tuple[dt.date, Weights]] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            eff = dt.date.fromisoformat(row["effective_from"])
            segment = (row.get("segment") or "").strip() or None
            versions.setdefault(row["weights_version"], (eff, {}))[1][(segment, row["event_type"])] = \
                Decimal(row["weight"])
    return versions


def weight(weights: Weights, segment: str | None, event_type: str) -> Decimal:
    """The segment's override if the version has one, else the default, else 0."""
    if (segment, event_type) in weights:
        return weights[(segment, event_type)]
    return weights.get((None, event_type), Decimal(0))


def points(weights: Weights, segment: str | None, counts: dict[str, int]) -> Decimal:
    return sum((weight(weights, segment, t) * n for t, n in counts.items()), Decimal(0))


def read_deliveries(con: duckdb.DuckDBPyConnection, raw: str = "raw",
                    future_tolerance_hours: int = 24,
                    min_occurred: dt.datetime = dt.datetime(2000, 1, 1)) -> list[Delivery]:
    out = []
    for event_id, customer_id, _user, name, occurred, loaded in con.execute(
            f"select * from {raw}.product_events").fetchall():
        out.append(_delivery("product", event_id, customer_id, snake(name), occurred, loaded, None,
                             future_tolerance_hours, min_occurred))
    for ticket_id, customer_id, created, priority, loaded in con.execute(
            f"select * from {raw}.support_tickets").fetchall():
        bad = None if priority is not None and priority.strip().lower() in PRIORITIES \
            else "unknown_priority"
        out.append(_delivery("support", ticket_id, customer_id, "support_ticket_opened", created,
                             loaded, bad, future_tolerance_hours, min_occurred))
    return out


def _delivery(source, event_id, customer_id, event_type, occurred, loaded, source_defect,
              tolerance_hours, min_occurred) -> Delivery:
    eid, ckey = clean(event_id), key(customer_id)
    if eid is None:
        defect = "missing_event_id"
    elif ckey is None:
        defect = "missing_customer_id"
    elif occurred is None:
        defect = "missing_occurred_at"
    elif not event_type:
        defect = "missing_event_name"
    elif occurred > loaded + dt.timedelta(hours=tolerance_hours):
        defect = "occurred_after_loaded"
    elif occurred < min_occurred:
        defect = "occurred_before_lower_bound"
    else:
        defect = source_defect
    return Delivery(source, eid, ckey, event_type, occurred, loaded, defect)


def first_copies(deliveries: list[Delivery]) -> list[Delivery]:
    """The earliest-loaded delivery of each (source, event id); ties on content."""
    best: dict[tuple[str, str], Delivery] = {}

    def order(d: Delivery):
        return (d.loaded_at, d.occurred_at or dt.datetime.max, d.event_type or "\uffff",
                d.customer_key or "\uffff")

    for d in deliveries:
        if d.event_id is None:
            continue
        k = (d.source, d.event_id)
        if k not in best or order(d) < order(best[k]):
            best[k] = d
    return list(best.values())


def latest_customers(con: duckdb.DuckDBPyConnection, raw: str = "raw") -> dict[str, tuple]:
    latest: dict[str, tuple] = {}
    for cid, _name, segment, plan, stage, _country, created, loaded in con.execute(
            f"select * from {raw}.customers").fetchall():
        k = key(cid)
        if k is None:
            continue
        if k not in latest or (loaded, created) > (latest[k][4], latest[k][5]):
            seg = clean(segment) or "unknown"
            latest[k] = (clean(cid), seg, plan, stage, loaded, created)
    return latest


def version_at(versions: dict, day: dt.date) -> str | None:
    """The version with the latest effective_from on or before day."""
    eligible = [(eff, v) for v, (eff, _w) in versions.items() if eff <= day]
    return max(eligible)[1] if eligible else None


def load(db_path: str) -> tuple[list[Delivery], dict[str, tuple]]:
    con = duckdb.connect(db_path, read_only=True)
    try:
        return read_deliveries(con), latest_customers(con)
    finally:
        con.close()


def scored_events(deliveries: list[Delivery]) -> list[Delivery]:
    """A defective delivery is quarantined on its own; deduplication is among valid ones."""
    return first_copies([d for d in deliveries if d.defect is None])


def default_as_of(scored: list[Delivery]) -> dt.date:
    return max((d.occurred_at.date() for d in scored), default=dt.date.today())


def scores(db_path: str, as_of: dt.date | None = None, window_days: int = 30,
           weights_csv: Path = WEIGHTS_CSV) -> dict[str, Score]:
    deliveries, customers = load(db_path)
    scored = scored_events(deliveries)
    as_of = as_of or default_as_of(scored)
    start = as_of - dt.timedelta(days=window_days - 1)
    prev_start = start - dt.timedelta(days=window_days)
    versions = read_weights(weights_csv)
    version = version_at(versions, as_of)
    weights = versions[version][1]

    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    previous: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d in scored:
        day = d.occurred_at.date()
        if start <= day <= as_of:
            counts[d.customer_key][d.event_type] += 1
        elif prev_start <= day < start:
            previous[d.customer_key][d.event_type] += 1

    result = {}
    for k, (cid, segment, *_rest) in customers.items():
        n = counts.get(k, {})
        result[cid] = Score(cid, segment, points(weights, segment, n), sum(n.values()), version, start,
                            as_of, points(weights, segment, previous.get(k, {})))
    return result


def monthly_scores(db_path: str, weights_csv: Path = WEIGHTS_CSV
                   ) -> dict[tuple[str, dt.date], tuple[str, Decimal, Decimal]]:
    """(customer_id, month_start) -> (month's version, score, score with the latest version)."""
    deliveries, customers = load(db_path)
    scored = scored_events(deliveries)
    as_of = default_as_of(scored)
    versions = read_weights(weights_csv)
    latest = versions[version_at(versions, as_of)][1]
    counts: dict[tuple[str, dt.date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d in scored:
        day = d.occurred_at.date()
        if day <= as_of:
            counts[(d.customer_key, day.replace(day=1))][d.event_type] += 1
    first_month = min(d.occurred_at.date() for d in scored if d.occurred_at.date() <= as_of
                      ).replace(day=1)
    months = []
    m = first_month
    while m <= as_of.replace(day=1):
        months.append(m)
        m = (m + dt.timedelta(days=32)).replace(day=1)
    result = {}
    for k, (cid, segment, _plan, _stage, _loaded, created) in customers.items():
        for m in months:
            month_end = (m + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            if month_end < created.date():
                continue
            version = version_at(versions, month_end)
            n = counts.get((k, m), {})
            w = versions[version][1] if version else {}
            result[(cid, m)] = (version, points(w, segment, n), points(latest, segment, n))
    return result


# ------------------------------------------------------------------------------ backtests

OUTCOMES_CSV = WEIGHTS_CSV.parent / "ces_outcomes.csv"


def read_outcome_definitions(path: Path = OUTCOMES_CSV) -> dict[str, dict]:
    with open(path, newline="") as f:
        return {row["outcome"]: {**row, "horizon_days": int(row["horizon_days"]),
                                 "eligible": set((row["eligible_stages"] or "").split())}
                for row in csv.DictReader(f)}


def customers_at(con: duckdb.DuckDBPyConnection, day: dt.date) -> dict[str, tuple]:
    """key -> (segment, plan, stage) of the latest CRM row loaded before the end of day."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    latest: dict[str, tuple] = {}
    for cid, _name, segment, plan, stage, _country, created, loaded in con.execute(
            "select * from raw.customers").fetchall():
        k = key(cid)
        if k is None or loaded >= end:
            continue
        if k not in latest or (loaded, created) > latest[k][0]:
            latest[k] = ((loaded, created), clean(segment) or "unknown", (clean(plan) or "unknown").lower(),
                         (clean(stage) or "unknown").lower())
    return {k: v[1:] for k, v in latest.items()}


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    out, m = [], first.replace(day=1)
    while m <= last:
        nxt = (m + dt.timedelta(days=32)).replace(day=1)
        out.append(nxt - dt.timedelta(days=1))
        m = nxt
    return out


def auc_by_pairs(positives: list, negatives: list) -> float | None:
    """Share of (positive, negative) pairs ranked the right way, a tie counting half: the
    definition itself, by brute force."""
    if not positives or not negatives:
        return None
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def top_decile_lift(rows: list[tuple]) -> float | None:
    """rows: (oriented score, positive). Expected positive rate among the ceil(n/10) highest
    scores when ties at the edge are broken at random, over the base rate."""
    n, total = len(rows), sum(1 for _, p in rows if p)
    if total == 0:
        return None
    k = -(-n // 10)
    taken, expected = 0, 0.0
    for score in sorted({s for s, _ in rows}, reverse=True):
        level = [p for s, p in rows if s == score]
        room = min(len(level), k - taken)
        if room <= 0:
            break
        expected += sum(level) * room / len(level)
        taken += room
    return (expected / k) / (total / n)


def backtest(db_path: str, window_days: int = 30, dates: list[dt.date] | None = None,
             weights_csv: Path = WEIGHTS_CSV, outcomes_csv: Path = OUTCOMES_CSV) -> dict[tuple, dict]:
    """(backtest date, version, outcome, segment or 'all') -> population, positives, auc, lift,
    and the population's scores, from the raw tables: events loaded by the end of D that
    occurred in the window, the CRM rows loaded by then, labels in (D, D + horizon]."""
    con = duckdb.connect(db_path, read_only=True)
    try:
        deliveries = read_deliveries(con)
        outcomes = [(key(c), (clean(o) or "").lower(), at, loaded) for c, o, at, loaded in
                    con.execute("select * from raw.customer_outcomes").fetchall()]
        scored = scored_events(deliveries)
        versions = read_weights(weights_csv)
        definitions = read_outcome_definitions(outcomes_csv)
        usable = [(k, o, at) for k, o, at, _ in outcomes if k and at and o in definitions]
        if not outcomes:
            return {}
        first_event = min(d.occurred_at.date() for d in scored)
        last_loaded = max(d.loaded_at.date() for d in deliveries)
        observed = max(last_loaded, max(loaded.date() for *_, loaded in outcomes if loaded))
        candidates = dates or month_ends(first_event, max(d.occurred_at.date() for d in scored))
        result: dict[tuple, dict] = {}
        for day in candidates:
            start = day - dt.timedelta(days=window_days - 1)
            if day > last_loaded or start < first_event:
                continue
            crm = customers_at(con, day)
            counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for d in scored:
                if d.loaded_at.date() <= day and start <= d.occurred_at.date() <= day:
                    counts[d.customer_key][d.event_type] += 1
            label_start = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
            for name, spec in definitions.items():
                label_end = label_start + dt.timedelta(days=spec["horizon_days"])
                if day + dt.timedelta(days=spec["horizon_days"]) > observed:
                    continue
                members = []
                for k, (segment, _plan, stage) in crm.items():
                    if spec["eligible"] and stage not in spec["eligible"]:
                        continue
                    if spec["recurrence"] == "once" and any(
                            ok == k and o == name and at < label_start for ok, o, at in usable):
                        continue
                    positive = any(ok == k and o == name and label_start <= at < label_end
                                   for ok, o, at in usable)
                    members.append((k, segment, positive))
                sign = -1 if spec["polarity"] == "bad" else 1
                for version, (_eff, weights) in versions.items():
                    scored_members = [(segment, sign * points(weights, segment, counts.get(k, {})), positive, k)
                                      for k, segment, positive in members]
                    for group in {"all"} | {m[0] for m in scored_members}:
                        rows = [(s, p) for seg, s, p, _ in scored_members if group in ("all", seg)]
                        pos = [s for s, p in rows if p]
                        neg = [s for s, p in rows if not p]
                        result[(day, version, name, group)] = {
                            "population": len(rows), "positives": len(pos), "auc": auc_by_pairs(pos, neg),
                            "lift": top_decile_lift(rows),
                            "scores": {k: sign * s for seg, s, _, k in scored_members if group in ("all", seg)}}
        return result
    finally:
        con.close()


# ------------------------------------------------------------------ outcome probabilities

CALIBRATION_CSV = WEIGHTS_CSV.parent / "ces_calibration.csv"


def read_calibration(path: Path = CALIBRATION_CSV) -> dict[str, dict[str, dict]]:
    """outcome -> version -> {effective_from, intercept, shifts: {segment: c}, coefficients: {term: c}}."""
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            version = out[row["outcome"].strip()].setdefault(row["calibration_version"].strip(), {
                "effective_from": dt.date.fromisoformat(row["effective_from"]), "intercept": 0.0,
                "shifts": {}, "coefficients": {}})
            term, segment, c = row["term"].strip(), (row["segment"] or "").strip() or None, float(row["coefficient"])
            if term == "intercept" and segment is None:
                version["intercept"] += c
            elif term == "intercept":
                version["shifts"][segment] = c
            else:
                version["coefficients"][term] = c
    return out


def outcome_probabilities(db_path: str, window_days: int = 30, weights_csv: Path = WEIGHTS_CSV,
                          outcomes_csv: Path = OUTCOMES_CSV, calibration_csv: Path = CALIBRATION_CSV
                          ) -> dict[tuple[str, str], tuple[float, dict[str, float]]]:
    """(customer_id, outcome) -> (probability, features) at the as-of date, as
    docs/backtests.md states the model: the features of each customer's score (its percentile
    rank in its segment, its change, the days since its last scored event, its active days and
    the product types it used in the window), for each outcome whose population it is in (stage
    of its latest CRM row, and a once-only outcome not already happened), through the
    calibration version in force."""
    import math

    deliveries, customers = load(db_path)
    scored = scored_events(deliveries)
    as_of = default_as_of(scored)
    start = as_of - dt.timedelta(days=window_days - 1)
    score = scores(db_path, as_of, window_days, weights_csv)
    last_day: dict[str, dt.date] = {}
    active: dict[str, set] = defaultdict(set)
    types: dict[str, set] = defaultdict(set)
    for d in scored:
        day = d.occurred_at.date()
        if day <= as_of:
            last_day[d.customer_key] = max(day, last_day.get(d.customer_key, day))
            if day >= start:
                active[d.customer_key].add(day)
                if d.source == "product":
                    types[d.customer_key].add(d.event_type)
    by_segment: dict[str, list[Decimal]] = defaultdict(list)
    for s in score.values():
        by_segment[s.segment].append(s.engagement_score)
    con = duckdb.connect(db_path, read_only=True)
    try:
        happened = {(key(c), (clean(o) or "").lower(), at) for c, o, at, _ in
                    con.execute("select * from raw.customer_outcomes").fetchall() if at is not None}
    finally:
        con.close()
    definitions = read_outcome_definitions(outcomes_csv)
    calibration = read_calibration(calibration_csv)
    label_start = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    result = {}
    for k, (cid, segment, _plan, stage, *_rest) in customers.items():
        s = score[cid]
        peers = by_segment[segment]
        percentile = (sum(1 for p in peers if p < s.engagement_score) / (len(peers) - 1)) if len(peers) > 1 else 0.0
        now, before = float(s.engagement_score), float(s.previous_engagement_score)
        change = max(-1.0, min(1.0, (now - before) / abs(before))) if before != 0 else \
            (1.0 if now > before else -1.0 if now < before else 0.0)
        features = {"segment_percentile": percentile, "score_change": change,
                    "days_since_last_event": float(min((as_of - last_day[k]).days, 90)) if k in last_day else 90.0,
                    "active_days": float(len(active[k])), "distinct_event_types": float(len(types[k]))}
        for outcome, spec in definitions.items():
            versions = calibration.get(outcome, {})
            in_force = [(v["effective_from"], name) for name, v in versions.items() if v["effective_from"] <= as_of]
            if not in_force or (spec["eligible"] and (stage or "").strip().lower() not in spec["eligible"]):
                continue
            if spec["recurrence"] == "once" and any(hk == k and o == outcome and at < label_start
                                                     for hk, o, at in happened):
                continue
            model = versions[max(in_force)[1]]
            log_odds = model["intercept"] + model["shifts"].get(segment, 0.0) + sum(
                c * features[t] for t, c in model["coefficients"].items())
            result[(cid, outcome)] = (1 / (1 + math.exp(-max(-30.0, min(30.0, log_odds)))), features)
    return result
