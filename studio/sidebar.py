"""The sidebar: model list and upload, seed, replications, budget and the share link."""

from __future__ import annotations

import streamlit as st

from sim.model import Model
from sim.studio.state import CUSTOM, PageState, to_query
from studio.runtime import MODELS, budget
from studio.session import choose_model, upload


def setting(
    page: PageState, name: str, label: str, default: int, low: int, high: int | None
) -> None:
    """A whole-number input for ``page.<name>``, kept as None while at the model's value."""
    key = f"{name}_input"
    current = getattr(page, name)
    st.session_state[key] = current if current is not None else default

    def changed() -> None:
        value = int(st.session_state[key])
        setattr(page, name, None if value == default else value)

    st.number_input(label, min_value=low, max_value=high, step=1, key=key, on_change=changed)


def sidebar(page: PageState, model: Model | None) -> tuple[int, int]:
    """Model choice, upload, seed, replications, budget and the link; returns the run's
    (replications, seed)."""
    with st.sidebar:
        st.header("queuefull studio")
        options = list(MODELS) + ([CUSTOM] if page.model == CUSTOM else [])
        st.session_state.model_choice = page.model
        st.selectbox(
            "Model",
            options,
            key="model_choice",
            on_change=choose_model,
            format_func=lambda n: f"{n}: {MODELS[n].story}" if n in MODELS else "edited model",
        )
        st.file_uploader(
            "or upload a model (YAML)", type=["yaml", "yml"], key="upload", on_change=upload
        )
        default_reps = 8
        default_seed = 1
        if model is not None:
            default_seed = model.seed
            if isinstance(model.replications, int):
                default_reps = model.replications
        setting(page, "seed", "Seed", default_seed, low=0, high=None)
        setting(page, "replications", "Replications", default_reps, low=2, high=200)
        st.caption(
            f"Work budget per action: {budget():.3g} request visits "
            "(QUEUEFULL_STUDIO_BUDGET). Larger actions show the command that runs them."
        )
        url = getattr(st.context, "url", None)
        st.caption("Share this page: the address bar holds the model and every knob.")
        if url:
            st.code(
                url.split("?")[0] + "?" + "&".join(f"{k}={v}" for k, v in to_query(page).items()),
                language=None,
            )
        for note in st.session_state.get("url_notes", []):
            st.warning(f"From the link: {note}")
    seed = page.seed if page.seed is not None else default_seed
    reps = page.replications if page.replications is not None else default_reps
    return reps, seed
