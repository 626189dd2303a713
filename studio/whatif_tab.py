"""The What-if tab: one knob swept (curves, bands, SLO line, knee) or two (heatmap)."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

import sim
from sim.measure.output import END_TO_END
from sim.measure.registry import METRICS
from sim.model import Model, ModelError
from sim.plots import sweep_figure
from sim.studies.sweep import knee, sweep_work
from sim.studio import charts
from sim.studio.commands import command
from sim.studio.instant import estimate_curve
from sim.studio.knobs import knob_map
from sim.studio.precise import replication_choice
from sim.studio.state import PageState
from studio.runtime import SWEEP_METRICS, executor, over_budget, running
from studio.session import model_file, slo_threshold


@st.fragment
def whatif_tab(page: PageState, model: Model, reps: int, seed: int) -> None:
    """One knob: metric curves with bands, SLO line and knee. Two knobs: a heatmap."""
    available = knob_map(model)
    paths = list(available)
    entry_workers = f"services.{model.entry}.workers"
    two = st.radio("Vary", ["one knob", "two knobs"], horizontal=True, key="whatif_mode") == (
        "two knobs"
    )
    chosen = [
        st.selectbox(
            "Knob",
            paths,
            index=paths.index(entry_workers) if entry_workers in paths else 0,
            key="whatif_knob",
        )
    ]
    if two:
        second = [p for p in paths if p != chosen[0]]
        chosen.append(st.selectbox("Second knob", second, key="whatif_knob2"))
    points = 10 if not two else 5
    vary: dict[str, list[float]] = {}
    for index, path in enumerate(chosen):
        knob = available[path]
        span = knob.span(points)
        a, b, c = st.columns(3)
        low = a.number_input("from", value=span[0], key=f"whatif_low{index}:{path}:{knob.value:g}")
        high = b.number_input("to", value=span[-1], key=f"whatif_high{index}:{path}:{knob.value:g}")
        # a count of its own for a heatmap, whose default is 5 by 5, not the curve's 10
        grid = "grid_" if two else ""
        count = c.number_input(
            "points", 2, 40, len(span), key=f"whatif_{grid}n{index}:{path}:{knob.value:g}"
        )
        values = [low + i * (high - low) / (count - 1) for i in range(int(count))]
        values = [knob.clamp(v) for v in values]
        vary[path] = sorted(set(values))
    metrics = st.multiselect(
        "Metrics", SWEEP_METRICS, ["latency_p99", "rejection_rate"], key="whatif_metrics"
    )
    service = st.selectbox("Service", [END_TO_END, *model.services], key="whatif_service")
    a, b = st.columns(2)
    precise = b.checkbox(
        "Until precise",
        model.replications == "auto",
        key="whatif_auto",
        help="Double the replications where the intervals are still wide, up to four times "
        "as many: the model's precision block decides (by default +/-5 % on the end-to-end "
        "mean latency)",
    )
    per_point = int(
        a.number_input("Replications per point", 2, 100, min(reps, 3), key="whatif_reps")
    )
    choice = replication_choice(model, per_point, precise)
    model, asked, changes = choice.model, choice.asked, choice.overrides
    total_points = math.prod(len(v) for v in vary.values())
    overrides = {**page.overrides, **changes, "seed": seed}
    cli = command("sweep", model_file(page), overrides, asked, vary=vary)
    if len(vary) == 1 and metrics:
        (path,) = vary
        curve = estimate_curve(model, path, vary[path], metrics[0], service)
        if curve[metrics[0]].notna().any():
            st.caption(
                f"Instant estimate of {metrics[0]} ({service}) along {path}, before the sweep "
                "runs (queueing theory; the sweep's table shows it beside each point):"
            )
            st.line_chart(curve, x=path, y=metrics[0], height=180)
    st.caption(f"{total_points} points x {choice.text}; common random numbers.")
    if st.button("Run sweep", type="primary", key="run_sweep"):
        try:
            work = sweep_work(model, vary=vary, replications=asked)
            if not over_budget(work, cli + f" --budget {work * 1.1:.3g}"):
                with running(f"sweep of {total_points} points", "cancel_sweep") as bar:
                    live = st.empty()  # below the bar: the table so far, while the rest runs
                    table = sim.sweep(
                        model,
                        vary=vary,
                        replications=asked,
                        seed=seed,
                        executor=executor(),
                        progress=bar,
                        budget=math.inf,
                        partial=lambda so_far: _show_so_far(
                            live, so_far, chosen, metrics, service, model
                        ),
                    )
                live.empty()
                st.session_state.sweep = (vary, table)
        except ModelError as exc:  # a point clashes with another field
            st.error("Some points are not valid models:\n\n" + "\n".join(exc.lines))
    if "sweep" not in st.session_state:
        return
    swept, table = st.session_state.sweep
    if list(swept) != list(vary):
        st.caption("The last sweep varied other knobs: run again to see these.")
        return
    _charts(table, chosen, metrics, service, model)
    st.dataframe(table[table.service == service], hide_index=True)
    a, b = st.columns(2)
    a.download_button("Sweep CSV", table.to_csv(index=False).encode(), "sweep.csv", "text/csv")
    b.download_button(
        "Sweep PNG",
        charts.png_when_clicked(
            lambda: sweep_figure(table, chosen[0], metrics or ["latency_p99"], service)
        ),
        "sweep.png",
        "image/png",
    )
    st.caption("The same sweep from a terminal:")
    st.code(cli, language="bash")


def _show_so_far(
    holder: DeltaGenerator,
    table: pd.DataFrame,
    chosen: list[str],
    metrics: list[str],
    service: str,
    model: Model,
) -> None:
    """A sweep's table so far, in ``holder``, while its other replications run."""
    with holder.container():
        done = int(table.replications.min())
        st.caption(
            f"So far: {done} replication{'s' if done > 1 else ''} of every point (the same "
            "random numbers at each); the rest are running."
        )
        _charts(table, chosen, metrics, service, model)


def _charts(
    table: pd.DataFrame, chosen: list[str], metrics: list[str], service: str, model: Model
) -> None:
    """One knob: each metric's curve with its band, SLO line and knee. Two: a heatmap."""
    if len(chosen) == 1:
        path = chosen[0]
        for metric in metrics or ["latency_p99"]:
            rows = table[(table.service == service) & (table.metric == metric)]
            if rows.empty:
                continue
            bend = knee(rows[path].tolist(), rows["mean"].tolist())
            threshold = slo_threshold(model, metric, service)
            st.altair_chart(
                charts.sweep_chart(rows, path, metric, METRICS[metric].unit, threshold, bend)
            )
            if bend is not None:
                st.caption(f"{metric}: knee at {path} = {bend:g}")
        st.caption(charts.BAND_NOTE + " Dashed: the SLO threshold.")
    else:
        metric = (metrics or ["latency_p99"])[0]
        rows = table[(table.service == service) & (table.metric == metric)]
        threshold = slo_threshold(model, metric, service)
        st.altair_chart(
            charts.heatmap_chart(
                rows, chosen[0], chosen[1], metric, METRICS[metric].unit, threshold
            )
        )
