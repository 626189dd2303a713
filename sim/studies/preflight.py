"""The checks a run makes before it simulates anything: a steady state exists, and the work
fits the budget. Light on purpose: ``queuefull validate`` runs them without loading the
engine, pandas or scipy."""

from __future__ import annotations

from typing import Literal

from sim.analytic import offered_load
from sim.model import AUTO, Model, ModelError, Precision, UnstableError
from sim.model.service import UNBOUNDED
from sim.studies.budget import check_budget


def check_stable(model: Model) -> None:
    """Refuse a model whose unbounded queue would grow for ever (offered load >= capacity)."""
    if model.closed:
        return  # a finite population cannot fill an unbounded queue without end
    if model.scenarios:  # judge the open-loop scenarios, whose load does not slow down
        opened = {name: w for name, w in model.scenarios.items() if not w.closed}
        model = model.model_copy(update={"scenarios": opened})
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


def preflight(
    model: Model,
    replications: int | Literal["auto"] | None = None,
    points: int = 1,
    budget: float | None = None,
    source: str | None = None,
) -> float:
    """Every check a run makes before simulating (stability, the work budget): what
    ``queuefull validate`` runs too. Returns the estimated work; errors name ``source``."""
    asked = model.replications if replications is None else replications
    wanted = asked if isinstance(asked, int) else (model.precision or Precision()).max_replications
    if model.warmup == AUTO:
        wanted *= 2  # the pilot run that chooses the cut
    try:
        check_stable(model)
        return check_budget(model, wanted, points, budget)
    except ModelError as exc:
        exc.source = exc.source or source
        raise
