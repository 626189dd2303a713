"""Advancing the simulated clock, with a guard against runs whose clock stands still.

A model can describe a loop that takes no simulated time (closed-loop users with zero
think time calling a service with zero work): SimPy would process its events for ever at
one instant. :func:`advance` runs the event loop like ``env.run(until=...)``, a million
steps at a time (:meth:`TaskEnvironment.steps`), and stops such a run with a message
naming the fields that take no time.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy
from simpy.core import StopSimulation
from simpy.events import URGENT

from sim.engine.tasks import TaskEnvironment
from sim.model import ModelError

STALL_EVENTS = 1_000_000
"""Events processed at one instant before a run counts as stalled."""


class StalledError(ModelError):
    """The simulated clock stood still for :data:`STALL_EVENTS` events."""


def advance(env: TaskEnvironment, until: float, suspects: Callable[[], list[str]] = list) -> None:
    """Run ``env`` up to time ``until`` (as ``env.run(until=until)`` does, events at
    ``until`` itself left for later); raise StalledError if the clock stops moving."""
    if until <= env.now:
        return
    stop = simpy.Event(env)
    stop._ok = True
    stop._value = None
    env.schedule(stop, URGENT, until - env.now)
    stop.callbacks.append(StopSimulation.callback)
    try:
        while True:
            mark = env.now
            if not env.steps(STALL_EVENTS):
                return  # no event left
            if env.now == mark:
                fields = suspects()
                named = f"; these take no time: {', '.join(fields)}" if fields else ""
                raise StalledError(
                    [
                        f"the simulated clock stood still at t={mark:g}s for {STALL_EVENTS:,} "
                        f"events: the model loops without time passing{named}; give them a "
                        "positive duration"
                    ]
                )
    except StopSimulation:
        return
