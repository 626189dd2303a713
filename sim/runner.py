"""``sim.run``: replications of a model, summarised into Results."""

from __future__ import annotations

from sim.analytic import offered_load
from sim.engine.replication import run_replication
from sim.model import Model, UnstableError
from sim.results import Results
from sim.servicespec import UNBOUNDED


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


def run(model: Model, replications: int | None = None, seed: int | None = None) -> Results:
    """Simulate ``model`` for ``replications`` independent runs and summarise them.

    ``replications`` and ``seed`` default to the model's own. Same model, same seed:
    the same numbers, bit for bit.
    """
    replications = model.replications if replications is None else replications
    seed = model.seed if seed is None else seed
    if replications < 1:
        raise ValueError("replications must be >= 1")
    check_stable(model)
    outputs = [run_replication(model, r, seed) for r in range(replications)]
    return Results.from_outputs(model, seed, outputs)
