"""Designs side by side: each variant of a model run on the same random numbers, and each
metric's difference from the baseline with its paired interval and whether it is
significant (the interval leaves out zero)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.measure.output import END_TO_END
from sim.measure.registry import METRICS, UNITS
from sim.measure.results import Results
from sim.measure.stats import t_interval
from sim.model import Model
from sim.model.base import YamlValue
from sim.studies.budget import enforce, estimate_work
from sim.studies.parallel import ExecutorArg, run_tasks
from sim.studies.progress import Progress, ProgressArg
from sim.studies.run import starting_replications
from sim.studies.sweep import build, resolve_warmup_within

COMPARED = ("throughput", "rejection_rate", "latency_p50", "latency_p99", "utilization")
"""What a comparison reports unless told otherwise."""


@dataclass
class Comparison:
    """Each variant's results, and the table of differences from the first (the baseline)."""

    results: dict[str, Results]
    differences: pd.DataFrame


def differences(
    results: Mapping[str, Results],
    metrics: Sequence[str] = COMPARED,
    services: Sequence[str] = (END_TO_END,),
) -> pd.DataFrame:
    """One row per (variant, service, metric) against the first variant: both means, the
    difference with its 95 % interval, paired by replication when the seeds match (common
    random numbers make the interval narrow), and whether it is significant."""
    names = list(results)
    base_name, rows = names[0], []
    base = results[base_name]
    for name in names[1:]:
        other = results[name]
        paired = other.seed == base.seed
        for service in services:
            for metric in metrics:
                before, after = base.values(metric, service), other.values(metric, service)
                if before.size == 0 or after.size == 0:
                    continue
                if paired and before.size == after.size:
                    diff, low, high = t_interval(after - before)
                else:
                    diff = float(np.nanmean(after) - np.nanmean(before))
                    _, low_a, high_a = t_interval(after)
                    _, low_b, high_b = t_interval(before)
                    half = float(np.hypot(high_a - low_a, high_b - low_b)) / 2
                    low, high = diff - half, diff + half
                rows.append(
                    {
                        "variant": name,
                        "baseline": base_name,
                        "service": service,
                        "metric": metric,
                        "baseline_mean": float(np.nanmean(before)),
                        "variant_mean": float(np.nanmean(after)),
                        "difference": diff,
                        "ci_low": low,
                        "ci_high": high,
                        "significant": bool(low > 0 or high < 0),
                        "better": _better(metric, diff, low, high),
                        "unit": UNITS.get(metric, ""),
                    }
                )
    return pd.DataFrame(rows)


def _better(metric: str, diff: float, low: float, high: float) -> str:
    """ "better", "worse" or "" (not significant, or no better direction)."""
    direction = METRICS[metric].better if metric in METRICS else "neither"
    if direction == "neither" or not (low > 0 or high < 0):
        return ""
    improved = diff < 0 if direction == "lower" else diff > 0
    return "better" if improved else "worse"


def compare(
    model: Model,
    variants: Mapping[str, Mapping[str, YamlValue]],
    metrics: Sequence[str] = COMPARED,
    services: Sequence[str] = (END_TO_END,),
    replications: int | None = None,
    seed: int | None = None,
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
    budget: float | None = None,
) -> Comparison:
    """Run every variant (``{"name": {"dotted.path": value}}``, the first is the baseline)
    with the same seed and replications, and compare each with the first."""
    if len(variants) < 2:
        raise ValueError("compare needs at least two variants (the first is the baseline)")
    results = run_variants(model, variants, replications, seed, executor, progress, budget)
    return Comparison(results, differences(results, metrics, services))


def run_variants(
    model: Model,
    variants: Mapping[str, Mapping[str, YamlValue]],
    replications: int | None = None,
    seed: int | None = None,
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
    budget: float | None = None,
) -> dict[str, Results]:
    """Each variant's results, all in one batch on the same seeds (common random numbers).
    Every variant is validated and the whole batch checked against the budget first."""
    reps = replications or starting_replications(model)
    seed = model.seed if seed is None else seed
    model, _ = resolve_warmup_within(model, reps, seed, len(variants), budget, executor, progress)
    models = {name: build(model, dict(changes)) for name, changes in variants.items()}
    work = sum(estimate_work(m, reps) for m in models.values())
    enforce(work, budget, f"{len(models)} variants x {reps:,} replications")
    tasks = [(m, r, seed) for m in models.values() for r in range(reps)]
    with Progress(len(tasks), "variants", progress) as bar:
        batch = run_tasks(tasks, executor, bar)
    if batch.interrupted:
        raise KeyboardInterrupt
    results: dict[str, Results] = {}
    for index, (name, variant) in enumerate(models.items()):
        chunk = [o for o in batch.outputs[index * reps : (index + 1) * reps] if o is not None]
        if len(chunk) < reps:
            raise RuntimeError(f"{name}: replications were lost with their worker process")
        results[name] = Results.from_outputs(variant, seed, chunk)
    return results
