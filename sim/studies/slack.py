"""Sweeps of a service's workers or queue that skip the points where they never ran out.

If no request ever found every worker of a service taken, the run never asked how many
there were: with any number from the most that were busy at once up, on the same random
numbers, every event happens at the same instant in the same order. The same holds for
the waiting places (``queue``) when no request found the waiting room full. A sweep over
one of the two therefore runs the point with the most (and the one with the fewest,
which rarely has slack, to keep both cores busy) first; every other point whose number
covers a replication's peak takes that replication's output (with the utilization
computed for its own workers) instead of simulating it again. The numbers are the ones a
simulation of the point gives, bit for bit; a sweep over a knob that does not bind (the
entry's workers of a model whose bottleneck is elsewhere) costs one point instead of ten.

Only where nothing else reads the number: the SimPy engine (the fast path is cheap
anyway), fixed workers (no thread pool, whose threads come and go, and no budget of
units), a bounded queue, and no autoscaler (it scales on utilization).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from sim.engine.choice import FAST, engine_for
from sim.measure.output import ReplicationOutput
from sim.measure.recorders import utilization, utilization_series
from sim.model import Model, path_keys

WORKERS, QUEUE = "workers", "queue"


@dataclass(frozen=True)
class SlackReuse:
    """How a sweep over ``service``'s ``knob`` (``workers`` or ``queue``) reuses runs:
    ``values`` of each point, ``first`` the points that run before the others (the
    most, the fewest)."""

    service: str
    knob: str
    values: tuple[int, ...]
    first: frozenset[int]

    @property
    def source(self) -> int:
        """The point with the most: its runs vouch for the others."""
        return max(range(len(self.values)), key=self.values.__getitem__)

    def stages(self, pairs: Sequence[tuple[int, int]]) -> list[list[tuple[int, int]]]:
        """``pairs`` (point, replication) in the order to run them: the first points',
        then the rest."""
        early = [pair for pair in pairs if pair[0] in self.first]
        return [early, [pair for pair in pairs if pair[0] not in self.first]]

    def vouched(self, point: int, source: ReplicationOutput | None) -> ReplicationOutput | None:
        """Point ``point``'s output for the replication ``source`` (the source point's
        output of it) ran, if that run vouches for it; else None (simulate it)."""
        if source is None or point == self.source:
            return None
        slack = source.slack.get(self.service)
        if slack is None:
            return None
        value = self.values[point]
        if self.knob == QUEUE:
            ok = slack.peak_waiting is not None and slack.peak_waiting <= value
            return dataclasses.replace(source) if ok else None
        if slack.peak is None or slack.peak > value:
            return None
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
    keys = path_keys(vary[0])
    if len(keys) != 3 or keys[0] != "services" or keys[2] not in (WORKERS, QUEUE):
        return None
    service, knob = keys[1], keys[2]
    values = []
    for model in models:
        spec = model.services.get(service)
        if (
            spec is None
            or spec.pool is not None
            or spec.unit_capacity is not None
            or spec.autoscaling is not None
            or engine_for(model) == FAST
        ):
            return None
        value = spec.workers if knob == WORKERS else spec.queue
        if isinstance(value, bool) or not isinstance(value, int):
            return None  # unset, or an unbounded queue
        values.append(value)
    fewest = min(range(len(values)), key=values.__getitem__)
    most = max(range(len(values)), key=values.__getitem__)
    return SlackReuse(service, knob, tuple(values), frozenset({most, fewest}))
