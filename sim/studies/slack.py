"""Sweeps of a service's workers, queue or connection pool that skip the points where
they never ran out.

If no request ever found every worker of a service taken, the run never asked how many
there were: with any number from the most that were busy at once up, on the same random
numbers, every event happens at the same instant in the same order. The same holds for
the waiting places (``queue``) when no request found the waiting room full, and for a
caller's connection pool to a callee (``max_connections``, ``max_pending_requests``). A
sweep over one of them therefore runs the point with the most first (the trunk); every other
point whose number covers a replication's peak takes that replication's output (with the
utilization computed for its own workers) instead of simulating it again, and the points
whose number is reached branch off the trunk at that moment (see
:mod:`sim.engine.branching`). Where nothing can branch, the point with the fewest (which
rarely has slack) runs beside the trunk to keep both cores busy, and the rest after. The
numbers are the ones a simulation of the point gives, bit for bit; a sweep over a knob
that does not bind (the entry's workers of a model whose bottleneck is elsewhere) costs
one point instead of ten, and one that binds only late costs what comes after.

Only where nothing else reads the number: the SimPy engine (the fast path is cheap
anyway), fixed workers (no thread pool, whose threads come and go, and no budget of
units), a bounded queue, and no autoscaler on the service (it scales on utilization, and
the replicas it adds would not know the branch's number).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from sim.engine.branching import (
    CONNECTIONS,
    PENDING,
    QUEUE,
    SLOTS,
    WORKERS,
    Branches,
    branching_platform,
)
from sim.engine.choice import FAST, engine_for
from sim.measure.output import ReplicationOutput, edge_name
from sim.measure.recorders import utilization, utilization_series
from sim.model import Model, path_keys


@dataclass(frozen=True)
class SlackReuse:
    """How a sweep over ``service``'s ``knob`` (``workers`` or ``queue``, or with
    ``callee`` its connection pool's ``max_connections`` or ``max_pending_requests``)
    reuses runs: ``values`` of each point, ``first`` the points that run before the
    others (the most, and where nothing branches the fewest)."""

    service: str
    knob: str
    values: tuple[int, ...]
    first: frozenset[int]
    callee: str | None = None

    @property
    def source(self) -> int:
        """The point with the most: its runs vouch for the others."""
        return max(range(len(self.values)), key=self.values.__getitem__)

    def trunks(self, pairs: Sequence[tuple[int, int]], ran: int) -> list[int]:
        """The source's replications to run first, ``ran`` of them being done: each one
        some point of ``pairs`` (point, replication) needs that the source has not run
        yet, so that the others can branch off it."""
        return sorted({r for _, r in pairs if r >= ran})

    def branches(self, replication: int, pairs: Sequence[tuple[int, int]]) -> Branches:
        """Where the source's ``replication`` branches off: the numbers of the points of
        ``pairs`` that need it and have fewer."""
        top = self.values[self.source]
        wanted = {self.values[p] for p, r in pairs if r == replication and self.values[p] < top}
        return Branches(self.service, self.knob, tuple(sorted(wanted)), self.callee)

    def early(self, pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """The other pairs to run beside the trunks (the fewest point's, where nothing
        branches), to keep every core busy."""
        return [pair for pair in pairs if pair[0] in self.first and pair[0] != self.source]

    def vouched(self, point: int, source: ReplicationOutput | None) -> ReplicationOutput | None:
        """Point ``point``'s output for the replication ``source`` (the source point's
        output of it) ran, if that run vouches for it; else None (simulate it)."""
        if source is None or point == self.source:
            return None
        where = self.service if self.callee is None else edge_name(self.service, self.callee)
        slack = source.slack.get(where)
        if slack is None:
            return None
        value = self.values[point]
        peak = slack.peak if self.knob in SLOTS else slack.peak_waiting
        if peak is None or peak > value:
            return None
        if self.knob != WORKERS:  # nothing measured depends on the number itself
            return dataclasses.replace(source, branches={})
        assert slack.busy_bins is not None and slack.serving_bins is not None
        metrics = {**source.metrics[self.service]}
        metrics["utilization"] = utilization(slack.busy_area, slack.serving, value)
        series = {**source.timeseries[self.service]}
        series["utilization"] = utilization_series(slack.busy_bins, slack.serving_bins, value)
        return dataclasses.replace(
            source,
            metrics={**source.metrics, self.service: metrics},
            timeseries={**source.timeseries, self.service: series},
        )


def slack_reuse(models: Sequence[Model], vary: Sequence[str]) -> SlackReuse | None:
    """The reuse for a sweep of ``models`` varying ``vary``, or None where it does not
    apply (see the module doc)."""
    if len(vary) != 1 or len(models) < 2:
        return None
    found = _knob(vary[0])
    if found is None:
        return None
    service, callee, knob = found
    values = []
    for model in models:
        spec = model.services.get(service)
        if spec is None or spec.autoscaling is not None or engine_for(model) == FAST:
            return None
        if callee is not None:
            limits = spec.connection_pools.get(callee)
            value = None if limits is None else getattr(limits, knob)
        elif spec.pool is not None or spec.unit_capacity is not None:
            return None  # threads that come and go, a budget of units: they read it
        else:
            value = spec.workers if knob == WORKERS else spec.queue
        if isinstance(value, bool) or not isinstance(value, int):
            return None  # unset, or an unbounded queue
        values.append(value)
    most = max(range(len(values)), key=values.__getitem__)
    first = {most}
    if not branching_platform():
        first.add(min(range(len(values)), key=values.__getitem__))
    return SlackReuse(service, knob, tuple(values), frozenset(first), callee)


def _knob(path: str) -> tuple[str, str | None, str] | None:
    """(service, callee or None, knob) of a path a sweep can reuse runs along."""
    keys = path_keys(path)
    if len(keys) == 3 and keys[0] == "services" and keys[2] in (WORKERS, QUEUE):
        return keys[1], None, keys[2]
    if (
        len(keys) == 5
        and (keys[0], keys[2]) == ("services", "connection_pools")
        and keys[4] in (CONNECTIONS, PENDING)
    ):
        return keys[1], keys[3], keys[4]
    return None
