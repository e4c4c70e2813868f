"""Does the score predict anything? Reports on the backtest marts, and suggestions from them.

    python -m cestools.backtest report                       # make backtest
    python -m cestools.backtest suggest-weights --outcome churned [--non-negative] [--min-positives 30]
    python -m cestools.backtest suggest-thresholds [--precision 0.5]

All three read what `make build` built (marts.fct_score_backtest, marts.fct_flag_backtest and,
for the suggestions, intermediate.int_backtest_population and the scoring chain's backtest
points) and change nothing in the warehouse. suggest-thresholds evaluates the flags with their
own SQL rule (macro ces_flag_rule, through ces_flag_threshold_grid), never a copy of it. The suggestions are files for a
pull request, never edits of the seed or the vars (docs/backtests.md).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cestools import config, engines, errors, settings
from cestools.engines import quote
from cestools.errors import CesError

# relative to the dbt project the command runs in (the current directory; ces --project-dir)
SUGGESTIONS = Path("target") / "suggestions"
NO_OUTCOMES = ("The backtest marts are empty: raw.customer_outcomes is absent or empty, or no backtest date "
               "has its whole horizon observed yet. Load the outcomes your CRM records (docs/backtests.md) "
               "and run `make build` again.")


def fetch_frame(wh, sql: str, names: list[str]):
    import pandas as pd

    return pd.DataFrame(wh.fetchall(sql), columns=names)


# ---------------------------------------------------------------------------- the report

def report(wh, recent: int = 2) -> list[str]:
    rows = wh.fetchall("""
        select outcome, polarity, weights_version, is_version_in_force, backtest_date, population,
               positives, auc, top_decile_lift
        from marts.fct_score_backtest where segment = 'all'
        order by outcome, weights_version, backtest_date""")
    if not rows:
        raise CesError(NO_OUTCOMES)
    flags = wh.fetchall("""
        select flag, outcome, backtest_date, population, flagged, positives, true_positives,
               flag_precision, flag_recall, lift
        from marts.fct_flag_backtest where is_version_in_force
        order by flag, backtest_date""")
    lines = ["Backtest: how well each weights version's score ranked each outcome",
             "(AUC: 0.5 is chance, 1 perfect; lift: positive rate in the top 10% of scores over the base rate)"]
    sentences = []
    for outcome in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == outcome]
        dates = sorted({r[4] for r in mine})
        versions = sorted({r[2] for r in mine})
        latest = dates[-recent:]
        in_force = sorted({r[2] for r in mine if r[3] and r[4] == dates[-1]})
        polarity = mine[0][1]
        positives = {r[4]: (r[5], r[6]) for r in mine}
        lines += ["", f"{outcome} ({polarity}; {len(dates)} backtest dates, {dates[0]} to {dates[-1]}; "
                      f"positives per date: " + ", ".join(f"{positives[d][1]}/{positives[d][0]}" for d in dates) + ")"]
        head = f"  {'version':<10}" + "".join(f"{'AUC ' + str(d):>17}" for d in dates) + f"{'mean AUC':>10}" + \
            "".join(f"{'lift ' + str(d):>18}" for d in latest)
        lines.append(head)
        means = {}
        for version in versions:
            by_date = {r[4]: r for r in mine if r[2] == version}
            aucs = [float(by_date[d][7]) for d in dates if by_date.get(d) and by_date[d][7] is not None]
            means[version] = (sum(aucs) / len(aucs), len(aucs)) if aucs else (None, 0)
            cells = "".join(f"{_num(by_date[d][7], 3) if d in by_date else '-':>17}" for d in dates)
            lifts = "".join(f"{_num(by_date[d][8], 2) if d in by_date else '-':>18}" for d in latest)
            label = version + (" *" if version in in_force else "")
            lines.append(f"  {label:<10}{cells}{_num(means[version][0], 3):>10}{lifts}")
        sentences.append(verdict(outcome, means, in_force[0] if in_force else None))
    lines += ["", "  * in force at the latest backtest date", "",
              "Flags (version in force at each date): precision = flagged who had the outcome, "
              "recall = those with the outcome who were flagged"]
    lines.append(f"  {'flag':<31}{'outcome':<11}{'date':<12}{'flagged':>8}{'positives':>10}"
                 f"{'precision':>10}{'recall':>8}{'lift':>7}")
    for flag, outcome, date, _pop, flagged, positives, _tp, precision, recall, lift in flags:
        lines.append(f"  {flag:<31}{outcome:<11}{date!s:<12}{flagged:>8}{positives:>10}"
                     f"{_num(precision, 2):>10}{_num(recall, 2):>8}{_num(lift, 2):>7}")
    lines += reliability_report(wh) + [""] + sentences
    return lines


def reliability_report(wh) -> list[str]:
    """Each outcome's newest calibration version (seeds/ces_calibration.csv), as
    fct_calibration_backtest measured it on every backtest date: per decile of the probability,
    the customers, the mean predicted probability and the observed rate over the dates, and the
    Brier skill against each date's base rate. Dates before its effective_from may be the ones
    it was fitted on (make calibrate names them)."""
    newest = """
        select outcome, max(calibration_version) as calibration_version, max(effective_from) as effective_from
        from staging.stg_seeds__calibration as s
        where effective_from = (select max(effective_from) from staging.stg_seeds__calibration as o
                                where o.outcome = s.outcome)
        group by outcome"""
    rows = wh.fetchall(f"""
        select c.outcome, n.calibration_version, n.effective_from, c.probability_decile, sum(c.customers),
               sum(c.mean_predicted_probability * c.customers) / sum(c.customers),
               sum(c.observed_rate * c.customers) / sum(c.customers)
        from marts.fct_calibration_backtest as c
        inner join ({newest}) as n on c.outcome = n.outcome and c.calibration_version = n.calibration_version
        group by c.outcome, n.calibration_version, n.effective_from, c.probability_decile
        order by c.outcome, c.probability_decile""")
    if not rows:
        return ["", "Calibrated probabilities: none measured yet (seeds/ces_calibration.csv; make calibrate, "
                    "docs/backtests.md)."]
    skill = {(o, v): s for o, v, s in wh.fetchall("""
        select outcome, calibration_version,
               1 - sum(brier_score * population) / sum(base_rate_brier_score * population)
        from (select distinct outcome, calibration_version, backtest_date, population, brier_score,
                     base_rate_brier_score
              from marts.fct_calibration_backtest) as dated
        group by outcome, calibration_version""")}
    lines = ["", "Calibrated probabilities: each outcome's newest calibration on every backtest date "
                 "(reliability: deciles of the probability)",
             f"  {'outcome':<11}{'version':<9}{'decile':>7}{'customers':>11}{'predicted':>11}{'observed':>10}"]
    for outcome, version, _eff, decile, customers, predicted, observed in rows:
        lines.append(f"  {outcome:<11}{version:<9}{decile:>7}{customers:>11}{float(predicted):>11.3f}"
                     f"{float(observed):>10.3f}")
    for outcome, version, effective in sorted({(r[0], r[1], r[2]) for r in rows}):
        s = skill.get((outcome, version))
        lines.append(f"  {outcome} {version} (effective {effective}): Brier skill "
                     f"{'-' if s is None else f'{float(s):+.3f}'} against each date's base rate")
    return lines


def verdict(outcome: str, means: dict[str, tuple[float | None, int]], in_force: str | None) -> str:
    """One plain sentence: the version that ranks the outcome best against the one in force."""
    scored = {v: m for v, m in means.items() if m[0] is not None}
    if not scored:
        return f"{outcome}: no date had both positives and negatives, so no version can be judged yet."
    best = max(scored, key=lambda v: (scored[v][0], v))
    n = scored[best][1]
    alike = sorted(v for v in scored if abs(scored[v][0] - scored[best][0]) < 0.005)
    if len(alike) > 1:
        return (f"{' and '.join(alike)} rank {outcome} alike: mean AUC {scored[best][0]:.2f} over {n} backtest "
                "dates (within 0.005 of each other).")
    if in_force is None or in_force not in scored or best == in_force:
        others = [v for v in scored if v != best]
        if not others:
            return f"{best} ranks {outcome} with a mean AUC of {scored[best][0]:.2f} over {n} backtest dates."
        runner = max(others, key=lambda v: (scored[v][0], v))
        return (f"{best}{' (in force)' if best == in_force else ''} ranks {outcome} best: AUC "
                f"{scored[best][0]:.2f} vs {scored[runner][0]:.2f} for {runner} over {n} backtest dates.")
    return (f"{best} ranks {outcome} better than {in_force} (in force): AUC {scored[best][0]:.2f} vs "
            f"{scored[in_force][0]:.2f} over {n} backtest dates.")


def _num(value, digits: int) -> str:
    return "-" if value is None else f"{float(value):.{digits}f}"


# ------------------------------------------------------------------ suggested weights

@dataclass
class Dataset:
    outcome: str
    polarity: str
    dates: list[dt.date]
    frame: object  # pandas DataFrame: backtest_date, customer_key, is_positive, in_force_score, <types>
    types: list[str]
    in_force: str
    in_force_weights: dict[str, float]


def load_dataset(wh, outcome: str) -> Dataset:

    known = [o for (o,) in wh.fetchall("select outcome from staging.stg_seeds__outcomes order by 1")]
    if outcome not in known:
        raise CesError(f"OUTCOME is {outcome!r}; allowed: an outcome of seeds/ces_outcomes.csv ({', '.join(known)}).")
    population = fetch_frame(wh, f"""
        select backtest_date as backtest_date, customer_key as customer_key, is_positive as is_positive,
               engagement_score as in_force_score, weights_version as weights_version,
               polarity as polarity
        from intermediate.int_backtest_population
        where outcome = {quote(outcome)} and is_version_in_force
        order by backtest_date, customer_key""",
        ["backtest_date", "customer_key", "is_positive", "in_force_score", "weights_version", "polarity"])
    if population.empty:
        raise CesError(NO_OUTCOMES)
    counts = fetch_frame(wh, f"""
        select pt.scoring_date as backtest_date, e.customer_key as customer_key, e.event_type as event_type,
               e.event_count as event_count
        from intermediate.int_point_event_counts as e
        inner join intermediate.int_scoring_points as pt
            on e.point_id = pt.point_id and pt.point_kind = 'backtest'
        inner join (select distinct backtest_date, customer_key from intermediate.int_backtest_population
                    where outcome = {quote(outcome)}) as p
            on pt.scoring_date = p.backtest_date and e.customer_key = p.customer_key
        where e.event_count > 0""", ["backtest_date", "customer_key", "event_type", "event_count"])
    wide = counts.pivot_table(index=["backtest_date", "customer_key"], columns="event_type",
                              values="event_count", aggfunc="sum", fill_value=0)
    frame = population.merge(wide.reset_index(), on=["backtest_date", "customer_key"], how="left")
    # the version in force at the latest date is the one the candidate competes with
    latest = population["backtest_date"].max()
    in_force = population.loc[population["backtest_date"] == latest, "weights_version"].iloc[0]
    weights = dict(wh.fetchall(f"""select event_type, weight from staging.stg_weights__event_weights
                                   where weights_version = {quote(in_force)} and segment is null"""))
    types = sorted(set(weights) | set(wide.columns))
    for t in types:
        frame[t] = frame[t].fillna(0).astype(float) if t in frame else 0.0
    frame["is_positive"] = frame["is_positive"].astype(bool)
    frame["in_force_score"] = frame["in_force_score"].astype(float)
    return Dataset(outcome, population["polarity"].iloc[0], sorted(population["backtest_date"].unique()),
                   frame, types, in_force, {t: float(w) for t, w in weights.items() if w is not None})


def split_dates(dates: list) -> tuple[list, list]:
    """Earlier dates to fit on, the later third (rounded up) to judge on: a split by time,
    so no customer's later state leaks into the fit."""
    if len(dates) < 2:
        raise CesError(f"only {len(dates)} backtest date has its whole horizon observed; a split by time "
                       "needs at least 2 (a longer history, or more dates in ces_backtest_dates).")
    holdout = math.ceil(len(dates) / 3)
    return dates[:-holdout], dates[-holdout:]


def check_positives(outcome: str, parts: list[tuple], min_positives: int, what: str) -> None:
    """Refuse a fit with too few positives, or only positives, on the fitting or the holdout
    dates: parts are (name, frame with is_positive, dates)."""
    for name, part, dates in parts:
        n = int(part["is_positive"].sum())
        if n < min_positives:
            raise CesError(
                f"{outcome}: only {n} positive(s) on the {name} dates ({', '.join(map(str, dates))}); "
                f"at least {min_positives} are needed (MIN_POSITIVES) for {what} worth reviewing. "
                "No candidate was written. Wait for more history, or lower MIN_POSITIVES knowingly.")
        if n == len(part):
            raise CesError(f"{outcome}: every customer on the {name} dates is positive; nothing to rank.")


def fit_weights(data: Dataset, non_negative: bool, c: float = 1.0) -> dict[str, float]:
    """L2 logistic regression on the counts (scikit-learn), oriented so a high score is good:
    returns log-odds per event for the outcome, negated for a bad outcome. With non_negative,
    every type but the friction ones (negative weight in the version in force) is held >= 0 and
    the friction ones <= 0: a type fitted with the wrong sign is fixed at 0 and the rest refit."""
    from sklearn.linear_model import LogisticRegression

    train_dates, _ = split_dates(data.dates)
    train = data.frame[data.frame["backtest_date"].isin(train_dates)]
    sign = -1.0 if data.polarity == "bad" else 1.0
    free = [t for t in data.types if train[t].std() > 0]
    fitted = {t: 0.0 for t in data.types}
    while free:
        x = train[free].to_numpy()
        scale = x.std(axis=0)
        model = LogisticRegression(C=c, max_iter=5000)
        model.fit(x / scale, train["is_positive"].to_numpy())
        oriented = {t: sign * b / s for t, b, s in zip(free, model.coef_[0], scale, strict=True)}
        wrong = [t for t, w in oriented.items() if non_negative and
                 ((w < 0) if data.in_force_weights.get(t, 0) >= 0 else (w > 0))]
        if not wrong:
            fitted.update(oriented)
            break
        free = [t for t in free if t not in wrong]
    return fitted


def rescale(data: Dataset, fitted: dict[str, float]) -> dict[str, float]:
    """Onto the scale of the version in force: the candidate's scores get the same spread
    (standard deviation over the population) as today's, so its weights read like today's."""
    x = data.frame[data.types].to_numpy()
    today = x @ [data.in_force_weights.get(t, 0.0) for t in data.types]
    new = x @ [fitted[t] for t in data.types]
    factor = today.std() / new.std() if new.std() > 0 else 1.0
    return {t: round(w * factor, 2) + 0.0 for t, w in fitted.items()}


def auc(scores, labels) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def bootstrap_interval(scores, labels, reps: int = 1000, seed: int = 7) -> tuple[float, float]:
    """95% percentile interval of the AUC over customers resampled with replacement."""
    import numpy as np

    rng = np.random.default_rng(seed)
    scores, labels = np.asarray(scores), np.asarray(labels)
    values = []
    for _ in range(reps):
        pick = rng.integers(0, len(labels), len(labels))
        if labels[pick].all() or not labels[pick].any():
            continue
        values.append(auc(scores[pick], labels[pick]))
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def next_version(names: list[str]) -> str:
    numbers = [int(m.group(1)) for n in names if (m := re.fullmatch(r"v(\d+)", n))]
    return f"v{max(numbers, default=0) + 1}"


def suggest_weights(wh, outcome: str, non_negative: bool, min_positives: int,
                    effective_from: dt.date | None = None) -> tuple[Path, Path, list[str]]:
    import numpy as np

    data = load_dataset(wh, outcome)
    train_dates, holdout_dates = split_dates(data.dates)
    frame = data.frame
    train = frame[frame["backtest_date"].isin(train_dates)]
    holdout = frame[frame["backtest_date"].isin(holdout_dates)]
    check_positives(outcome, [("fitting", train, train_dates), ("holdout", holdout, holdout_dates)],
                    min_positives, "weights")
    fitted = fit_weights(data, non_negative)
    weights = rescale(data, fitted)
    sign = -1.0 if data.polarity == "bad" else 1.0
    labels = holdout["is_positive"].to_numpy()
    x = holdout[data.types].to_numpy()
    candidate_scores = x @ np.array([weights[t] for t in data.types])
    today_scores = sign * holdout["in_force_score"].to_numpy()
    today_auc, new_auc = auc(today_scores, labels), auc(sign * candidate_scores, labels)
    today_ci, new_ci = bootstrap_interval(today_scores, labels), bootstrap_interval(sign * candidate_scores, labels)

    versions = wh.fetchall("select weights_version, max(effective_from) from staging.stg_weights__event_weights "
                           "group by weights_version")
    name = next_version([v for v, _ in versions])
    newest = max(d for _, d in versions)
    effective_from = effective_from or max(dt.date.today(), newest + dt.timedelta(days=1))
    SUGGESTIONS.mkdir(parents=True, exist_ok=True)
    csv_path = SUGGESTIONS / f"ces_event_weights_{outcome}.csv"
    span = f"{train_dates[0]} to {train_dates[-1]}"
    with csv_path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["weights_version", "effective_from", "segment", "event_type", "weight", "description"])
        for t in data.types:
            odds = math.exp(-sign * fitted[t]) if data.polarity == "bad" else math.exp(fitted[t])
            effect = ("no effect found" if weights[t] == 0 else
                      f"each event multiplies the odds of {outcome} by {odds:.3f}")
            out.writerow([name, effective_from.isoformat(), "", t, f"{weights[t]:g}",
                          f"Fitted on {outcome} ({span}): {effect}"])
    lines = [f"Suggested weights for {outcome} ({data.polarity}): candidate {name} from {effective_from}, "
             f"against {data.in_force} (in force)",
             f"  fitted on {len(train_dates)} dates ({span}; {int(train['is_positive'].sum())} positives of "
             f"{len(train)}), judged on {len(holdout_dates)} later dates ({', '.join(map(str, holdout_dates))}; "
             f"{int(labels.sum())} positives of {len(labels)})",
             "  L2 logistic regression on the event counts"
             + (", non-negative except friction types" if non_negative else "")
             + f", rescaled to the spread of {data.in_force}'s scores", "",
             f"  holdout AUC  {data.in_force}: {today_auc:.3f} (95% CI {today_ci[0]:.3f}-{today_ci[1]:.3f})   "
             f"{name}: {new_auc:.3f} (95% CI {new_ci[0]:.3f}-{new_ci[1]:.3f})", "",
             "  (per SD: the fitted effect of one standard deviation of the count on the log-odds, oriented so",
             "  + is good; it compares frequent and rare types, which the per-event weights do not)",
             f"  {'event_type':<24}{data.in_force:>10}{name:>10}{'per SD':>10}"]
    per_sd = {t: fitted[t] * float(train[t].std()) for t in data.types}
    for t in sorted(data.types, key=lambda t: -abs(per_sd[t])):
        today = data.in_force_weights.get(t)
        lines.append(f"  {t:<24}{'-' if today is None else f'{today:g}':>10}{weights[t]:>10g}{per_sd[t]:>+10.2f}")
    lines += ["", f"  candidate: {csv_path} (the seed's format; review it, then add its rows "
                  "to seeds/ces_event_weights.csv in a pull request)"]
    report_path = SUGGESTIONS / f"ces_event_weights_{outcome}.txt"
    report_path.write_text("\n".join(lines) + "\n")
    return csv_path, report_path, lines


# --------------------------------------------------------------- suggested thresholds

GRID_COLUMNS = ["flag", "outcome", "definition", "threshold_1", "value_1", "threshold_2", "value_2",
                "true_positives", "flagged", "positives", "population"]


def threshold_grid_sql(cli_vars: str | None) -> str:
    """The SQL of macro ces_flag_threshold_grid for this project and these vars: each flag's rule
    (ces_flag_rule) over the backtest for a grid of thresholds. dbt compiles it into a folder of
    its own, so target/'s record of the last build stays as it is."""
    with tempfile.TemporaryDirectory() as tmp:
        # compiled as the project's own SQL: in a host project that installs CES as a package,
        # the macro is CES's and CES's vars are given whole
        cmd = [str(Path(sys.executable).parent / "dbt"), "compile", "--inline", "{{ ces.ces_flag_threshold_grid() }}",
               "--quiet", "--target-path", tmp, "--log-path", tmp,
               "--vars", settings.vars_text(settings.project_vars(cli_vars))]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CesError("dbt could not compile the threshold grid (macro ces_flag_threshold_grid):\n"
                       + (proc.stdout + proc.stderr).strip()[-2000:])
    return proc.stdout


def measure(tp: int, flagged: int, positives: int) -> tuple[float | None, float | None, float]:
    """Precision, recall and F1 from the counts (None where undefined, F1 0 then)."""
    precision = tp / flagged if flagged else None
    recall = tp / positives if positives else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    return precision, recall, f1


def suggest_thresholds(wh, current: dict, min_precision: float | None, grid_sql: str) -> list[str]:
    """The thresholds that would have done best on the backtest, from the rows of grid_sql
    (threshold_grid_sql): the best F1, or the highest recall at min_precision; per flag by its
    rule, and, for a flag with an outcome, by the minimum probability of that outcome."""
    grid = fetch_frame(wh, grid_sql, GRID_COLUMNS)
    if grid.empty:
        raise CesError(NO_OUTCOMES)
    goal = "best F1" if min_precision is None else f"highest recall with precision >= {min_precision:g}"
    lines = [f"Suggested flag thresholds ({goal}, on every backtest date; version in force at each date;",
             " by probability: the calibration in force at the as-of date)"]
    for flag in sorted(grid["flag"].unique()):
        for definition in ("rule", "probability"):
            rows = grid[(grid["flag"] == flag) & (grid["definition"] == definition)]
            if not rows.empty:
                lines += ["", *_suggest_one(flag, definition, rows, current, min_precision)]
    lines += ["", "A suggestion only: change the vars in dbt_project.yml in a pull request (docs/backtests.md).",
              "A flag is defined by probability when its ces_*_min_probability var is set (docs/using-the-score.md)."]
    return lines


def _suggest_one(flag: str, definition: str, rows, current: dict, min_precision: float | None) -> list[str]:
    """The lines of one flag and definition: now (when that definition is the one set) and suggested."""
    # the first best in the order of the thresholds' values, so ties resolve the same way everywhere
    rows = rows.sort_values(["value_1", "value_2"], na_position="first")
    names = [n for n in (rows["threshold_1"].iloc[0], rows["threshold_2"].iloc[0]) if isinstance(n, str) and n]
    cast = float if definition == "probability" else int
    now_values = {n: cast(current[n]) for n in names if current.get(n) is not None}
    best, now_row = None, None
    for row in rows.itertuples(index=False):
        values = dict(zip(names, (cast(row.value_1), *([] if len(names) < 2 else [cast(row.value_2)])), strict=True))
        precision, recall, f1 = measure(int(row.true_positives), int(row.flagged), int(row.positives))
        if values == now_values:
            now_row = (values, precision, recall, f1)
        key = f1 if min_precision is None else (recall or 0) if (precision or 0) >= min_precision else -1
        if best is None or key > best[0]:
            best = (key, values, precision, recall, f1)
    first = rows.iloc[0]
    lines = [f"  {flag} by {definition} -> {first['outcome']} "
             f"({int(first['positives'])} positives of {int(first['population'])})"]
    if now_row is None:  # the grid holds the current values of the definition that is set
        lines.append(f"    now:       {'not set: ' + names[0] + ' is null (the rule is used)':<58}")
    else:
        now, p_now, r_now, f_now = now_row
        lines.append(f"    now:       {_vars(now):<58} precision {_num(p_now, 2)}  recall {_num(r_now, 2)}  F1 {f_now:.2f}")
    if best[0] < 0:
        lines.append(f"    suggested: no thresholds reach precision {min_precision:g}")
    else:
        _, values, precision, recall, f1 = best
        lines.append(f"    suggested: {_vars(values):<58} precision {_num(precision, 2)}  recall "
                     f"{_num(recall, 2)}  F1 {f1:.2f}")
    return lines


def _vars(values: dict) -> str:
    return ", ".join(f"{k}: {v:g}" if isinstance(v, float) else f"{k}: {v}" for k, v in values.items())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("command", choices=["report", "suggest-weights", "suggest-thresholds"])
    p.add_argument("--outcome", help="suggest-weights: an outcome of seeds/ces_outcomes.csv")
    p.add_argument("--non-negative", action="store_true",
                   help="suggest-weights: weights >= 0, except the friction types (negative in the version in force)")
    p.add_argument("--min-positives", type=int, default=30,
                   help="suggest-weights: refuse below this many positives on the fitting or the holdout dates")
    p.add_argument("--effective-from", type=dt.date.fromisoformat, default=None)
    p.add_argument("--precision", type=float, default=None,
                   help="suggest-thresholds: the highest recall at this precision, instead of the best F1")
    p.add_argument("--vars", default=None, help="the dbt --vars of the build (YAML)")
    a = p.parse_args(argv)
    # dbt compiles the grid before the warehouse is opened here: both may open the DuckDB file
    grid_sql = threshold_grid_sql(a.vars) if a.command == "suggest-thresholds" else ""
    wh = engines.open_warehouse(config.load())
    try:
        if a.command == "report":
            lines = report(wh)
        elif a.command == "suggest-weights":
            if not a.outcome:
                raise CesError("OUTCOME is missing: make suggest-weights OUTCOME=<an outcome of seeds/ces_outcomes.csv>")
            *_, lines = suggest_weights(wh, a.outcome.strip().lower(), a.non_negative, a.min_positives,
                                        a.effective_from)
        else:
            lines = suggest_thresholds(wh, settings.project_vars(a.vars), a.precision, grid_sql)
    finally:
        wh.close()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(errors.run(main))
