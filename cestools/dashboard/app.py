"""The CES dashboard: `make dashboard` (docs/dashboard.md).

It reads only the published serving file (CES_SERVING_PATH, default warehouse/serving.duckdb),
each table once per publish (cached by the file's modification time), opened read-only and
closed again at once. Six pages: Segments, The four uses (each list orderable by the calibrated
probability of its outcome), Customer (with its probabilities), Weights lab, Data health,
Backtest (with the reliability and Brier skill of the probabilities). With no serving data yet
each page says to run `make build`; an error shows its message, never a traceback.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from cestools.dashboard import data

USES = [
    ("is_trial_conversion_candidate", "Trial users likely to convert"),
    ("is_churn_risk", "Customers close to churn"),
    ("is_upsell_candidate", "Upsell and cross-sell candidates"),
    ("needs_training", "Customers who need product training"),
]
TIER_COLORS = alt.Scale(domain=["champion", "engaged", "passive", "at_risk", "dormant"],
                        range=["#1a7f37", "#4c9be8", "#b8b8b8", "#e8a33d", "#d1495b"])


@st.cache_data(show_spinner=False, max_entries=64)
def table(path: str, mtime_ns: int, name: str) -> pd.DataFrame:
    """A serving table, read once per publish (mtime_ns is part of the cache key)."""
    return data.load(path, name)


def read(name: str) -> pd.DataFrame:
    path, mtime_ns = data.stamp(data.serving_path())
    return table(path, mtime_ns, name)


@st.cache_data(show_spinner=False, max_entries=32)
def scored(path: str, mtime_ns: int, version: str, edits: tuple[tuple[str, str, float], ...]) -> pd.DataFrame:
    """Every customer's score and tier under a weights version, with some weights edited
    ((segment, event_type, weight); segment '' for the version's default)."""
    customers, contributions = table(path, mtime_ns, "customers"), table(path, mtime_ns, "contributions")
    weights, tiers = table(path, mtime_ns, "weights"), table(path, mtime_ns, "tiers")
    seed = data.with_edits(data.seed_rows(weights, version), {(seg or None, t): w for seg, t, w in edits})
    return data.score(customers, contributions, data.resolve(seed, sorted(customers["segment"].unique())), tiers)


def chart(spec: alt.Chart) -> None:
    st.altair_chart(spec, width="stretch")


def number(value: float, digits: int = 1) -> str:
    return "–" if pd.isna(value) else f"{value:,.{digits}f}"


# --- pages -----------------------------------------------------------------------------------

def segments_page() -> None:
    st.title("Segments")
    customers, segments = read("customers"), read("segments")
    window = customers.iloc[0]
    st.caption(f"Window {window['window_start']:%Y-%m-%d} to {window['window_end']:%Y-%m-%d}, "
               f"weights {window['weights_version']}: CES = Σ weight × events of the type.")
    cols = st.columns(len(segments))
    for col, row in zip(cols, segments.itertuples(), strict=True):
        col.metric(f"{row.segment} customers", f"{row.customers:,}")
        col.caption(f"average CES {row.avg_engagement_score:,.1f}, median {row.median_engagement_score:,.1f}")
    boxes = data.box_stats(customers, "segment", "engagement_score")
    base = alt.Chart(boxes).encode(x=alt.X("segment:N", title="Segment", axis=alt.Axis(labelAngle=0)))
    whiskers = base.mark_rule().encode(y=alt.Y("lower:Q", title="CES"), y2="upper:Q")
    box = base.mark_bar(size=40, color="#4c9be8").encode(y="q1:Q", y2="q3:Q",
                                                         tooltip=["segment", "customers", "q1", "median", "q3"])
    median = base.mark_tick(color="white", size=40, thickness=2).encode(y="median:Q")
    left, right = st.columns(2)
    with left:
        st.subheader("Score distribution")
        chart((whiskers + box + median).properties(height=320))
    shares = segments.melt(id_vars="segment", value_vars=[c for c in segments if c.startswith("share_")],
                           var_name="tier", value_name="share")
    shares["tier"] = shares["tier"].str.removeprefix("share_")
    with right:
        st.subheader("Tier shares")
        chart(alt.Chart(shares).mark_bar().encode(
            x=alt.X("segment:N", title="Segment", axis=alt.Axis(labelAngle=0)), y=alt.Y("share:Q", title="Share", axis=alt.Axis(format="%")),
            color=alt.Color("tier:N", scale=TIER_COLORS), order=alt.Order("tier:N"),
            tooltip=["segment", "tier", alt.Tooltip("share:Q", format=".1%")]).properties(height=320))
    st.subheader("Segment table")
    shown = segments[["segment", "customers", "avg_engagement_score", "median_engagement_score",
                      "p25_engagement_score", "p75_engagement_score", "p90_engagement_score",
                      "total_engagement_score"]].copy()
    st.table(shown.set_index("segment").style.format(precision=1, thousands=","))


def uses_page() -> None:
    st.title("The four uses")
    customers = read("customers")
    outcomes = data.flag_outcomes(read("flag_backtest"))
    probabilities = read("probabilities")
    counts = pd.DataFrame([{"use": label, "flagged": int(customers[flag].sum())} for flag, label in USES])
    chart(alt.Chart(counts).mark_bar(color="#4c9be8").encode(
        x=alt.X("flagged:Q", title="Customers flagged"), y=alt.Y("use:N", sort=None, title=None),
        tooltip=["use", "flagged"]).properties(height=180))
    for tab, (flag, label) in zip(st.tabs([label for _, label in USES]), USES, strict=True):
        with tab:
            outcome = outcomes.get(flag)
            flagged = data.with_probability(customers[customers[flag]], probabilities, outcome)
            has_probability = "probability" in flagged and flagged["probability"].notna().any()
            order = "engagement_score"
            if has_probability:
                by = st.radio("Order by", [f"probability of {outcome}", "score"], horizontal=True, key=f"order_{flag}")
                order = "probability" if by.startswith("probability") else "engagement_score"
            flagged = flagged.sort_values([order, "customer_id"], ascending=[False, True])
            tab.metric(f"{label}: customers flagged", f"{len(flagged):,}")
            columns = ["customer_id", "segment", "plan", "lifecycle_stage", "engagement_score",
                       "engagement_change", "engagement_tier", "segment_percentile",
                       *(["probability", "horizon_days"] if has_probability else []), "flag_reasons"]
            shown = flagged[columns]
            st.dataframe(shown, hide_index=True, width="stretch", column_config={
                "probability": st.column_config.NumberColumn(f"P({outcome})", format="percent"),
                "horizon_days": st.column_config.NumberColumn("within days")})
            if has_probability:
                st.caption(f"P({outcome}): the calibrated chance of {outcome} within the horizon "
                           "(fct_customer_outcome_probability). Click a column's header to sort by it.")
            st.download_button(f"Download {len(flagged):,} rows (CSV)", shown.to_csv(index=False),
                               file_name=f"ces_{flag}.csv", mime="text/csv", key=f"download_{flag}")


def customer_page() -> None:
    st.title("Customer")
    customers = read("customers")
    default = st.query_params.get("customer") or customers.sort_values(
        ["engagement_score", "customer_id"], ascending=[False, True]).iloc[0]["customer_id"]
    picked = st.text_input("Customer id", value=default).strip()
    match = customers[customers["customer_id"] == picked]
    if match.empty:
        st.warning(f"No customer {picked!r} in the serving data.")
        return
    c = match.iloc[0]
    cols = st.columns(5)
    cols[0].metric("Score", number(c["engagement_score"]), f"{number(c['engagement_change'])} vs previous window")
    cols[1].metric("Tier", c["engagement_tier"])
    cols[2].metric("Segment percentile", number(c["segment_percentile"], 2))
    cols[3].metric("Segment", c["segment"])
    cols[4].metric("Plan, stage", c["plan"])
    cols[4].caption(f"lifecycle stage: {c['lifecycle_stage']}")
    flags = [label for flag, label in USES if c[flag]]
    if flags:
        st.warning("Flags: " + "; ".join(flags) + (f" — {c['flag_reasons']}" if c["flag_reasons"] else ""))
    else:
        st.success("No flag raised for this customer.")
    chances = read("probabilities")
    chances = chances[chances["customer_id"] == picked].sort_values("outcome")
    if not chances.empty:
        st.subheader("Chances, calibrated on the backtest")
        cols = st.columns(len(chances))
        for col, row in zip(cols, chances.itertuples(), strict=True):
            col.metric(f"{row.outcome} within {row.horizon_days} days", f"{row.probability:.1%}")
            col.caption(f"calibration {row.calibration_version}")
    monthly = read("monthly")
    history = monthly[monthly["customer_id"] == picked].sort_values("month_start")
    left, right = st.columns(2)
    with left:
        st.subheader("Monthly score, latest weights")
        lines = history.melt(id_vars="month_start", value_vars=["engagement_score_latest_weights",
                                                                 "engagement_score"],
                             var_name="weights", value_name="score")
        lines["weights"] = lines["weights"].map({"engagement_score_latest_weights": "latest weights",
                                                 "engagement_score": "weights of the month"})
        chart(alt.Chart(lines).mark_line(point=True).encode(
            x=alt.X("month_start:T", title="Month"), y=alt.Y("score:Q", title="CES"),
            color=alt.Color("weights:N", title=None), tooltip=["month_start:T", "weights", "score"])
            .properties(height=300))
    contributions = read("contributions")
    mine = contributions[contributions["customer_id"] == picked].sort_values("contribution")
    with right:
        st.subheader("Events behind the score")
        chart(alt.Chart(mine).mark_bar().encode(
            x=alt.X("contribution:Q", title="Points (weight × events)"),
            y=alt.Y("event_type:N", sort="-x", title=None),
            color=alt.condition("datum.contribution < 0", alt.value("#d1495b"), alt.value("#1a7f37")),
            tooltip=["event_type", "event_count", "weight", "contribution"]).properties(height=300))
    st.table(mine.sort_values("contribution", ascending=False)[
        ["event_type", "event_count", "weight", "contribution", "weight_source"]].set_index("event_type"))

ALL_SEGMENTS = "all segments (the version's defaults)"


def edit_key(edits: dict[tuple[str | None, str], float]) -> tuple[tuple[str, str, float], ...]:
    return tuple(sorted((seg or "", t, w) for (seg, t), w in edits.items()))


def reset(compare: str) -> None:
    """Forget the edits; the inputs get new keys, so the browser's old values are not sent back."""
    st.session_state["what_if"][compare] = {}
    st.session_state["what_if_round"] = st.session_state.get("what_if_round", 0) + 1


def what_if_editor(compare: str, seed: pd.DataFrame, segments: list[str]) -> dict[tuple[str | None, str], float]:
    """Number inputs for the weights of the compare version: its defaults, or one segment's
    weights (editing one sets that segment's override). Edits are kept per version in the
    session, across segment choices, until reset."""
    st.session_state.setdefault("what_if", {}).setdefault(compare, {})
    store = st.session_state["what_if"][compare]
    with st.expander(f"What-if: edit {compare}'s weights", expanded=True):
        left, right = st.columns([3, 1])
        scope = left.selectbox("Edit the weights of", [ALL_SEGMENTS, *segments], key=f"scope_{compare}")
        right.button("Reset the edits", key=f"reset_{compare}", on_click=reset, args=(compare,))
        segment = None if scope == ALL_SEGMENTS else scope

        def scope_weights(frame: pd.DataFrame) -> pd.DataFrame:
            """event_type, weight of the chosen scope: the defaults, or what applies to the segment."""
            if segment is None:
                return frame[frame["segment"].isna()]
            resolved = data.resolve(frame, segments)
            return resolved[resolved["segment"] == segment]

        st.caption(f"The weights that apply to {segment}: editing one sets {segment}'s override." if segment
                   else "The version's default weights (a segment's override, where it has one, still applies).")
        shown = scope_weights(data.with_edits(seed, store)).sort_values("event_type")
        original = dict(zip(scope_weights(seed)["event_type"], scope_weights(seed)["weight"], strict=True))

        def remember(event_type: str, key: str) -> None:
            value = st.session_state[key]
            if value == original.get(event_type):
                store.pop((segment, event_type), None)
            else:
                store[(segment, event_type)] = float(value)

        cols = st.columns(4)
        for i, row in enumerate(shown.itertuples()):
            key = f"w_{compare}_{st.session_state.get('what_if_round', 0)}_{segment or ''}_{row.event_type}"
            cols[i % 4].number_input(row.event_type, value=float(row.weight), step=0.5, format="%.4g", key=key,
                                     on_change=remember, args=(row.event_type, key))
        if store:
            st.caption("Edited: " + "; ".join(f"{seg or 'default'} {t} → {w:g}" for (seg, t), w in
                                              sorted(store.items(), key=lambda e: (e[0][0] or "", e[0][1]))))
    return dict(store)


def weights_lab_page() -> None:
    st.title("Weights lab")
    path, mtime_ns = data.stamp(data.serving_path())
    weights, tiers = read("weights"), read("tiers")
    versions = data.versions(weights)
    names = list(versions["weights_version"])
    in_force = versions.loc[versions["is_in_force"], "weights_version"]
    base_default = names.index(in_force.iloc[0]) if not in_force.empty else 0
    left, right = st.columns(2)
    base = left.selectbox("Base version", names, index=base_default)
    compare = right.selectbox("Compare version", names, index=len(names) - 1)
    compare_seed = data.seed_rows(weights, compare)
    edits = what_if_editor(compare, compare_seed, sorted(read("customers")["segment"].unique()))
    edited = data.with_edits(compare_seed, edits)
    label = f"{compare} + {len(edits)} edit(s)" if edits else compare
    base_scores = scored(path, mtime_ns, base, ())
    compare_scores = scored(path, mtime_ns, compare, edit_key(edits))
    result = data.impact(base_scores, compare_scores, tiers)
    st.subheader(f"Impact of {base} → {label}")
    totals = result["both"]
    cols = st.columns(3)
    cols[0].metric("Customers whose tier rises", f"{int((totals['tier_change'] == 'up').sum()):,}")
    cols[1].metric("Customers whose tier falls", f"{int((totals['tier_change'] == 'down').sum()):,}")
    cols[2].metric("Mean score change", number(totals["score_delta"].mean(), 2))
    shift = pd.concat([base_scores.assign(version=base), compare_scores.assign(version=label)])
    boxes = data.box_stats(shift.assign(key=shift["segment"] + " | " + shift["version"]), "key", "engagement_score")
    boxes[["segment", "version"]] = boxes["key"].str.split(" | ", regex=False, expand=True)
    enc = alt.Chart(boxes).encode(x=alt.X("version:N", title=None, sort=[base, label], axis=alt.Axis(labelAngle=0)))
    box = (enc.mark_rule().encode(y=alt.Y("lower:Q", title="CES"), y2="upper:Q")
           + enc.mark_bar(size=28).encode(y="q1:Q", y2="q3:Q", color=alt.Color("version:N", sort=[base, label]),
                                          tooltip=["segment", "version", "q1", "median", "q3"])
           + enc.mark_tick(color="white", size=28, thickness=2).encode(y="median:Q"))
    chart(box.properties(width=160, height=260).facet(column=alt.Column("segment:N", title=None)))
    st.markdown("**Distribution shift per segment**")
    st.table(result["segments"].set_index("segment").style.format(precision=2, thousands=","))
    left, right = st.columns(2)
    left.markdown("**Tier moves** (rows: base tier, columns: compare tier)")
    left.table(result["moves"])
    right.markdown("**The weights that changed**")
    right.table(data.changed_weights(data.seed_rows(weights, base), edited))
    st.markdown("**The customers who move most**")
    st.dataframe(result["movers"], hide_index=True, width="stretch")
    st.subheader("Save the edited version for a pull request")
    left, right = st.columns(2)
    new_name = left.text_input("New version name", value=data.next_version(names))
    starts = right.date_input("Effective from", value=dt.date.today() + dt.timedelta(days=1))
    st.download_button(f"Download {new_name} as rows of seeds/ces_event_weights.csv",
                       data.seed_csv(edited, new_name, starts), file_name=f"ces_event_weights_{new_name}.csv",
                       mime="text/csv")
    st.caption("Append the rows to seeds/ces_event_weights.csv and open a pull request: "
               "`make weights-impact` prints this same impact for the reviewer.")


def health_page() -> None:
    st.title("Data health")
    path, _ = data.stamp(data.serving_path())
    st.metric("Last publish", f"{data.published_at(path):%Y-%m-%d %H:%M:%S} UTC")
    reconciliation = read("reconciliation")
    total = int(reconciliation["event_count"].sum())
    st.subheader(f"Every raw row accounted for: {total:,}")
    reconciliation["reason"] = reconciliation["reason"].fillna("")
    chart(alt.Chart(reconciliation).mark_bar().encode(
        x=alt.X("sum(event_count):Q", title="Raw rows"), y=alt.Y("event_source:N", title=None),
        color=alt.Color("outcome:N"), tooltip=["event_source", "outcome", "reason", "event_count"])
        .properties(height=160))
    st.table(reconciliation.set_index(["event_source", "outcome"]))
    quarantine = read("quarantine")
    st.subheader(f"Quarantine: {int(quarantine['events'].sum()):,} rows")
    if quarantine.empty:
        st.success("No row is quarantined.")
    else:
        st.table(quarantine.set_index(["event_source", "reason"]))


def backtest_page() -> None:
    st.title("Backtest")
    scores = read("score_backtest")
    if scores.empty:
        st.info("No backtest yet: the warehouse has no outcomes (raw.customer_outcomes). See docs/backtests.md.")
        return
    overall = scores[scores["segment"] == "all"]
    st.caption("How well each weights version's score, as of each date, ranked the customers who then had the "
               "outcome: AUC 0.5 is chance, 1 is perfect. Scores use only what was loaded by that date.")
    chart(alt.Chart(overall).mark_line(point=True).encode(
        x=alt.X("backtest_date:T", title="Backtest date"), y=alt.Y("auc:Q", title="AUC", scale=alt.Scale(zero=False)),
        color=alt.Color("weights_version:N", title="Weights"), strokeDash=alt.StrokeDash("outcome:N"),
        tooltip=["outcome", "weights_version", "backtest_date:T", "auc", "top_decile_lift", "positives"])
        .properties(height=300))
    means = (overall.groupby(["outcome", "weights_version"], as_index=False)
             .agg(mean_auc=("auc", "mean"), mean_top_decile_lift=("top_decile_lift", "mean"),
                  backtest_dates=("backtest_date", "nunique")))
    st.subheader("Mean over the backtest dates")
    st.table(means.set_index(["outcome", "weights_version"]).style.format(precision=3))
    flags = read("flag_backtest")
    in_force = flags[flags["is_version_in_force"]].sort_values(["flag", "backtest_date"])
    st.subheader("Flags (version in force at each date)")
    st.dataframe(in_force[["flag", "outcome", "backtest_date", "flagged", "positives", "flag_precision",
                           "flag_recall", "lift"]], hide_index=True, width="stretch")
    calibration_section(read("calibration_backtest"))


def calibration_section(measured: pd.DataFrame) -> None:
    """Are the probabilities right: the reliability curve of one outcome, calibration version
    and backtest date, and the Brier skill on every date (fct_calibration_backtest)."""
    st.subheader("Calibrated probabilities")
    if measured.empty:
        st.info("No calibration is measured yet: seeds/ces_calibration.csv has none for these outcomes "
                "(make calibrate OUTCOME=<name>; docs/backtests.md).")
        return
    st.caption("For each decile of the predicted probability, the mean prediction against the share of "
               "customers who had the outcome within its horizon: on the diagonal, the probabilities are "
               "right. Brier skill above 0 means they beat predicting the base rate for everyone.")
    left, middle, right = st.columns(3)
    outcome = left.selectbox("Outcome", sorted(measured["outcome"].unique()))
    of_outcome = measured[measured["outcome"] == outcome]
    versions = sorted(of_outcome["calibration_version"].unique())
    version = middle.selectbox("Calibration", versions, index=len(versions) - 1)
    of_version = of_outcome[of_outcome["calibration_version"] == version]
    dates = sorted(of_version["backtest_date"].unique())
    date = right.selectbox("Backtest date", dates, index=len(dates) - 1, format_func=lambda d: f"{d:%Y-%m-%d}")
    deciles = of_version[of_version["backtest_date"] == date].sort_values("probability_decile")
    # both axes run to the largest value shown, so a rare outcome's deciles are not squeezed into a corner
    top = min(1.0, 1.1 * float(max(deciles["mean_predicted_probability"].max(), deciles["observed_rate"].max(), 0.01)))
    scale = alt.Scale(domain=[0, top])
    reliability, skill = st.columns(2)
    with reliability:
        st.markdown(f"**Reliability of {outcome}, {version}, {date:%Y-%m-%d}**")
        diagonal = alt.Chart(pd.DataFrame({"p": [0.0, top]})).mark_line(color="#b8b8b8", strokeDash=[4, 4]).encode(
            x=alt.X("p:Q", scale=scale), y=alt.Y("p:Q", scale=scale))
        curve = alt.Chart(deciles).mark_line(point=True, color="#4c9be8").encode(
            x=alt.X("mean_predicted_probability:Q", title="Mean predicted probability", axis=alt.Axis(format="%"),
                    scale=scale),
            y=alt.Y("observed_rate:Q", title="Observed rate", axis=alt.Axis(format="%"), scale=scale),
            tooltip=["probability_decile", "customers", alt.Tooltip("mean_predicted_probability:Q", format=".1%"),
                     alt.Tooltip("observed_rate:Q", format=".1%")])
        chart((diagonal + curve).properties(height=300))
    per_date = of_version.drop_duplicates("backtest_date")
    with skill:
        st.markdown(f"**Brier skill of {outcome}, {version}, per backtest date**")
        chart(alt.Chart(per_date).mark_line(point=True, color="#1a7f37").encode(
            x=alt.X("backtest_date:T", title="Backtest date"), y=alt.Y("brier_skill:Q", title="Brier skill"),
            tooltip=["backtest_date:T", "brier_skill", "brier_score", "base_rate_brier_score", "auc",
                     "positives", "population"]).properties(height=300))
    summary = (measured.drop_duplicates(["outcome", "calibration_version", "backtest_date"])
               .groupby(["outcome", "calibration_version"], as_index=False)
               .agg(mean_brier_skill=("brier_skill", "mean"), mean_brier_score=("brier_score", "mean"),
                    mean_base_rate_brier_score=("base_rate_brier_score", "mean"), mean_auc=("auc", "mean"),
                    backtest_dates=("backtest_date", "nunique")))
    st.markdown("**Mean over the backtest dates**")
    st.table(summary.set_index(["outcome", "calibration_version"]).style.format(precision=3))
    st.dataframe(deciles[["probability_decile", "customers", "mean_predicted_probability", "observed_rate"]],
                 hide_index=True, width="stretch")


# --- shell -----------------------------------------------------------------------------------

def guarded(page):
    """Run a page; no serving data or any error becomes a plain message, never a traceback."""
    def run() -> None:
        try:
            page()
        except data.NoServingData as exc:
            st.info(str(exc))
        except Exception as exc:  # noqa: BLE001 - shown to the reader instead of a traceback
            st.error(f"This page could not be drawn: {type(exc).__name__}: {exc}")
    run.__name__ = page.__name__
    return run


PAGES = [
    (segments_page, "Segments", "segments"),
    (uses_page, "The four uses", "uses"),
    (customer_page, "Customer", "customer"),
    (weights_lab_page, "Weights lab", "weights-lab"),
    (health_page, "Data health", "data-health"),
    (backtest_page, "Backtest", "backtest"),
]


def main() -> None:
    st.set_page_config(page_title="Customer Engagement Score", layout="wide")
    pages = [st.Page(guarded(fn), title=title, url_path=url, default=(i == 0))
             for i, (fn, title, url) in enumerate(PAGES)]
    st.navigation(pages).run()


main()
