"""The Compare tab: variants on the same random numbers, differences with intervals."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

import sim
from sim.measure.display import format_interval, format_value
from sim.measure.output import END_TO_END
from sim.model import Model, ModelError, YamlValue
from sim.model.yamlio import YamlError, parse_yaml
from sim.studies.check import judge
from sim.studies.compare import compare_work
from sim.studio import summary
from sim.studio.commands import command
from sim.studio.knobs import knob_map
from sim.studio.precise import replication_choice
from sim.studio.state import PageState
from studio.runtime import executor, over_budget, running
from studio.session import effective, model_file


@st.fragment
def compare_tab(page: PageState, model: Model, reps: int, seed: int) -> None:
    """Variants side by side on the same random numbers, differences with intervals."""
    available = knob_map(model)
    suggestion = f"services.{model.entry}.workers"
    base_value = available[suggestion].value if suggestion in available else None
    default_text = f"{suggestion}: {int(base_value * 1.25) + 1}\n" if base_value is not None else ""
    st.caption(
        "The baseline is the model as the page shows it. Each variant lists its "
        "changes as `dotted.path: value` lines (YAML)."
    )
    count = st.number_input("Variants besides the baseline", 1, 5, 1, key="compare_count")
    variants: dict[str, dict[str, YamlValue]] = {"baseline": {}}
    problems = []
    for index in range(int(count)):
        name = st.text_input(
            f"Variant {index + 1} name", f"variant {index + 1}", key=f"compare_name{index}"
        )
        text = st.text_area(
            f"Variant {index + 1} changes",
            default_text if index == 0 else "",
            key=f"compare_text{index}",
            height=90,
        )
        try:
            changes = parse_yaml(text) if text.strip() else {}
        except YamlError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if not isinstance(changes, dict):
            problems.append(f"{name}: write `dotted.path: value` lines")
            continue
        try:
            sim.from_dict(sim.apply_overrides(effective(page)[0], changes))
        except ModelError as exc:
            problems.append(f"{name}: " + "; ".join(exc.lines))
            continue
        variants[name] = changes
    for problem in problems:
        st.error(problem)
    a, b = st.columns(2)
    per_variant = int(a.number_input("Replications", 2, 100, reps, key="compare_reps"))
    precise = b.checkbox(
        "Until precise",
        model.replications == "auto",
        key="compare_auto",
        help="Double every variant's replications together while any variant's intervals "
        "are still wide, up to four times as many, so the differences stay paired: the "
        "model's precision block decides (by default +/-5 % on the end-to-end mean latency)",
    )
    choice = replication_choice(model, per_variant, precise, "for every variant while")
    st.caption(f"{len(variants)} variants x {choice.text}; common random numbers.")
    if st.button("Compare", type="primary", key="run_compare", disabled=bool(problems)):
        overrides = {**page.overrides, **choice.overrides, "seed": seed}
        work = compare_work(choice.model, variants, choice.asked)
        if not over_budget(work, _commands(page, variants, overrides, choice.asked)):
            with running(f"{len(variants)} variants", "cancel_compare") as bar:
                result = sim.compare(
                    choice.model,
                    variants,
                    services=[END_TO_END, *model.services],
                    replications=choice.asked,
                    seed=seed,
                    executor=executor(),
                    progress=bar,
                    budget=math.inf,
                )
            ran = next(iter(result.results.values())).replications
            again = _commands(page, variants, {**page.overrides, "seed": seed}, ran)
            st.session_state.comparison = (result, again)
    if "comparison" not in st.session_state:
        return
    result, again = st.session_state.comparison
    for name, results in result.results.items():
        verdicts = judge(results, results.model.slo)
        st.markdown(f"**{name}**: {summary.headline(results.model, results, verdicts)}")
    table = result.differences
    shown = table.assign(
        difference=[format_value(v, u) for v, u in zip(table.difference, table.unit, strict=True)],
        interval=[
            format_interval(lo, hi, u)
            for lo, hi, u in zip(table.ci_low, table.ci_high, table.unit, strict=True)
        ],
        baseline_mean=[
            format_value(v, u) for v, u in zip(table.baseline_mean, table.unit, strict=True)
        ],
        variant_mean=[
            format_value(v, u) for v, u in zip(table.variant_mean, table.unit, strict=True)
        ],
    )[
        [
            "variant",
            "service",
            "metric",
            "baseline_mean",
            "variant_mean",
            "difference",
            "interval",
            "significant",
            "better",
        ]
    ]

    def highlight(row: pd.Series) -> list[str]:
        colour = {"better": "background-color: #d9f0d3", "worse": "background-color: #fddbc7"}
        return [colour.get(row.better, "")] * len(row)

    st.dataframe(shown.style.apply(highlight, axis=1), hide_index=True)
    ran = next(iter(result.results.values())).replications
    st.caption(
        f"Each variant ran {ran} replications. Differences are paired by replication "
        "(common random numbers); significant = the 95 % interval of the difference "
        "leaves out zero."
    )
    st.caption("The same runs from a terminal, one results file per variant:")
    st.code(again, language="bash")


def _commands(
    page: PageState,
    variants: dict[str, dict[str, YamlValue]],
    overrides: dict[str, YamlValue],
    replications: int | str,
) -> str:
    """``queuefull run`` of every variant, each writing its results JSON."""
    return " && ".join(
        command("run", model_file(page), {**overrides, **changes}, replications)
        + f" --json {name.replace(' ', '_')}.json"
        for name, changes in variants.items()
    )
