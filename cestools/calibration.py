"""Calibrated probabilities: the chance that a customer has an outcome within its horizon.

    python -m cestools.calibration --outcome churned [--min-positives 30]   # make calibrate OUTCOME=churned

Fits, on the backtest points of the last `make build` (intermediate.int_outcome_features with
the answers of intermediate.int_backtest_population), a logistic model of "the outcome occurs
within its horizon" on the features known at D (macro ces_outcome_features: one coefficient per
feature_ column). A segment with at least MIN_POSITIVES positives on the fitting dates shifts the
intercept. The later third of the dates is the holdout: the report gives its AUC, Brier score,
the Brier score of predicting the fitting dates' base rate, the log loss and a reliability table.

It writes a candidate to target/suggestions/ces_calibration_<outcome>.csv, in the format of
seeds/ces_calibration.csv, and changes nothing in the warehouse: a person reviews it and adds
its rows to the seed in a pull request, as with the weights (docs/backtests.md). The SQL model
int_outcome_probabilities applies the seed; this module only fits and measures.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from cestools import config, engines, errors
from cestools.backtest import NO_OUTCOMES, SUGGESTIONS, auc, check_positives, next_version, split_dates
from cestools.engines import quote
from cestools.errors import CesError

PREFIX = "feature_"
SEED_COLUMNS = ["calibration_version", "effective_from", "outcome", "term", "segment", "coefficient", "description"]


@dataclass
class Fit:
    outcome: str
    horizon_days: int
    features: list[str]
    intercept: float
    coefficients: dict[str, float]  # per feature, in the feature's own units
    segment_shifts: dict[str, float]  # per segment with enough positives
    train_dates: list
    holdout_dates: list
    train_rate: float


def load(wh, outcome: str):
    """The backtest points of the outcome: one row per date and customer, with the features and
    the answer (is_positive), on the dates whose horizon has been observed."""
    known = [o for (o,) in wh.fetchall("select outcome from staging.stg_seeds__outcomes order by 1")]
    if outcome not in known:
        raise CesError(f"OUTCOME is {outcome!r}; allowed: an outcome of seeds/ces_outcomes.csv ({', '.join(known)}).")
    frame = wh.frame(f"""
        select f.*, p.is_positive as is_positive
        from intermediate.int_outcome_features as f
        inner join intermediate.int_backtest_population as p
            on p.backtest_date = f.scoring_date and p.outcome = f.outcome
            and p.customer_key = f.customer_key and p.is_version_in_force
        where f.point_kind = 'backtest' and f.outcome = {quote(outcome)}
        order by f.scoring_date, f.customer_key""")
    if frame.empty:
        raise CesError(f"{outcome}: no backtest date has an answer yet. " + NO_OUTCOMES)
    frame["is_positive"] = frame["is_positive"].astype(bool)
    frame["scoring_date"] = [d.date() if hasattr(d, "date") else d for d in frame["scoring_date"]]
    for column in frame.columns:
        if column.startswith(PREFIX):
            frame[column] = frame[column].astype(float)
    return frame


def design(frame, features: list[str], segments: list[str]):
    import numpy as np

    columns = [frame[PREFIX + f].to_numpy() for f in features]
    columns += [(frame["segment"] == s).to_numpy().astype(float) for s in segments]
    return np.column_stack(columns) if columns else np.zeros((len(frame), 0))


def fit(frame, outcome: str, min_positives: int) -> Fit:
    """L2 logistic regression (scikit-learn, weak penalty) on standardised features, turned
    back into coefficients per unit of each feature."""
    from sklearn.linear_model import LogisticRegression

    dates = sorted(frame["scoring_date"].unique())
    train_dates, holdout_dates = split_dates(dates)
    train = frame[frame["scoring_date"].isin(train_dates)]
    holdout = frame[frame["scoring_date"].isin(holdout_dates)]
    check_positives(outcome, [("fitting", train, train_dates), ("holdout", holdout, holdout_dates)],
                    min_positives, "a calibration")
    features = sorted(c[len(PREFIX):] for c in frame.columns if c.startswith(PREFIX))
    free = [f for f in features if train[PREFIX + f].std() > 0]
    # a segment shifts the intercept only where it has enough positives; the segment with the
    # most customers among them stays the base, so the shifts are not collinear with it
    by_segment = train.groupby("segment")["is_positive"].agg(["sum", "count"])
    enough = by_segment[by_segment["sum"] >= min_positives]
    base = enough["count"].idxmax() if len(enough) == len(by_segment) and len(enough) else None
    segments = sorted(s for s in enough.index if s != base and isinstance(s, str))
    x = design(train, free, segments)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=10000)
    model.fit((x - mean) / scale, train["is_positive"].to_numpy())
    raw = model.coef_[0] / scale
    intercept = float(model.intercept_[0] - (raw * mean).sum())
    coefficients = {f: 0.0 for f in features}
    coefficients.update({f: float(b) for f, b in zip(free, raw[:len(free)], strict=True)})
    shifts = {s: float(b) for s, b in zip(segments, raw[len(free):], strict=True)}
    return Fit(outcome, int(frame["horizon_days"].iloc[0]), features, intercept, coefficients, shifts,
               train_dates, holdout_dates, float(train["is_positive"].mean()))


def rounded(value: float) -> float:
    """A coefficient as the seed holds it: 6 significant digits, written as a plain decimal."""
    return float(f"{value:.6g}") + 0.0


def predict(fitted: Fit, frame):
    """The probability of the rounded coefficients, as the candidate's seed rows give it."""
    import numpy as np

    log_odds = np.full(len(frame), rounded(fitted.intercept))
    for f in fitted.features:
        log_odds += rounded(fitted.coefficients[f]) * frame[PREFIX + f].to_numpy()
    for s, shift in fitted.segment_shifts.items():
        log_odds += rounded(shift) * (frame["segment"] == s).to_numpy()
    return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -30, 30)))


def reliability(predicted, observed, bins: int = 10) -> list[tuple[int, int, float, float]]:
    """(decile, customers, mean predicted, observed rate), deciles cut by predicted probability."""
    import numpy as np

    order = np.argsort(predicted, kind="stable")
    rows = []
    for i, part in enumerate(np.array_split(order, bins), start=1):
        if len(part):
            rows.append((i, len(part), float(predicted[part].mean()), float(observed[part].mean())))
    return rows


def measures(predicted, observed, base_rate: float) -> dict[str, float]:
    import numpy as np

    p = np.clip(predicted, 1e-6, 1 - 1e-6)
    brier = float(((predicted - observed) ** 2).mean())
    base = float(((base_rate - observed) ** 2).mean())
    return {"auc": auc(predicted, observed), "brier": brier, "base_brier": base,
            "skill": 1 - brier / base if base > 0 else float("nan"),
            "log_loss": float(-(observed * np.log(p) + (1 - observed) * np.log(1 - p)).mean())}


def candidate_rows(wh, fitted: Fit, effective_from: dt.date | None) -> tuple[str, dt.date, list[list[str]]]:
    versions = wh.fetchall(f"""select calibration_version, max(effective_from) from staging.stg_seeds__calibration
                               where outcome = {quote(fitted.outcome)} group by calibration_version""")
    name = next_version([v for v, _ in versions])
    newest = max((d for _, d in versions), default=None)
    effective_from = effective_from or max(dt.date.today(), newest + dt.timedelta(days=1) if newest else dt.date.min)
    span = f"fitted on {fitted.train_dates[0]} to {fitted.train_dates[-1]}"
    rows = [[name, effective_from.isoformat(), fitted.outcome, "intercept", "", f"{rounded(fitted.intercept):f}",
             f"Log-odds of {fitted.outcome} within {fitted.horizon_days} days at 0 on every feature ({span})"]]
    for s, shift in sorted(fitted.segment_shifts.items()):
        rows.append([name, effective_from.isoformat(), fitted.outcome, "intercept", s, f"{rounded(shift):f}",
                     f"Shift of the intercept for {s} customers: odds x{math.exp(shift):.3f} ({span})"])
    for f in fitted.features:
        c = rounded(fitted.coefficients[f])
        effect = "no effect found" if c == 0 else f"each unit multiplies the odds by {math.exp(c):.4f}"
        rows.append([name, effective_from.isoformat(), fitted.outcome, f, "", f"{c:f}", f"{f}: {effect} ({span})"])
    return name, effective_from, rows


def calibrate(wh, outcome: str, min_positives: int, effective_from: dt.date | None = None
              ) -> tuple[Path, Path, list[str], dict]:
    """Fit, judge on the holdout dates and write the candidate: (candidate csv, report, report
    lines, the holdout's measures with its reliability table under "reliability")."""
    frame = load(wh, outcome)
    fitted = fit(frame, outcome, min_positives)
    holdout = frame[frame["scoring_date"].isin(fitted.holdout_dates)]
    observed = holdout["is_positive"].to_numpy().astype(float)
    predicted = predict(fitted, holdout)
    m = measures(predicted, observed, fitted.train_rate)
    table = reliability(predicted, observed)
    name, effective_from, rows = candidate_rows(wh, fitted, effective_from)
    SUGGESTIONS.mkdir(parents=True, exist_ok=True)
    csv_path = SUGGESTIONS / f"ces_calibration_{outcome}.csv"
    with csv_path.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")  # as the seeds are written
        out.writerow(SEED_COLUMNS)
        out.writerows(rows)
    train = frame[frame["scoring_date"].isin(fitted.train_dates)]
    lines = [f"Calibration for {outcome} (within {fitted.horizon_days} days): candidate {name} from {effective_from}",
             f"  fitted on {len(fitted.train_dates)} dates ({fitted.train_dates[0]} to {fitted.train_dates[-1]}; "
             f"{int(train['is_positive'].sum())} positives of {len(train)}), judged on {len(fitted.holdout_dates)} "
             f"later dates ({', '.join(map(str, fitted.holdout_dates))}; {int(observed.sum())} positives of "
             f"{len(observed)})",
             "  logistic regression on " + ", ".join(fitted.features)
             + (f"; intercept shifts for {', '.join(fitted.segment_shifts)}" if fitted.segment_shifts else
                f"; no segment has {min_positives} positives (MIN_POSITIVES) for an intercept shift"), "",
             f"  holdout  AUC {m['auc']:.3f}   Brier {m['brier']:.4f}   base-rate Brier {m['base_brier']:.4f} "
             f"(predicting {fitted.train_rate:.3f} for everyone)   Brier skill {m['skill']:+.3f}   "
             f"log loss {m['log_loss']:.4f}", "",
             "  reliability on the holdout (deciles of the predicted probability)",
             f"  {'decile':>6}{'customers':>11}{'predicted':>11}{'observed':>10}"]
    for decile, customers, mean_p, rate in table:
        lines.append(f"  {decile:>6}{customers:>11}{mean_p:>11.3f}{rate:>10.3f}")
    lines += ["", f"  {'term':<24}{'segment':<12}{'coefficient':>14}"]
    lines += [f"  {r[3]:<24}{r[4]:<12}{r[5]:>14}" for r in rows]
    lines += ["", f"  candidate: {csv_path} (the seed's format; review it, then add its rows to "
                  "seeds/ces_calibration.csv in a pull request)"]
    report_path = SUGGESTIONS / f"ces_calibration_{outcome}.txt"
    report_path.write_text("\n".join(lines) + "\n")
    return csv_path, report_path, lines, {**m, "reliability": table}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--outcome", help="an outcome of seeds/ces_outcomes.csv")
    p.add_argument("--min-positives", type=int, default=30,
                   help="refuse below this many positives on the fitting or the holdout dates; also the fewest "
                        "positives a segment needs for its own intercept shift")
    p.add_argument("--effective-from", type=dt.date.fromisoformat, default=None)
    a = p.parse_args(argv)
    if not a.outcome:
        raise CesError("OUTCOME is missing: make calibrate OUTCOME=<an outcome of seeds/ces_outcomes.csv>")
    wh = engines.open_warehouse(config.load())
    try:
        *_, lines, _ = calibrate(wh, a.outcome.strip().lower(), a.min_positives, a.effective_from)
    finally:
        wh.close()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(errors.run(main))
