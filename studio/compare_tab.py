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
from sim.studies.budget import estimate_work
from sim.studies.check import judge
from sim.studio import summary
from sim.studio.commands import command
from sim.studio.knobs import knob_map
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
    per_variant = st.number_input("Replications", 2, 100, reps, key="compare_reps")
    work = sum(estimate_work(model, int(per_variant)) for _ in variants)
    if st.button("Compare", type="primary", key="run_compare", disabled=bool(problems)):
        cli = " && ".join(
            command(
                "run",
                model_file(page),
                {**page.overrides, **changes, "seed": seed},
                int(per_variant),
            )
            + f" --json {name.replace(' ', '_')}.json"
            for name, changes in variants.items()
        )
        if not over_budget(work, cli):
            with running(f"{len(variants)} variants", "cancel_compare") as bar:
                result = sim.compare(
                    model,
                    variants,
                    services=[END_TO_END, *model.services],
                    replications=int(per_variant),
                    seed=seed,
                    executor=executor(),
                    progress=bar,
                    budget=math.inf,
                )
            st.session_state.comparison = result
    result = st.session_state.get("comparison")
    if result is None:
        return
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
    st.caption(
        "Differences are paired by replication (common random numbers); "
        "significant = the 95 % interval of the difference leaves out zero."
    )
