"""What-if sweeps: a grid (or zip, or named variants) of model changes, with common random
numbers, run on all cores or a Dask cluster, as one tidy DataFrame."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from sim.model import Model, ModelError, apply_overrides, from_dict
from sim.parallel import run_tasks
from sim.progress import Progress
from sim.results import SUMMARY_COLUMNS, Results
from sim.runner import check_stable

Point = dict[str, Any]


def points(vary: Mapping[str, Iterable[Any]], mode: str = "grid") -> list[Point]:
    """The sweep's points: every combination (``grid``) or values side by side (``zip``)."""
    paths = list(vary)
    values = [list(v) for v in vary.values()]
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


def sweep(
    model: Model,
    vary: Mapping[str, Iterable[Any]] | None = None,
    mode: str = "grid",
    variants: Mapping[str, Point] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    executor: Any = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Run ``model`` at every point and return one tidy table.

    ``vary`` maps dotted paths to values (``{"services.api.workers": [8, 10, 12]}``);
    ``mode="zip"`` pairs values instead of crossing them; ``variants`` names whole sets of
    changes (``{"baseline": {}, "bigger pool": {"services.api.workers": 16}}``) and adds a
    ``variant`` column. The table has one column per varied path, then ``service, metric,
    mean, ci_low, ci_high, unit``. Replication r of every point uses the same random
    streams (common random numbers), so differences are the design's, not the noise's.
    Every point is validated before anything runs. On Ctrl-C the finished points are
    returned and ``table.attrs["interrupted"]`` is True.
    """
    if (vary is None) == (variants is None):
        raise ValueError("give vary or variants")
    if variants is not None:
        named = [({"variant": name}, dict(changes)) for name, changes in variants.items()]
    else:
        named = [(dict(p), dict(p)) for p in points(vary, mode)]
    models = [build(model, changes) for _, changes in named]
    reps = replications or (model.replications if model.replications != "auto" else 8)
    seed = model.seed if seed is None else seed
    tasks = [(m, r, seed) for m in models for r in range(reps)]
    bar = Progress(len(tasks), f"sweep of {len(models)} points", progress)
    outputs = run_tasks(tasks, executor, bar if progress is not False else None)
    frames, interrupted = [], False
    for index, (labels, _) in enumerate(named):
        chunk = outputs[index * reps : (index + 1) * reps]
        if any(out is None for out in chunk):
            interrupted = True
            continue
        summary = Results.from_outputs(models[index], seed, chunk).summary
        for column, value in reversed(list(labels.items())):
            summary.insert(0, column, _plain(value))
        frames.append(summary)
    label_columns = list(named[0][0]) if named else []
    table = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=[*label_columns, *SUMMARY_COLUMNS])
    )
    table.attrs["interrupted"] = interrupted
    return table
