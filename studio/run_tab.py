"""The Run tab: headline, numbers with intervals, SLO badges, the estimate beside the
simulation, the service graph, charts over time and the downloads."""

from __future__ import annotations

import streamlit as st

import sim
from sim.measure.display import format_interval, format_value
from sim.measure.output import END_TO_END
from sim.measure.registry import METRICS
from sim.model import Model, ModelError
from sim.model.windows import disturbances
from sim.plots import timeseries_figure
from sim.studies.budget import BudgetError, estimate_work
from sim.studies.check import judge
from sim.studio import charts, summary
from sim.studio.commands import command
from sim.studio.files import model_yaml, results_csv, results_json
from sim.studio.graph import graph_dot
from sim.studio.state import PageState
from studio.runtime import is_cached, over_budget, running, simulate
from studio.session import effective, model_file


def run_tab(page: PageState, model: Model, reps: int, seed: int) -> None:
    """Headline, key numbers, SLO badges, estimate, graph, charts and downloads."""
    cli = command("run", model_file(page), {**page.overrides}, reps)
    work = estimate_work(model, reps)
    if over_budget(work, cli + f" --seed {seed} --budget {work * 1.1:.3g}"):
        st.graphviz_chart(graph_dot(model))
        return
    if st.session_state.pop("cancel_run_hit", False):
        st.session_state.run_cancelled = True
    if st.session_state.get("run_cancelled"):
        st.info("The run was cancelled.")
        if not st.button("Run", key="run_again"):
            st.graphviz_chart(graph_dot(model))
            return
        st.session_state.run_cancelled = False
    canonical = model.model_dump_json(exclude_none=True)
    try:
        if is_cached(canonical, reps, seed):
            results = simulate(canonical, reps, seed)
        else:
            with running(f"{model.name}, {reps} replications", "cancel_run") as bar:
                results = simulate(canonical, reps, seed, progress=bar)
    except (ModelError, BudgetError) as exc:
        st.error("\n".join(exc.lines))
        return
    verdicts = judge(results, model.slo)
    st.subheader(summary.headline(model, results, verdicts))
    cards = summary.cards(results)
    for column, card in zip(st.columns(len(cards) or 1), cards, strict=False):
        column.metric(card.label, card.value, help=card.help)
        column.caption(card.interval)
    if verdicts:
        badges = []
        for v in verdicts:
            colour = {"pass": "green", "fail": "red"}.get(v.verdict.value, "orange")
            unit = METRICS[v.slo.metric].unit
            badges.append(
                f":{colour}-badge[{v.verdict.value.upper()}] `{v.slo.label}` "
                f"{format_value(v.mean, unit)} {format_interval(v.ci_low, v.ci_high, unit)}"
            )
        st.markdown("  \n".join(badges))
    for warning in results.warnings:
        st.caption(f"⚠ {warning}")
    if results.engine == "fast":
        st.caption(
            "Ran on the exact fast path (one FIFO station): the SimPy engine's numbers, "
            "computed without its events. `engine: simpy` forces SimPy."
        )
    left, right = st.columns([1, 1])
    with left:
        st.markdown(
            "**Service graph**: fill = utilisation (green < 70 %, amber < 90 %, red), "
            "call colour = failure rate"
        )
        st.graphviz_chart(graph_dot(model, results))
    with right:
        table, note = summary.estimate_table(model, results)
        st.markdown("**Instant estimate beside the simulation**")
        st.caption(note)
        if table is not None:
            st.dataframe(table, hide_index=True)
    run_charts(model, results)
    st.markdown("**Results**")
    shown = results.summary[results.summary.metric.map(lambda m: not METRICS[m].count)]
    st.dataframe(shown, hide_index=True)
    a, b, c, d = st.columns(4)
    a.download_button(
        "Results JSON", lambda: results_json(results), "results.json", "application/json"
    )
    b.download_button("Summary CSV", results_csv(results), "summary.csv", "text/csv")
    c.download_button(
        "Charts PNG",
        charts.png_when_clicked(lambda: timeseries_figure(results)),
        "timeseries.png",
        "image/png",
    )
    d.download_button(
        "Model YAML", model_yaml(effective(page)[0]), "model.yaml", "application/x-yaml"
    )
    st.caption("The same run from a terminal:")
    st.code(cli + f" --seed {seed} --json results.json", language="bash")


def run_charts(model: Model, results: sim.Results) -> None:
    """Queue depth, in flight, p99, refusals by reason, replicas and breakers over time."""
    series = results.timeseries
    windows = disturbances(model)
    services = series[series.service.isin(list(model.services))]
    everyone = series[series.service == END_TO_END]
    edges = series[series.service.str.contains("->", regex=False)]
    plots = [
        ("queue depth", "requests", services, ["queue_depth"]),
        ("in flight", "requests", everyone, ["in_system"]),
        ("latency p99", "s", everyone, ["latency_p99"]),
        ("replicas ready", "replicas", services, ["replicas_ready"]),
        ("breaker open", "fraction", edges, ["breaker_open"]),
    ]
    st.markdown(f"**Over time** ({charts.BAND_NOTE} Shaded: incidents and spikes.)")
    grid = st.columns(2)
    slot = 0
    for title, unit, frame, columns in plots:
        data = charts.across_replications(frame, columns)
        if data.empty or not data["mean"].notna().any():
            continue
        grid[slot % 2].altair_chart(charts.timeseries_chart(data, title, unit, windows))
        slot += 1
    reasons = [c for c in everyone.columns if c.startswith("refused_")]
    refused = charts.across_replications(everyone, reasons)
    refused = refused[refused.groupby("series")["mean"].transform("max") > 0]
    if not refused.empty:
        grid[slot % 2].altair_chart(charts.refusals_chart(refused, windows))
