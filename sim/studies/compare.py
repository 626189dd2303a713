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
from sim.studies.budget import enforce, points_work
from sim.studies.parallel import ExecutorArg
from sim.studies.progress import ProgressArg
from sim.studies.run import replicate_points, replication_plan
from sim.studies.sweep import build, resolve_warmup_within, sweep_work

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
    replications: int | str | None = None,
    seed: int | None = None,
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
    budget: float | None = None,
) -> Comparison:
    """Run every variant (``{"name": {"dotted.path": value}}``, the first is the baseline)
    with the same seed and replications, and compare each with the first.

    ``replications`` defaults to the model's; with ``"auto"`` (or the model's
    ``replications: auto``) every variant runs the precision block's
    ``min_replications``, then all double together, up to ``max_replications``, while any
    variant has not reached its precision: the counts stay equal, so the differences stay
    paired."""
    if len(variants) < 2:
        raise ValueError("compare needs at least two variants (the first is the baseline)")
    results = run_variants(model, variants, replications, seed, executor, progress, budget)
    return Comparison(results, differences(results, metrics, services))


def compare_work(
    model: Model,
    variants: Mapping[str, Mapping[str, YamlValue]],
    replications: int | str | None = None,
) -> float:
    """The request visits :func:`compare` with the same arguments may simulate, which its
    budget is checked against: every variant at its own load, with the most replications
    it may run."""
    return sweep_work(model, variants=variants, replications=replications)


def run_variants(
    model: Model,
    variants: Mapping[str, Mapping[str, YamlValue]],
    replications: int | str | None = None,
    seed: int | None = None,
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
    budget: float | None = None,
) -> dict[str, Results]:
    """Each variant's results, on the same seeds (common random numbers) and the same
    number of replications (see :func:`compare` for ``"auto"``). Every variant is
    validated and the whole study checked against the budget first."""
    plan = replication_plan(model, replications)
    seed = model.seed if seed is None else seed
    model, _ = resolve_warmup_within(
        model, plan.start, seed, len(variants), budget, executor, progress
    )
    models = {name: build(model, dict(changes)) for name, changes in variants.items()}
    work = points_work(models.values(), plan.cap)
    upto = "" if plan.cap == plan.start else "up to "
    enforce(work, budget, f"{len(models)} variants x {upto}{plan.cap:,} replications")
    ran = replicate_points(
        list(models.values()),
        plan.start,
        plan.cap,
        seed,
        plan.settled,
        executor,
        progress,
        label="variants",
        together=True,
    )
    if ran.interrupted:
        raise KeyboardInterrupt
    lost = {owner for owner, _ in ran.lost}
    results: dict[str, Results] = {}
    for index, (name, outcome) in enumerate(zip(models, ran.results, strict=True)):
        if outcome is None or index in lost:
            raise RuntimeError(f"{name}: replications were lost with their worker process")
        results[name] = outcome
    return results
