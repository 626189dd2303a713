"""The Model tab: the YAML editor with its errors, and the schema-generated knobs."""

from __future__ import annotations

import streamlit as st

import sim
from sim.model import Model, ModelError
from sim.studio.files import model_yaml
from sim.studio.instant import instant_estimate
from sim.studio.knobs import Knob, knobs
from sim.studio.state import CUSTOM, PageState
from studio.runtime import MODELS
from studio.session import base_data, edit_yaml, effective, set_knob


def knob_widget(knob: Knob, value: float) -> None:
    """A number input for one knob, generated from its schema facts."""
    key = f"knob:{knob.path}"
    st.session_state[key] = int(value) if knob.integer else float(value)
    facts = knob.facts
    low = facts.low if facts.low is not None and not facts.above_low else None
    st.number_input(
        knob.label,
        min_value=(int(low) if knob.integer else low) if low is not None else None,
        max_value=(int(facts.high) if knob.integer else facts.high)
        if facts.high is not None and facts.high < 1e9
        else None,
        step=1 if knob.integer else None,
        format=None if knob.integer else "%g",
        key=key,
        help=facts.description or None,
        on_change=set_knob,
        args=(knob.path,),
    )


def model_tab(page: PageState, model: Model | None, errors: list[str]) -> None:
    """The YAML editor with its errors, and the knobs as widgets, kept in sync."""
    editor, widgets = st.columns([3, 2])
    draft = st.session_state.get("draft")
    with editor:
        if draft is not None:
            st.session_state.yaml_editor = draft[0]
        else:
            try:
                data = sim.apply_overrides(base_data(page), page.overrides)
                text = (
                    model_yaml(data)
                    if page.overrides
                    else (
                        page.yaml if page.model == CUSTOM and page.yaml else MODELS[page.model].text
                    )
                )
            except ModelError:
                text = page.yaml or ""
            st.session_state.yaml_editor = text
        st.text_area(
            "Model YAML (edit, then click outside to apply)",
            key="yaml_editor",
            height=480,
            on_change=edit_yaml,
        )
        problems = draft[1] if draft is not None else errors
        if problems:
            st.error("The model has problems:\n\n" + "\n".join(f"- `{p}`" for p in problems))
        if model is not None:
            st.download_button(
                "Download model YAML",
                model_yaml(effective(page)[0]),
                "model.yaml",
                "application/x-yaml",
            )
    with widgets:
        source = model
        if source is None and draft is None:
            try:  # a knob moved too far: offer the knobs of the model without overrides
                source = sim.from_dict(base_data(page))
            except ModelError:
                source = None
        if source is None:
            st.info("Fix the model to get its knobs.")
            return
        st.markdown("**Knobs** (from the schema: bounds, units and help as the model defines)")
        groups: dict[str, list[Knob]] = {}
        for knob in knobs(source):
            groups.setdefault(knob.group, []).append(knob)
        for group, members in groups.items():
            with st.expander(group, expanded=group in ("workload", source.entry)):
                for knob in members:
                    value = page.overrides.get(knob.path, knob.value)
                    number = isinstance(value, int | float) and not isinstance(value, bool)
                    knob_widget(knob, float(value) if number else knob.value)
        if model is not None:
            instant_panel(model)


def instant_panel(model: Model) -> None:
    """The instant estimate of the model as the knobs now stand: it follows every change
    in milliseconds, before anything is simulated."""
    table, note = instant_estimate(model)
    st.markdown("**Instant estimate** (queueing theory, updated as the knobs move)")
    st.caption(note + ". Run the simulation to confirm it.")
    if table is not None:
        st.dataframe(table, hide_index=True)
