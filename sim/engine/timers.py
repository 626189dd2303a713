"""Timeouts that are mostly answered first: one queue per length, its earliest in the heap.

A call with a 500 ms timeout usually hears back in milliseconds, yet its timer stays in
the event heap for the whole 500 ms and is then processed to do nothing. At a few hundred
calls a second those timers are most of the heap, and a third of the events processed.

A :class:`TimerQueue` holds the timers of one length in the order they were set, which is
also the order of their expiry times and event ids. Only the earliest is in the heap, under
the key (time, priority, event id) its own timeout event would have had, so it is processed
in exactly that event's place. When it is, the queue drops the timers behind it whose
waiter has already been answered (their events would have done nothing) and puts the next
one in the heap. A queue left empty is dropped, so the environment holds queues only for
the lengths of timers still pending.
"""

from __future__ import annotations

from collections import deque

import simpy
from simpy.events import NORMAL, PENDING

from sim.engine.heap import push


class TimerQueue:
    """Timers of ``seconds``: each wakes its waiter (an event) unless it was answered."""

    def __init__(self, env: simpy.Environment, seconds: float) -> None:
        self.env = env
        self.seconds = seconds
        self.pending: deque[tuple[float, int, simpy.Event]] = deque()  # (time, eid, waiter)

    def set(self, waiter: simpy.Event) -> None:
        """Wake ``waiter`` after this queue's length of time, unless it is triggered first
        (it takes the event id ``env.timeout(seconds)`` would have taken now)."""
        env = self.env
        timer = (env._now + self.seconds, next(env._eid), waiter)
        self.pending.append(timer)
        if len(self.pending) == 1:
            self._arm(timer)

    def _arm(self, timer: tuple[float, int, simpy.Event]) -> None:
        """Put ``timer`` in the heap, under its own key."""
        env = self.env
        alarm = env.event()
        alarm._ok = True
        alarm._value = None
        alarm.callbacks.append(self._ring)  # type: ignore[union-attr]
        push(env._queue, (timer[0], NORMAL, timer[1], alarm))

    def _ring(self, _alarm: simpy.Event) -> None:
        pending = self.pending
        waiter = pending.popleft()[2]
        if waiter._value is PENDING:
            waiter.succeed()
        while pending and pending[0][2]._value is not PENDING:
            pending.popleft()  # answered in time: its timer would have done nothing
        if pending:
            self._arm(pending[0])
        elif self.env.timers.get(self.seconds) is self:
            # an empty queue goes: lengths vary (what is left of a deadline after a wait),
            # and a queue kept for each would grow with the run
            del self.env.timers[self.seconds]
