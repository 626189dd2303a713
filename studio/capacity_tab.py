"""The Capacity tab: the knob value that just meets the SLOs, in one click."""

from __future__ import annotations

import math

import streamlit as st

import sim
from sim.measure.output import END_TO_END
from sim.measure.registry import METRICS
from sim.model import SLO, Model, ModelError
from sim.studies.capacity import capacity_work
from sim.studio import summary
from sim.studio.commands import command
from sim.studio.knobs import knob_map
from sim.studio.state import PageState
from studio.runtime import SWEEP_METRICS, executor, over_budget, running
from studio.session import model_file


@st.fragment
def capacity_tab(page: PageState, model: Model, reps: int, seed: int) -> None:
    """The knob value that just meets the SLOs, with the bracket it lies in."""
    available = knob_map(model)
    paths = list(available)
    default = f"services.{model.entry}.workers"
    path = st.selectbox(
        "Knob", paths, index=paths.index(default) if default in paths else 0, key="capacity_knob"
    )
    knob = available[path]
    use_model = bool(model.slo) and st.checkbox(
        "Use the model's SLOs", True, key="capacity_model_slos"
    )
    slos: list[SLO] = list(model.slo) if use_model else []
    if not use_model:
        a, b, c = st.columns(3)
        metric = a.selectbox("Metric", SWEEP_METRICS, key="capacity_metric")
        service = b.selectbox("Service", [END_TO_END, *model.services], key="capacity_service")
        bound = c.number_input(
            f"at most ({METRICS[metric].unit})", value=0.25, format="%g", key="capacity_bound"
        )
        slos = [SLO(metric=metric, service=service, max=bound)]
    span = knob.span(10)
    a, b, c = st.columns(3)
    low = a.number_input("search from", value=span[0], key=f"capacity_low:{path}:{knob.value:g}")
    high = b.number_input("to", value=span[-1], key=f"capacity_high:{path}:{knob.value:g}")
    per_point = c.number_input("Replications per point", 2, 100, min(reps, 4), key="capacity_reps")
    cli = command(
        "capacity",
        model_file(page),
        {**page.overrides, "seed": seed},
        int(per_point),
        capacity_of=path,
    )
    clicked = st.button("Find capacity", type="primary", key="run_capacity")
    if clicked:
        searched = model.model_copy(update={"seed": seed})
        ends = {"low": knob.clamp(low), "high": knob.clamp(high)}
        try:
            work = capacity_work(searched, path, **ends, replications=int(per_point))
            if not over_budget(work, cli + f" --low {low:g} --high {high:g}"):
                with running("capacity search, point by point", "cancel_capacity") as bar:
                    st.session_state.capacity = sim.find_capacity(
                        searched,
                        path,
                        slos,
                        **ends,
                        replications=int(per_point),
                        executor=executor(),
                        progress=bar,
                        budget=math.inf,
                    )
        except (ModelError, ValueError) as exc:
            st.session_state.capacity = None
            st.error(str(exc))
    found = st.session_state.get("capacity")
    if found is None:
        return
    st.subheader(summary.capacity_sentence(found, slos, model))
    st.dataframe(found.evaluations, hide_index=True)
    st.code(cli + f" --low {low:g} --high {high:g}", language="bash")
