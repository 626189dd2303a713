"""The page: sidebar, then the tabs Run, What-if, Compare, Capacity and Model."""

from __future__ import annotations

import streamlit as st

from sim.model import Model, ModelError
from studio.capacity_tab import capacity_tab
from studio.compare_tab import compare_tab
from studio.diagnose_tab import diagnose_tab
from studio.model_tab import model_tab
from studio.run_tab import run_tab
from studio.session import effective, state, write_url
from studio.sidebar import sidebar
from studio.whatif_tab import whatif_tab


def main() -> None:
    """Lay out the page."""
    page = state()
    errors: list[str] = []
    model: Model | None = None
    try:
        model = effective(page)[1]
    except ModelError as exc:
        errors = exc.lines
    reps, seed = sidebar(page, model)
    write_url(page)
    run, whatif, compare, capacity, diagnose, edit = st.tabs(
        ["Run", "What-if", "Compare", "Capacity", "Diagnose", "Model"]
    )
    with edit:
        model_tab(page, model, errors)
    if model is None:
        with run:
            st.error(
                "The model has problems (see the Model tab):\n\n"
                + "\n".join(f"- `{p}`" for p in errors)
            )
        return
    with run:
        run_tab(page, model, reps, seed)
    with whatif:
        whatif_tab(page, model, reps, seed)
    with compare:
        compare_tab(page, model, reps, seed)
    with capacity:
        capacity_tab(page, model, reps, seed)
    with diagnose:
        diagnose_tab(page, model, reps, seed)
