"""The Diagnose tab: where the queues fill, why, and which fix works, simulated."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

import sim
from sim.diagnose.fixes import MAX_FIXES
from sim.measure.display import format_interval, format_value
from sim.measure.registry import METRICS
from sim.model import Model, ModelError
from sim.studies.budget import estimate_work
from sim.studio.commands import command
from sim.studio.state import PageState
from studio.runtime import executor, over_budget, running
from studio.session import model_file

LABELS = ("Where it fills", "Root cause", "Symptom", "Because", "Set off by", "Also", "Headroom")


def _report(text: str) -> None:
    lines = text.splitlines()
    st.subheader(lines[0])
    for line in lines[1:]:
        label, sep, rest = line.partition(": ")
        st.markdown(f"**{label}**: {rest}" if sep else line)


def _fixes_table(found: sim.Diagnosis) -> pd.DataFrame:
    rows = []
    for tried in found.fixes:
        changes = "; ".join(
            f"{c.slo.split(' ')[0]} {format_value(c.after, METRICS[c.metric].unit)} "
            f"({format_interval(c.ci_low, c.ci_high, METRICS[c.metric].unit)})"
            for c in tried.changes
        )
        rows.append(
            {
                "fix": tried.fix.name,
                "effect": tried.effect,
                "SLOs met": f"{tried.passes}/{len(tried.verdicts)}",
                "with the fix (change, 95 % CI)": changes,
                "workers added": tried.workers_added,
                "term": tried.fix.term,
            }
        )
    return pd.DataFrame(rows)


@st.fragment
def diagnose_tab(page: PageState, model: Model, reps: int, seed: int) -> None:
    """Run the diagnosis on demand, within the page's budget."""
    st.caption(
        "Finds the bottleneck, follows it to its root cause, names the overload mechanisms "
        f"present, then simulates up to {MAX_FIXES} candidate fixes on the same random "
        "numbers (or, for a healthy model, searches its headroom)."
    )
    per_run = st.number_input("Replications per run", 2, 50, min(reps, 3), key="diagnose_reps")
    runs = 1 + MAX_FIXES
    work = runs * estimate_work(model, int(per_run))
    cli = command("diagnose", model_file(page), {**page.overrides, "seed": seed}, int(per_run))
    clicked = st.button("Diagnose", type="primary", key="run_diagnose")
    if clicked and not over_budget(work, cli + f" --budget {work * 1.1:.3g}"):
        try:
            with running(f"diagnosis, up to {runs} runs", "cancel_diagnose") as bar:
                found = sim.diagnose(
                    model.model_copy(update={"seed": seed}),
                    replications=int(per_run),
                    executor=executor(),
                    progress=bar,
                    budget=math.inf,
                )
            st.session_state.diagnosis = found
        except ModelError as exc:
            st.error("\n".join(exc.lines))
    found = st.session_state.get("diagnosis")
    if found is None:
        return
    _report(found.report())
    if found.fixes:
        table = _fixes_table(found)
        colours = {"helps": "#d9f0d3", "mixed": "#fff7bc", "harmful": "#fddbc7"}
        st.dataframe(
            table.style.apply(
                lambda row: [f"background-color: {colours.get(row.effect, '')}"] * len(row),
                axis=1,
            ),
            hide_index=True,
        )
        for tried in found.fixes:
            with st.expander(f"{tried.fix.name}: the patch"):
                st.caption(tried.fix.why)
                st.code(tried.patch_yaml, language="yaml")
    st.caption("The same diagnosis from a terminal:")
    st.code(cli, language="bash")
