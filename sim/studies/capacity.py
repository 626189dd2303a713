"""Capacity search: the largest load, or the smallest resource, that still meets the SLOs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.measure.results import Results
from sim.model import SLO, Model, ModelError, UnstableError, path_keys
from sim.model.base import YamlValue
from sim.studies.budget import enforce, estimate_work
from sim.studies.check import as_slos, judge
from sim.studies.parallel import ExecutorArg
from sim.studies.progress import ProgressArg
from sim.studies.run import replicate_until, replication_plan
from sim.studies.sweep import build, resolve_warmup_within
from sim.studies.verdict import Verdict


@dataclass
class Capacity:
    """The answer of :func:`find_capacity`.

    ``value`` is the best value shown to meet every SLO (the largest for a load, the
    smallest for a resource), or None; the true threshold lies between ``value`` and
    ``failing``, the nearest value that did not pass. ``evaluations`` lists every point
    tried with its verdict, its replications and each SLO metric's mean (column named by
    the SLO) and 95 % interval (``<slo> low``, ``<slo> high``). ``replications``: the
    most any point ran.
    """

    path: str
    goal: str  # "max" or "min"
    value: float | None
    failing: float | None
    evaluations: pd.DataFrame
    message: str
    replications: int = 0


def _point(model: Model, vary: str, value: float) -> Model | UnstableError:
    """The model at one value of the knob, or the error that says it has no steady state
    there (an unbounded queue offered more than its workers serve): no SLO holds there."""
    try:
        return build(model, {vary: value})
    except UnstableError as exc:
        return exc


def _value_at(model: Model, path: str) -> Any:
    node: Any = model.model_dump(mode="json", exclude_none=True)
    for key in path_keys(path):
        node = node[int(key)] if isinstance(node, list) else node.get(key)
        if node is None:
            return None
    return node


def _evaluations(low: float, high: float, integer: bool, tolerance: float) -> int:
    """Points a bisection from ``low`` to ``high`` evaluates at most: both ends, then halves."""
    steps = (high - low) if integer else (high - low) / (tolerance * max(abs(low), abs(high)))
    return 2 + math.ceil(math.log2(max(steps, 1.0)))


def _search_range(
    model: Model, vary: str, low: float | None, high: float | None
) -> tuple[float, float, bool]:
    """The range a search of ``vary`` covers (by default a quarter of the model's value,
    or 1 for a whole number, to four times it), and whether it is of whole numbers."""
    current = _value_at(model, vary)
    if isinstance(current, bool) or not isinstance(current, int | float | None):
        raise ModelError(
            [f"{vary}: is {str(current)[:40]!r}, not a number: capacity search varies a number"]
        )
    integer = isinstance(current, int)
    if current is None:
        if low is None or high is None:
            raise ModelError([f"{vary}: not set in the model: give low and high"])
    else:
        if low is None:
            low = 1 if integer else current / 4
        if high is None:
            high = current * 4
    for name, end in (("low", low), ("high", high)):
        if not isinstance(end, int | float) or not math.isfinite(end):
            raise ValueError(f"{name} must be a finite number, not {str(end)[:40]}")
    if integer:
        low, high = math.floor(low), math.ceil(high)
    if not low < high:
        raise ValueError(f"low ({low}) must be below high ({high})")
    return low, high, integer


def _search_work(
    model: Model,
    vary: str,
    low: float,
    high: float,
    integer: bool,
    replications: int,
    tolerance: float,
) -> tuple[float, int]:
    """The request visits a search may simulate (each point tried costing what the
    dearer end does), and how many points it may try."""
    evaluations = _evaluations(low, high, integer, tolerance)
    ends = [_point(model, vary, end) for end in (low, high)]
    work = max((estimate_work(p, replications) for p in ends if isinstance(p, Model)), default=0.0)
    return work * evaluations, evaluations


def capacity_work(
    model: Model,
    vary: str,
    low: float | None = None,
    high: float | None = None,
    replications: int | str | None = None,
    tolerance: float = 0.01,
) -> float:
    """The request visits :func:`find_capacity` with the same arguments may simulate,
    which its budget is checked against."""
    low, high, integer = _search_range(model, vary, low, high)
    cap = replication_plan(model, replications).cap
    return _search_work(model, vary, low, high, integer, cap, tolerance)[0]


def find_capacity(
    model: Model,
    vary: str,
    slo: Sequence[SLO | Mapping[str, YamlValue]] | None = None,
    low: float | None = None,
    high: float | None = None,
    replications: int | str | None = None,
    tolerance: float = 0.01,
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
    budget: float | None = None,
) -> Capacity:
    """Search ``vary`` between ``low`` and ``high`` for the edge of the SLOs.

    The direction comes from the ends: if the SLOs hold at ``low`` and not at ``high``
    (a load), the answer is the largest passing value; the other way round (workers,
    replicas), the smallest. Bisection follows, on whole numbers for integer knobs, to
    ``tolerance`` (relative) otherwise. Every point uses the same seeds (common random
    numbers), so the verdicts are monotone in the knob. A point passes only when every
    SLO's whole interval meets its bound: an inconclusive point counts as not passing, and
    so does a value where the model has no steady state (an unbounded queue offered more
    than its workers serve), noted in ``evaluations``. ``replications`` defaults to the
    model's; with ``"auto"`` (or the model's ``replications: auto``) a point starts with
    the precision block's ``min_replications`` and doubles, up to ``max_replications``,
    while any SLO's verdict is inconclusive: the points near the edge get the
    replications, and fewer of them count as failing for want of evidence.
    """
    slos = as_slos(slo or model.slo)
    if not slos:
        raise ModelError(["slo: capacity search needs at least one SLO"])
    low, high, integer = _search_range(model, vary, low, high)
    plan = replication_plan(model, replications)
    model, _ = resolve_warmup_within(model, plan.start, model.seed, 2, budget, executor, progress)
    work, evaluations = _search_work(model, vary, low, high, integer, plan.cap, tolerance)
    upto = "" if plan.cap == plan.start else "up to "
    enforce(work, budget, f"up to {evaluations} points x {upto}{plan.cap} replications")

    def decided(results: Results) -> bool:
        return all(v.verdict != Verdict.INCONCLUSIVE for v in judge(results, slos))

    rows: list[dict[str, Any]] = []
    cache: dict[float, Verdict] = {}

    def passes(value: float) -> bool:
        if value not in cache:
            point = _point(model, vary, value)
            if isinstance(point, UnstableError):
                cache[value] = Verdict.FAIL
                rows.append({vary: value, "verdict": Verdict.FAIL, "note": point.lines[0]})
                return False
            # a fixed count has cap == start: no doubling, whatever the verdicts
            results = replicate_until(
                point, plan.start, plan.cap, model.seed, decided, executor, progress
            )
            verdicts = judge(results, slos)
            overall = Verdict.combine(v.verdict for v in verdicts)
            cache[value] = overall
            row = {vary: value, "verdict": overall, "replications": results.replications}
            for v in verdicts:
                row[v.slo.label] = v.mean
                row[f"{v.slo.label} low"] = v.ci_low
                row[f"{v.slo.label} high"] = v.ci_high
            rows.append(row)
        return cache[value] == Verdict.PASS

    at_low, at_high = passes(low), passes(high)

    def done(message: str, value: float | None, failing: float | None, goal: str) -> Capacity:
        table = pd.DataFrame(rows).sort_values(vary, ignore_index=True)
        counts = table["replications"].dropna() if "replications" in table else []
        fewest, most = (int(min(counts)), int(max(counts))) if len(counts) else (0, 0)
        each = f"{fewest}" if fewest == most else f"{fewest} to {most}"
        used = f"; {each} replications at each of {len(rows)} points"
        return Capacity(vary, goal, value, failing, table, message + used, most)

    if at_low and at_high:
        return done(f"the SLOs hold across [{low}, {high}]: widen the range", None, None, "?")
    if not at_low and not at_high:
        return done(f"the SLOs hold nowhere in [{low}, {high}]", None, None, "?")
    goal = "max" if at_low else "min"
    good, bad = (low, high) if at_low else (high, low)
    while True:
        gap = abs(bad - good)
        if integer and gap <= 1:
            break
        if not integer and gap <= tolerance * max(abs(good), abs(bad)):
            break
        middle = (good + bad) // 2 if integer else (good + bad) / 2
        if passes(middle):
            good = middle
        else:
            bad = middle
    word = "largest" if goal == "max" else "smallest"
    message = (
        f"{word} {vary} meeting the SLOs: {good:g} (they hold at {good:g} and were not shown "
        f"to hold at {bad:g}, the nearest value tested beyond it)"
    )
    return done(message, good, bad, goal)
