"""What-if sweeps: a grid (or zip, or named variants) of model changes, with common random
numbers, run on all cores or a Dask cluster, as one tidy DataFrame."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.estimate.compare import estimate_column
from sim.measure.results import SWEEP_COLUMNS, Results
from sim.model import Model, ModelError, apply_overrides, from_dict
from sim.model.base import YamlValue
from sim.studies.budget import enforce, points_work
from sim.studies.parallel import ExecutorArg
from sim.studies.preflight import check_stable, preflight
from sim.studies.progress import ProgressArg
from sim.studies.run import (
    replicate_points,
    replication_plan,
    resolve_warmup,
)
from sim.studies.slack import slack_reuse

Point = dict[str, YamlValue]


MAX_POINTS = 10_000
"""The most points one sweep may have."""


def points(vary: Mapping[str, Iterable[YamlValue]], mode: str = "grid") -> list[Point]:
    """The sweep's points: every combination (``grid``) or values side by side (``zip``)."""
    paths = list(vary)
    values = [list(itertools.islice(v, MAX_POINTS + 1)) for v in vary.values()]
    count = (
        math.prod(len(v) for v in values) if mode == "grid" else max(map(len, values), default=0)
    )
    if count > MAX_POINTS:
        raise ModelError(
            [f"sweep: {count:,} points or more; at most {MAX_POINTS:,}: use fewer values"]
        )
    combos: Iterable[tuple[YamlValue, ...]]
    if mode == "grid":
        combos = itertools.product(*values)
    elif mode == "zip":
        if len({len(v) for v in values}) > 1:
            raise ValueError("zip mode needs the same number of values for every path")
        combos = zip(*values, strict=True)
    else:
        raise ValueError("mode must be 'grid' or 'zip'")
    return [dict(zip(paths, combo, strict=True)) for combo in combos]


def _plain(value: Any) -> Any:
    """numpy scalars (from ranges and linspaces) as plain Python numbers."""
    return value.item() if hasattr(value, "item") else value


def build(model: Model, overrides: Point) -> Model:
    """The model with ``overrides`` applied, validated; errors name the point."""
    data = model.model_dump(mode="json", exclude_none=True)
    try:
        changed = from_dict(apply_overrides(data, {k: _plain(v) for k, v in overrides.items()}))
        check_stable(changed)
    except ModelError as exc:
        where = ", ".join(f"{k}={v}" for k, v in overrides.items())
        raise type(exc)([f"sweep point {where}: {line}" for line in exc.lines]) from None
    return changed


def resolve_warmup_within(
    model: Model,
    reps: int,
    seed: int,
    points: int,
    budget: float | None,
    executor: ExecutorArg,
    progress: ProgressArg,
) -> tuple[Model, float | None]:
    """``warmup: auto`` for a study of ``points`` points: the cut is chosen once, on the
    model as given, after the budget allows the pilot."""
    if model.warmup != "auto":
        return model, None
    preflight(model, reps, budget=budget)
    return resolve_warmup(model, reps, seed, executor, progress)


def _named(
    vary: Mapping[str, Iterable[YamlValue]] | None,
    mode: str,
    variants: Mapping[str, Mapping[str, YamlValue]] | None,
) -> list[tuple[Point, Point]]:
    """A sweep's points: the labels of each (its values, or its variant's name) and the
    changes it makes."""
    if (vary is None) == (variants is None):
        raise ValueError("give vary or variants")
    if variants is not None:
        return [({"variant": name}, dict(changes)) for name, changes in variants.items()]
    return [(dict(p), dict(p)) for p in points(vary or {}, mode)]


def sweep_work(
    model: Model,
    vary: Mapping[str, Iterable[YamlValue]] | None = None,
    mode: str = "grid",
    variants: Mapping[str, Mapping[str, YamlValue]] | None = None,
    replications: int | str | None = None,
) -> float:
    """The request visits :func:`sweep` with the same arguments may simulate, which its
    budget is checked against: every point at its own load, with the most replications
    it may run. Points that share runs (see :mod:`sim.studies.slack`) cost less."""
    plan = replication_plan(model, replications)
    return points_work(
        (build(model, changes) for _, changes in _named(vary, mode, variants)), plan.cap
    )


def sweep(
    model: Model,
    vary: Mapping[str, Iterable[YamlValue]] | None = None,
    mode: str = "grid",
    variants: Mapping[str, Point] | None = None,
    replications: int | Literal["auto"] | None = None,
    seed: int | None = None,
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
    budget: float | None = None,
    partial: Callable[[pd.DataFrame], None] | None = None,
) -> pd.DataFrame:
    """Run ``model`` at every point and return one tidy table.

    ``vary`` maps dotted paths to values (``{"services.api.workers": [8, 10, 12]}``);
    ``mode="zip"`` pairs values instead of crossing them; ``variants`` names whole sets of
    changes (``{"baseline": {}, "bigger pool": {"services.api.workers": 16}}``) and adds a
    ``variant`` column. The table has one column per varied path, then ``service, metric,
    mean, ci_low, ci_high, unit``, ``estimate``: the instant estimate of the same figure
    at that point (NaN where there is none, see :mod:`sim.estimate`), and
    ``replications``: how many ran at that point. Replication r of every point uses the
    same random streams (common random numbers), so differences are the design's, not the
    noise's. With ``replications="auto"`` (or the model's ``replications: auto``) each
    point runs the precision block's ``min_replications``, then the points whose
    precision is not reached double theirs, round by round, up to ``max_replications``:
    quiet points stop early and the replications go where the noise is.
    Every point is validated before anything runs. On Ctrl-C the finished points are
    returned and ``table.attrs["interrupted"]`` is True. A point whose worker process died
    is run once more in a fresh pool; if it is lost again the table holds the points that
    finished and ``table.attrs["incomplete"]`` is True (as it is after Ctrl-C).
    ``partial``, if given, is shown the table so far each time every point has one more
    replication (replication r the same in every point, so it is the table of a sweep
    of that many): the first replication of every point comes first, then the second.
    """
    named = _named(vary, mode, variants)
    plan = replication_plan(model, replications)
    seed = model.seed if seed is None else seed
    model, _ = resolve_warmup_within(
        model, plan.start, seed, len(named), budget, executor, progress
    )
    models = [build(model, changes) for _, changes in named]
    upto = "" if plan.cap == plan.start else "up to "
    work = points_work(models, plan.cap)
    enforce(work, budget, f"{len(models):,} points x {upto}{plan.cap:,} replications")
    label = f"sweep of {len(models)} points"
    reuse = slack_reuse(models, list(vary or {})) if variants is None else None
    show = (lambda results: partial(_table(named, models, results))) if partial else None
    ran = replicate_points(
        models, plan.start, plan.cap, seed, plan.settled, executor, progress, label,
        reuse=reuse, partial=show,
    )  # fmt: skip
    table = _table(named, models, ran.results)
    table.attrs["interrupted"] = ran.interrupted
    table.attrs["incomplete"] = not ran.complete
    return table


def _table(
    named: list[tuple[Point, Point]],
    models: Sequence[Model],
    results: Sequence[Results | None],
) -> pd.DataFrame:
    """The sweep's table from each point's results (a point without any left out)."""
    frames = []
    for index, (labels, _) in enumerate(named):
        got = results[index]
        if got is None:
            continue
        summary = got.summary.copy()  # the table adds columns; the results keep theirs
        summary["estimate"] = estimate_column(models[index], summary)
        summary["replications"] = got.replications
        for column, value in reversed(list(labels.items())):
            summary.insert(0, column, _plain(value))
        frames.append(summary)
    label_columns = list(named[0][0]) if named else []
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=[*label_columns, *SWEEP_COLUMNS])
    )


KNEE_MIN_BEND = 0.1
"""How far (in the unit square) the curve must bend away from its chord to have a knee."""


def knee(values: Sequence[float], means: Sequence[float]) -> float | None:
    """The knee of a metric along a swept knob (Kneedle): with both axes scaled to [0, 1],
    the value whose point lies farthest from the straight line between the ends. None when
    the curve is nearly straight or has fewer than three finite points."""
    pairs = sorted(
        (float(x), float(y)) for x, y in zip(values, means, strict=True) if math.isfinite(y)
    )
    if len(pairs) < 3:
        return None
    x = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs])
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    xs, ys = (x - x[0]) / (x[-1] - x[0]), (y - y.min()) / np.ptp(y)
    chord = ys[0] + (ys[-1] - ys[0]) * xs
    distance = np.abs(ys - chord) / math.hypot(1.0, ys[-1] - ys[0])
    best = int(np.argmax(distance))
    return float(x[best]) if distance[best] >= KNEE_MIN_BEND else None
