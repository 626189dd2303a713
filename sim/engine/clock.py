"""Advancing the simulated clock, with a guard against runs whose clock stands still.

A model can describe a loop that takes no simulated time (closed-loop users with zero
think time calling a service with zero work): SimPy would process its events for ever at
one instant. :func:`advance` runs the event loop like ``env.run(until=...)`` and stops such
a run with a message naming the fields that take no time. Its loop is
:meth:`TaskEnvironment.step` written out in place (the same heap and start queue, the same
order), which saves a call per event.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop

import simpy
from simpy.core import StopSimulation
from simpy.events import URGENT

from sim.engine.tasks import TaskEnvironment
from sim.model import ModelError

STALL_EVENTS = 1_000_000
"""Events processed at one instant before a run counts as stalled."""


class StalledError(ModelError):
    """The simulated clock stood still for :data:`STALL_EVENTS` events."""


def advance(env: simpy.Environment, until: float, suspects: Callable[[], list[str]] = list) -> None:
    """Run ``env`` up to time ``until`` (as ``env.run(until=until)`` does, events at
    ``until`` itself left for later); raise StalledError if the clock stops moving."""
    if until <= env.now:
        return
    stop = simpy.Event(env)
    stop._ok = True
    stop._value = None
    env.schedule(stop, URGENT, until - env.now)
    stop.callbacks.append(StopSimulation.callback)
    queue = env._queue
    starts = env.starts if isinstance(env, TaskEnvironment) else ()
    try:
        while True:
            mark = env.now
            for _ in range(STALL_EVENTS):
                # TaskEnvironment.step, inlined: this loop runs once per event of the run
                if starts:
                    task = env.start_due()
                    if task is not None:
                        task.begin()
                        continue
                try:
                    env._now, _, _, event = heappop(queue)
                except IndexError:  # no event left
                    return
                callbacks, event.callbacks = event.callbacks, None
                for callback in callbacks:
                    callback(event)
                if not event._ok and not hasattr(event, "_defused"):
                    raise event._value  # a failure nothing handled: the run's error
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
