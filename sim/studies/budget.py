"""The work budget: estimate what a run would simulate before running it, and refuse too much.

A small file can ask for a lot (``rate: 1e308``, ``horizon: 1e9``, a million replications,
a sweep of a billion points). The estimate is the number of request visits the run would
simulate: requests the clients send (retries included, at their most) times the services
each visits on average through the call graph, over the whole horizon, for every
replication and every point. The engine simulates roughly 10^5 visits per second on one
core, so the default budget of 10^9 is hours of work; the studio uses a smaller one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable

from sim.analytic import offered_rates
from sim.model import Model, ModelError
from sim.model.distributions import mean_of
from sim.model.workload import ProfileArrivals, TraceArrivals, Workload

DEFAULT_BUDGET = 1e9
"""Request visits a run may simulate unless told otherwise (about three CPU-hours)."""

REPLICATION_COST = 10_000
"""A replication's fixed cost, in request visits: a million tiny replications are not free."""

BUDGET_VARIABLE = "QUEUEFULL_BUDGET"
"""The environment variable that sets the budget for every command."""


class BudgetError(ModelError):
    """The run would simulate more than the budget allows."""


def default_budget() -> float:
    """The budget from ``QUEUEFULL_BUDGET`` if set, else :data:`DEFAULT_BUDGET`."""
    text = os.environ.get(BUDGET_VARIABLE)
    if not text:
        return DEFAULT_BUDGET
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or math.isinf(value):
        raise ModelError([f"{BUDGET_VARIABLE}={text[:40]}: must be a positive number"])
    return value


def _requests(model: Model, where: str, workload: Workload) -> float:
    """Requests one workload's clients send in one replication (before retries)."""
    horizon = model.horizon
    if workload.users is not None and workload.think_time is not None:
        entry_name = model.target_of(workload)
        entry = model.services[entry_name]
        cycle = mean_of(workload.think_time) + min(
            entry.holding_time(cls) for cls in workload.class_names
        )
        if cycle == 0:
            raise BudgetError(
                [
                    f"{where}.think_time: mean 0, and the entry service's work "
                    f"(services.{entry_name}.work) too: closed-loop users would send requests "
                    "endlessly without the clock moving; give either a positive mean"
                ]
            )
        return workload.users * horizon / cycle + workload.users
    arrivals = workload.arrivals
    if isinstance(arrivals, ProfileArrivals):
        from sim.engine.arrivals import RateProfile

        total = 0.0
        for start, end, bound in RateProfile(arrivals).pieces():
            if start >= horizon:
                break
            total += bound * (min(end, horizon) - start)
        return total
    if isinstance(arrivals, TraceArrivals):
        from sim.engine.arrivals import load_trace

        try:
            times = load_trace(arrivals.file) * arrivals.time_scale
        except (OSError, ValueError) as exc:
            raise ModelError(
                [f"{where}.arrivals.file: cannot read the trace: {str(exc)[:120]}"]
            ) from None
        if not arrivals.loop or times.size < 2:
            return float(times.size)
        span = float(times[-1]) + float(times[-1]) / (times.size - 1)
        return times.size * math.ceil(horizon / span) if span > 0 else math.inf
    if arrivals is None:
        return 0.0
    return arrivals.mean_rate * horizon


def visits_per_request(model: Model, workload: Workload) -> float:
    """Services one of ``workload``'s requests visits on average, times the most attempts
    it makes."""
    alone = {"workload": _unit_rate(workload), "scenarios": {}}
    rates = offered_rates(model.model_copy(update=alone))
    visits = sum(sum(per_class) for per_class in rates.values())
    retries = workload.retries
    return visits * (retries.max_attempts if retries is not None else 1)


def _unit_rate(workload: Workload) -> Workload:
    """The workload at one open-loop request per second: offered rates become visit ratios."""
    from sim.model.workload import PoissonArrivals

    return workload.model_copy(
        update={"arrivals": PoissonArrivals(rate=1.0), "users": None, "think_time": None}
    )


def estimate_work(model: Model, replications: int, points: int = 1) -> float:
    """Request visits a run of ``replications`` (at each of ``points``) would simulate,
    with each replication's fixed cost (building, collecting, summarising) counted too."""
    per_replication = REPLICATION_COST + sum(
        _requests(model, where, workload) * visits_per_request(model, workload)
        for where, workload in model.workload_paths.items()
    )
    return per_replication * replications * points


def points_work(models: Iterable[Model], replications: int) -> float:
    """Request visits of ``replications`` at each of ``models`` (a sweep's points, a
    comparison's variants), each at its own load."""
    return sum(estimate_work(model, replications) for model in models)


def check_budget(
    model: Model, replications: int, points: int = 1, budget: float | None = None
) -> float:
    """Raise BudgetError when the estimate exceeds ``budget``; return the estimate."""
    work = estimate_work(model, replications, points)
    what = f"{replications:,} replications" + (f" x {points:,} points" if points > 1 else "")
    return enforce(work, budget, f"{what} of {model.horizon:g}s")


def enforce(work: float, budget: float | None, what: str) -> float:
    """Raise BudgetError when ``work`` (request visits of ``what``) exceeds the budget."""
    limit = default_budget() if budget is None else budget
    if not work <= limit:
        raise BudgetError(
            [
                f"this run would simulate about {work:.3g} request visits ({what}), over the "
                f"work budget of {limit:.3g}; shorten the horizon, lower the rate or the "
                "replications, or raise the budget with --budget N "
                f"(or {BUDGET_VARIABLE}=N; budget=N in Python)"
            ]
        )
    return work
