"""Recovery after a trigger: when do queue depth and goodput return to their usual band?"""

from __future__ import annotations

import math

import numpy as np

from sim.model import Model
from sim.model.workload import ProfileArrivals, Spike, Step


def trigger_window(model: Model) -> tuple[float, float] | None:
    """The disturbance a model stages: from the first incident or spike to the last one's end
    (steps in a rate profile, a backlog or an open breaker at the start count as instants).
    None when the model stages none."""
    windows = [(inc.start, inc.stop) for s in model.services.values() for inc in s.incidents]
    if starts_in_trouble(model):
        windows.append((0.0, 0.0))
    for workload in model.workloads:
        arrivals = workload.arrivals
        if isinstance(arrivals, ProfileArrivals):
            for change in arrivals.changes:
                if isinstance(change, Spike):
                    windows.append((change.start, change.stop))
                elif isinstance(change, Step):
                    windows.append((change.at, change.at))
    if not windows:
        return None
    return min(w[0] for w in windows), max(w[1] for w in windows)


def starts_in_trouble(model: Model) -> bool:
    """Whether the run starts from a bad state: a backlog, or a breaker already open."""
    for service in model.services.values():
        if service.initial_backlog:
            return True
        for call in service.calls + [c for b in service.classes.values() for c in b.calls or []]:
            breaker = call.circuit_breaker
            if breaker is not None and breaker.initial_state == "OPEN":
                return True
    return False


def _band(values: np.ndarray) -> tuple[float, float]:
    mean, spread = float(values.mean()), float(values.std())
    slack = 3 * spread + max(0.1 * abs(mean), 1e-9)
    return mean - slack, mean + slack


def recovery_time(
    time: np.ndarray,
    queue_depth: np.ndarray,
    goodput: np.ndarray,
    warmup: float,
    window: tuple[float, float],
    width: float,
) -> float:
    """Seconds from the trigger's end until queue depth is back under, and goodput back over,
    their pre-trigger band (mean +/- 3 sd, and 10 %) and stay there for the hold time: five
    bins or a tenth of the time left, whichever is longer. ``inf`` means never, within the run.
    A trigger at t=0 (a run that starts in trouble) has no before: the run's second half
    is the band it must come back to.
    """
    start, end = window
    before = (time >= warmup) & (time + width <= start)
    if start == 0:  # a run that starts in trouble: its usual band is its second half
        before = time >= (time[-1] + width) / 2
    if before.sum() < 3:
        return math.nan  # no baseline to come back to
    _, queue_high = _band(queue_depth[before])
    goodput_low, _ = _band(goodput[before])
    ok = (queue_depth <= queue_high) & (goodput >= goodput_low)
    after = np.flatnonzero(time + width > end)
    if after.size == 0:
        return math.nan
    remaining = len(time) - after[0]
    hold = max(5, remaining // 10)
    for i in after:
        if i + hold > len(time):
            break
        if ok[i : i + hold].all():
            return max(0.0, float(time[i]) - end)
    return math.inf
