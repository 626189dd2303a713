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

A sweep over several of them at once (the api's workers by the database's, or a
service's workers by its queue) does the same when one point has the most of each: a
point takes a run whose peaks its numbers all cover, and otherwise branches off at the
first of its numbers to be reached.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from sim.engine.branching import (
    CONNECTIONS,
    PENDING,
    QUEUE,
    WORKERS,
    Axis,
    Branches,
    Point,
    branching_platform,
    niceness,
)
from sim.engine.choice import FAST, engine_for
from sim.measure.output import ReplicationOutput, Slack, edge_name
from sim.measure.recorders import utilization, utilization_series
from sim.model import Model, path_keys


@dataclass(frozen=True)
class SlackReuse:
    """How a sweep over ``axes`` (each a service's ``workers`` or ``queue``, or a
    caller's connection pool's ``max_connections`` or ``max_pending_requests``) reuses
    runs: ``values`` of each point (a number per axis), ``first`` the points that run
    before the others (the most, and where nothing branches the fewest)."""

    axes: tuple[Axis, ...]
    values: tuple[Point, ...]
    first: frozenset[int]

    @property
    def source(self) -> int:
        """The point with the most on every axis: its runs vouch for the others."""
        return self.values.index(_most(self.values))

    def trunks(self, pairs: Sequence[tuple[int, int]], ran: int) -> list[int]:
        """The source's replications to run first, ``ran`` of them being done: each one
        some point of ``pairs`` (point, replication) needs that the source has not run
        yet, so that the others can branch off it."""
        return sorted({r for _, r in pairs if r >= ran})

    def branches(
        self, replication: int, pairs: Sequence[tuple[int, int]], rank: int = 0
    ) -> Branches:
        """Where the source's ``replication`` branches off: the numbers of the points of
        ``pairs`` that need it and have fewer on some axis. ``rank``: how many of this
        round's trunks come before it; their branches go first (see
        :data:`sim.engine.branching.NICENESS`), so that every point has its first
        replication as soon as the cores can give it, and a second after that."""
        top = self.values[self.source]
        wanted = {self.values[p] for p, r in pairs if r == replication and self.values[p] != top}
        return Branches(self.axes, tuple(sorted(wanted)), niceness(rank))

    def early(self, pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """The other pairs to run beside the trunks (the fewest point's, where nothing
        branches), to keep every core busy."""
        return [pair for pair in pairs if pair[0] in self.first and pair[0] != self.source]

    def vouched(self, point: int, source: ReplicationOutput | None) -> ReplicationOutput | None:
        """Point ``point``'s output for the replication ``source`` (the source point's
        output of it) ran, if that run vouches for it: on every axis the point's number
        covers what the run used. Else None (simulate it)."""
        if source is None or point == self.source:
            return None
        numbers = self.values[point]
        slacks = [_covered(a, n, source) for a, n in zip(self.axes, numbers, strict=True)]
        derived = dataclasses.replace(source, branches={})
        for axis, number, slack in zip(self.axes, numbers, slacks, strict=True):
            if slack is None:
                return None
            if axis.knob == WORKERS:  # the one measure that depends on the number itself
                _own_utilization(derived, axis.service, slack, number)
        return derived


def _covered(axis: Axis, number: int, source: ReplicationOutput) -> Slack | None:
    """What ``source`` measured of ``axis``'s pools, if ``number`` of them would have
    been enough (never ran out, and the most held or waiting at once within it)."""
    where = axis.service if axis.callee is None else edge_name(axis.service, axis.callee)
    slack = source.slack.get(where)
    if slack is None:
        return None
    peak = slack.peak if axis.slots else slack.peak_waiting
    return slack if peak is not None and peak <= number else None


def _own_utilization(output: ReplicationOutput, service: str, slack: Slack, workers: int) -> None:
    """Set ``service``'s utilization in ``output`` (a copy) for ``workers`` workers."""
    assert slack.busy_bins is not None and slack.serving_bins is not None
    metrics = {**output.metrics[service]}
    metrics["utilization"] = utilization(slack.busy_area, slack.serving, workers)
    series = {**output.timeseries[service]}
    series["utilization"] = utilization_series(slack.busy_bins, slack.serving_bins, workers)
    output.metrics = {**output.metrics, service: metrics}
    output.timeseries = {**output.timeseries, service: series}


def _most(values: Sequence[Point]) -> Point:
    """The most on every axis."""
    return tuple(max(column) for column in zip(*values, strict=True))


def slack_reuse(models: Sequence[Model], vary: Sequence[str]) -> SlackReuse | None:
    """The reuse for a sweep of ``models`` varying ``vary``, or None where it does not
    apply (see the module doc)."""
    if not vary or len(models) < 2:
        return None
    found = [_axis(path) for path in vary]
    axes = tuple(axis for axis in found if axis is not None)
    if len(axes) < len(found):
        return None
    numbers = [_point(model, axes) for model in models]
    values = [point for point in numbers if point is not None]
    if len(values) < len(numbers):
        return None
    if _most(values) not in values:
        return None  # no point has the most of everything: nothing to branch off
    first = {values.index(_most(values))}
    if not branching_platform():
        first.add(min(range(len(values)), key=values.__getitem__))
    return SlackReuse(axes, tuple(values), frozenset(first))


def _point(model: Model, axes: Sequence[Axis]) -> Point | None:
    """The model's numbers on ``axes``, or None if one of them cannot be reused."""
    numbers = []
    for axis in axes:
        value = _value(model, axis)
        if value is None:
            return None
        numbers.append(value)
    return tuple(numbers)


def _value(model: Model, axis: Axis) -> int | None:
    """The model's number on ``axis``, or None where something else reads it, it is
    unset or unbounded (see the module doc)."""
    spec = model.services.get(axis.service)
    if spec is None or spec.autoscaling is not None or engine_for(model) == FAST:
        return None
    if axis.callee is not None:
        limits = spec.connection_pools.get(axis.callee)
        value = None if limits is None else getattr(limits, axis.knob)
    elif spec.pool is not None or spec.unit_capacity is not None:
        return None  # threads that come and go, a budget of units: they read it
    else:
        value = spec.workers if axis.knob == WORKERS else spec.queue
    if isinstance(value, bool) or not isinstance(value, int):
        return None  # unset, or an unbounded queue
    return value


def _axis(path: str) -> Axis | None:
    """The axis a sweep can reuse runs along, of ``path``; None if it is no such knob."""
    keys = path_keys(path)
    if len(keys) == 3 and keys[0] == "services" and keys[2] in (WORKERS, QUEUE):
        return Axis(keys[1], keys[2])
    if (
        len(keys) == 5
        and (keys[0], keys[2]) == ("services", "connection_pools")
        and keys[4] in (CONNECTIONS, PENDING)
    ):
        return Axis(keys[1], keys[4], keys[3])
    return None
