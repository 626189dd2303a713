"""SLO verdicts from confidence intervals, regression against a baseline, JUnit XML.

A verdict is ``pass`` when the whole 95 % interval meets the bound, ``fail`` when the whole
interval violates it, ``inconclusive`` otherwise. :func:`check` adds replications to an
inconclusive model, up to a cap, before it settles.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim.measure.registry import METRICS
from sim.measure.results import Results
from sim.model import SLO, Model, ModelError, YamlValue
from sim.model.base import error_lines
from sim.studies.parallel import ExecutorArg
from sim.studies.preflight import preflight
from sim.studies.progress import ProgressArg
from sim.studies.run import replicate_until, resolve_warmup, starting_replications
from sim.studies.verdict import Verdict

PASS, FAIL, INCONCLUSIVE = Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE

WATCHED = (("all", "latency_p99"), ("all", "rejection_rate"), ("all", "success_rate"))
"""Metrics compared with a baseline besides the SLOs (which way is good: the registry's)."""


def as_slos(values: Sequence[SLO | Mapping[str, YamlValue]]) -> list[SLO]:
    """SLOs given as SLO objects or plain mappings (``{"metric": ..., "max": ...}``),
    validated; a bad one is a ModelError naming ``slo.N.field``."""
    slos = []
    for index, value in enumerate(values):
        if isinstance(value, SLO):
            slos.append(value)
            continue
        try:
            slos.append(SLO.model_validate(value))
        except ValidationError as exc:
            raise ModelError([f"slo.{index}.{line}" for line in error_lines(exc)]) from None
    return slos


def verdict(slo: SLO, mean: float, low: float, high: float) -> Verdict:
    """Judge one SLO from a mean and its interval (no interval, as with one replication,
    proves nothing: inconclusive)."""
    if math.isnan(mean) or math.isnan(low) or math.isnan(high):
        return INCONCLUSIVE
    results = []
    if slo.max is not None:
        results.append(PASS if high <= slo.max else FAIL if low > slo.max else INCONCLUSIVE)
    if slo.min is not None:
        results.append(PASS if low >= slo.min else FAIL if high < slo.min else INCONCLUSIVE)
    return Verdict.combine(results)


@dataclass
class SLOResult:
    """One SLO's verdict with the numbers behind it."""

    slo: SLO
    verdict: Verdict
    mean: float
    ci_low: float
    ci_high: float


@dataclass
class Regression:
    """A metric that got worse than the baseline, significantly and beyond the tolerance."""

    service: str
    metric: str
    baseline: float
    current: float
    p_value: float


@dataclass
class CheckResult:
    """Everything ``queuefull check`` found for one model."""

    source: str
    model: Model
    results: Results | None
    slos: list[SLOResult] = field(default_factory=list)
    regressions: list[Regression] = field(default_factory=list)
    error: str | None = None

    @property
    def verdict(self) -> Verdict:
        """fail if any SLO fails, regresses or the model is invalid; else inconclusive if any
        is; else pass."""
        if self.error or self.regressions:
            return FAIL
        return Verdict.combine(s.verdict for s in self.slos)


def judge(results: Results, slos: list[SLO]) -> list[SLOResult]:
    """Verdicts of ``slos`` on ``results``."""
    out = []
    for slo in slos:
        try:
            row = results.row(slo.metric, slo.service)
            mean, low, high = float(row["mean"]), float(row["ci_low"]), float(row["ci_high"])
        except KeyError:
            mean = low = high = math.nan
        out.append(SLOResult(slo, verdict(slo, mean, low, high), mean, low, high))
    return out


def check(
    model: Model,
    source: str = "",
    max_replications: int | None = None,
    baseline: Results | None = None,
    tolerance: float = 0.05,
    alpha: float = 0.05,
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
    budget: float | None = None,
) -> CheckResult:
    """Run a model and judge its SLOs, adding replications while any is inconclusive.

    The model's own replications come first; while a verdict is inconclusive the count
    doubles, up to ``max_replications`` (default 4x the model's). With a ``baseline``
    (results of an earlier run), metrics that got significantly worse by more than
    ``tolerance`` (relative) fail too.
    """
    reps = starting_replications(model)
    cap = max(max_replications or 4 * reps, reps)
    seed = model.seed
    preflight(model, cap, budget=budget, source=source or None)
    model, _ = resolve_warmup(model, reps, seed, executor, progress)

    def settled(results: Results) -> bool:
        return all(s.verdict != INCONCLUSIVE for s in judge(results, model.slo))

    results = replicate_until(model, reps, cap, seed, settled, executor, progress)
    outcome = CheckResult(source, model, results, judge(results, model.slo))
    if baseline is not None:
        outcome.regressions = regressions(results, baseline, model.slo, tolerance, alpha)
    return outcome


def regressions(
    current: Results, baseline: Results, slos: list[SLO], tolerance: float, alpha: float
) -> list[Regression]:
    """Metrics worse than in ``baseline`` by more than ``tolerance`` (relative), with a
    one-sided p-value under ``alpha``: paired by replication when both runs used the same
    seed (common random numbers make that test sharp), Welch's t-test otherwise."""
    watched = {(s.service, s.metric): ("max" if s.max is not None else "min") for s in slos}
    for service, metric in WATCHED:
        watched.setdefault((service, metric), "max" if METRICS[metric].better == "lower" else "min")
    found = []
    for (service, metric), good in watched.items():
        now, before = current.values(metric, service), baseline.values(metric, service)
        if now.size < 2 or before.size < 2:
            continue
        worse = now - before if now.size == before.size else None
        sign = 1.0 if good == "max" else -1.0  # positive = worse
        change = sign * (float(np.nanmean(now)) - float(np.nanmean(before)))
        scale = max(abs(float(np.nanmean(before))), 1e-3 if metric.endswith("rate") else 1e-9)
        if change <= tolerance * scale:
            continue
        from scipy import stats  # only when a metric moved: it is slow to import

        if worse is not None and current.seed == baseline.seed:
            diffs = sign * worse
            if np.allclose(diffs, diffs[0]):
                p_value = 0.0 if diffs[0] > 0 else 1.0
            else:
                p_value = float(stats.ttest_1samp(diffs, 0.0, alternative="greater").pvalue)
        else:
            p_value = float(
                stats.ttest_ind(
                    sign * now, sign * before, equal_var=False, alternative="greater"
                ).pvalue
            )
        if p_value < alpha:
            found.append(
                Regression(
                    service, metric, float(np.nanmean(before)), float(np.nanmean(now)), p_value
                )
            )
    return found


def junit_xml(checks: list[CheckResult]) -> str:
    """JUnit XML: one test suite per model, one test case per SLO (and per regression)."""
    suites = ET.Element("testsuites", name="queuefull check")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for item in checks:
        suite = ET.SubElement(suites, "testsuite", name=f"{item.model.name} ({item.source})")
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        classname = f"queuefull.{item.model.name}"
        if item.error:
            case = ET.SubElement(suite, "testcase", classname=classname, name="model")
            ET.SubElement(case, "failure", message=item.error).text = item.error
            counts["tests"] += 1
            counts["failures"] += 1
        for result in item.slos:
            case = ET.SubElement(suite, "testcase", classname=classname, name=result.slo.label)
            detail = f"mean {result.mean:.6g}, 95% CI [{result.ci_low:.6g}, {result.ci_high:.6g}]"
            if item.results is not None and item.results.warnings:
                detail += " (" + "; ".join(item.results.warnings) + ")"
            counts["tests"] += 1
            if result.verdict == FAIL:
                ET.SubElement(case, "failure", message=f"violated: {detail}").text = detail
                counts["failures"] += 1
            elif result.verdict == INCONCLUSIVE:
                ET.SubElement(case, "skipped", message=f"inconclusive: {detail}")
                counts["skipped"] += 1
            else:
                ET.SubElement(case, "system-out").text = f"met: {detail}"
        for reg in item.regressions:
            name = f"baseline {reg.service}.{reg.metric}"
            case = ET.SubElement(suite, "testcase", classname=classname, name=name)
            text = f"{reg.baseline:.6g} -> {reg.current:.6g} (p = {reg.p_value:.3g})"
            ET.SubElement(case, "failure", message=f"regression: {text}").text = text
            counts["tests"] += 1
            counts["failures"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def verdict_table(checks: list[CheckResult]) -> pd.DataFrame:
    """One row per model and SLO (and regression): what ``check --json`` writes."""
    rows = []
    for item in checks:
        if item.error:
            rows.append((item.source, "model", FAIL, math.nan, math.nan, math.nan, item.error))
        warnings = item.results.warnings if item.results is not None else []
        for r in item.slos:
            notes = list(warnings)
            if r.verdict == INCONCLUSIVE and item.results is not None:
                notes.insert(0, f"after {item.results.replications} replications")
            row = (r.verdict, r.mean, r.ci_low, r.ci_high, "; ".join(notes))
            rows.append((item.source, r.slo.label, *row))
        for reg in item.regressions:
            rows.append(
                (
                    item.source,
                    f"baseline {reg.service}.{reg.metric}",
                    FAIL,
                    reg.current,
                    math.nan,
                    math.nan,
                    f"was {reg.baseline:.6g}, p = {reg.p_value:.3g}",
                )
            )
    return pd.DataFrame(
        rows, columns=["model", "check", "verdict", "mean", "ci_low", "ci_high", "note"]
    )
