"""This session's page state (model, overrides, seed, replications) and the callbacks
that change it: the model list, the knobs, the YAML editor, the uploader."""

from __future__ import annotations

import streamlit as st

import sim
from sim.model import Model, ModelError, YamlValue, parse_model_text
from sim.studio.files import MAX_UPLOAD_BYTES
from sim.studio.knobs import knob_map
from sim.studio.state import CUSTOM, PageState, from_query, to_query
from studio.runtime import MODELS


def state() -> PageState:
    """This session's page state, read from the URL on the first run."""
    if "page" not in st.session_state:
        page, notes = from_query(st.query_params.to_dict())
        if page.model != CUSTOM and page.model not in MODELS:
            notes.append(f"model {page.model!r} is not in models/: showing default")
            page.model = "default"
        st.session_state.page = page
        st.session_state.url_notes = notes
    page: PageState = st.session_state.page
    return page


def base_data(page: PageState) -> dict[str, YamlValue]:
    """The chosen model's data before the knob overrides (ModelError if unreadable)."""
    text = page.yaml if page.model == CUSTOM and page.yaml is not None else None
    return parse_model_text(text if text is not None else MODELS[page.model].text)


def effective(page: PageState) -> tuple[dict[str, YamlValue], Model]:
    """The model as the page shows it: the base with the overrides applied, validated."""
    data = sim.apply_overrides(base_data(page), page.overrides)
    return data, sim.from_dict(data)


def write_url(page: PageState) -> None:
    """Put the state in the address bar, so the link shares the page."""
    wanted = to_query(page)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def choose_model() -> None:
    """The model list's callback: a shipped model, its knobs back at their values."""
    page = state()
    page.model = st.session_state.model_choice
    page.overrides.clear()
    page.yaml = None
    st.session_state.pop("draft", None)


def set_knob(path: str) -> None:
    """A knob widget's callback: record the override (or drop it at the model's value)."""
    page = state()
    value = st.session_state[f"knob:{path}"]
    base = knob_map(sim.from_dict(base_data(page))).get(path)
    if base is not None and value == base.value:
        page.overrides.pop(path, None)
    else:
        page.overrides[path] = int(value) if base is not None and base.integer else value
    st.session_state.pop("draft", None)


def edit_yaml() -> None:
    """The editor's callback: valid YAML becomes the model (its knobs follow); invalid text
    stays in the editor as a draft with its errors beside it."""
    page = state()
    text = st.session_state.yaml_editor
    try:
        sim.from_dict(parse_model_text(text))
    except ModelError as exc:
        st.session_state.draft = (text, exc.lines)
        return
    page.model, page.yaml = CUSTOM, text
    page.overrides.clear()
    st.session_state.pop("draft", None)


def upload() -> None:
    """The uploader's callback: the file's text (never executed, read as safe YAML)."""
    file = st.session_state.upload
    if file is None:
        return
    if file.size > MAX_UPLOAD_BYTES:
        st.session_state.draft = ("", [f"{file.name}: larger than {MAX_UPLOAD_BYTES:,} bytes"])
        return
    try:
        text = file.getvalue().decode("utf-8")
    except UnicodeDecodeError:
        st.session_state.draft = ("", [f"{file.name}: not UTF-8 text"])
        return
    st.session_state.yaml_editor = text
    edit_yaml()


def model_file(page: PageState) -> str:
    """How the CLI names the page's model: the shipped file, or the downloaded one."""
    return f"models/{page.model}.yaml" if page.model != CUSTOM else "model.yaml"


def slo_threshold(model: Model, metric: str, service: str) -> float | None:
    """The model's SLO bound on ``metric`` at ``service`` (its max), if any."""
    for slo in model.slo:
        if slo.metric == metric and slo.service == service and slo.max is not None:
            return slo.max
    return None
