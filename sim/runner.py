"""``sim.run``: replications of a model, in parallel, summarised into Results."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.analytic import offered_load
from sim.engine.replication import ReplicationOutput
from sim.model import Model, Precision, UnstableError
from sim.parallel import run_tasks
from sim.progress import Progress
from sim.results import Results
from sim.servicespec import UNBOUNDED
from sim.stats import half_width


def check_stable(model: Model) -> None:
    """Refuse a model whose unbounded queue would grow for ever (offered load >= capacity)."""
    if model.workload.closed:
        return  # a finite population cannot fill an unbounded queue without end
    problems = []
    for name, load in offered_load(model).items():
        service = model.services[name]
        sheds = service.queue_timeout is not None or service.codel is not None
        if service.queue == UNBOUNDED and load >= 1 and not sheds:
            problems.append(
                f"services.{name}.queue: unbounded, but the offered load is {load:.0%} of "
                "capacity: the queue would grow without end; bound the queue, or add "
                "workers or replicas"
            )
    if problems:
        raise UnstableError(problems)


def replicate(
    model: Model,
    indices: range,
    seed: int,
    executor: Any = None,
    progress: bool | None = None,
) -> list[ReplicationOutput]:
    """Run replications ``indices`` of ``model``; Ctrl-C stops them all."""
    bar = Progress(len(indices), model.name, progress) if progress is not False else None
    outputs = run_tasks([(model, r, seed) for r in indices], executor, bar)
    if any(out is None for out in outputs):
        raise KeyboardInterrupt
    return outputs


def _precision_table(results: Results, model: Model) -> pd.DataFrame:
    spec = model.precision
    rows = []
    for name in spec.metrics:
        service, _, metric = name.rpartition(".")
        values = results.values(metric, service)
        values = values[~np.isnan(values)]
        mean = float(values.mean()) if values.size else float("nan")
        half = half_width(values) if values.size >= 2 else float("nan")
        relative = half / abs(mean) if mean else (0.0 if half == 0 else float("inf"))
        rows.append(
            (
                service,
                metric,
                relative,
                spec.relative_half_width,
                bool(relative <= spec.relative_half_width),
            )
        )
    return pd.DataFrame(
        rows, columns=["service", "metric", "relative_half_width", "target", "reached"]
    )


def run(
    model: Model,
    replications: int | None = None,
    seed: int | None = None,
    executor: Any = None,
    progress: bool | None = None,
) -> Results:
    """Simulate ``model`` for ``replications`` independent runs and summarise them.

    ``replications`` and ``seed`` default to the model's own; with ``replications: auto``
    the model's ``precision`` block decides when to stop. Replications run on all local
    cores by default; ``executor`` takes ``"inline"``, any concurrent.futures Executor or a
    dask.distributed Client. Same model, same seed: the same numbers, bit for bit,
    whichever executor runs them.
    """
    seed = model.seed if seed is None else seed
    wanted = model.replications if replications is None else replications
    check_stable(model)
    if wanted != "auto":
        if wanted < 1:
            raise ValueError("replications must be >= 1")
        outputs = replicate(model, range(wanted), seed, executor, progress)
        return Results.from_outputs(model, seed, outputs)
    spec = model.precision
    if spec is None:
        spec = Precision()
        model = model.model_copy(update={"precision": spec})
    outputs = replicate(model, range(spec.min_replications), seed, executor, progress)
    while True:
        results = Results.from_outputs(model, seed, outputs)
        table = _precision_table(results, model)
        done = len(outputs)
        if table.reached.all() or done >= spec.max_replications:
            results.precision = table
            return results
        more = min(done, spec.max_replications - done)  # double, up to the cap
        outputs += replicate(model, range(done, done + more), seed, executor, progress)
