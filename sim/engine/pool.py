"""A replica's worker pool with a bounded FIFO waiting room.

Not ``simpy.Resource``: admission must see the waiting room to reject at once, and later
disciplines (LIFO, priority, CoDel, queue timeouts, draining) need to choose whom to wake.
"""

from __future__ import annotations

from collections import deque

import simpy

from sim.metrics import Recorder
from sim.model import UnstableError

MAX_UNBOUNDED_WAITING = 500_000
"""An 'unbounded' queue longer than this stops the run as unstable instead of eating memory."""


class WorkerPool:
    """``workers`` slots and up to ``queue_limit`` waiting requests, FIFO."""

    __slots__ = ("busy", "env", "queue_limit", "recorder", "service", "waiting", "workers")

    def __init__(
        self,
        env: simpy.Environment,
        workers: int,
        queue_limit: float,
        recorder: Recorder,
        service: str,
    ) -> None:
        self.env = env
        self.workers = workers
        self.queue_limit = queue_limit
        self.recorder = recorder
        self.service = service
        self.busy = 0
        self.waiting: deque[simpy.Event] = deque()

    def admit(self) -> simpy.Event | bool | None:
        """Ask for a worker.

        Returns True when one is free (it is now held), an event that fires when one is
        handed over, or None when workers and waiting room are full (reject).
        """
        now = self.env.now
        if self.busy < self.workers:
            self.busy += 1
            self.recorder.busy.add(now, 1)
            return True
        waiting = len(self.waiting)
        if waiting >= self.queue_limit:
            return None
        if waiting >= MAX_UNBOUNDED_WAITING:
            raise UnstableError(
                f"services.{self.service}.queue: more than {MAX_UNBOUNDED_WAITING:,} requests "
                f"waiting in one replica's unbounded queue at t={now:.0f}s: the load exceeds "
                "capacity; bound the queue or add workers or replicas"
            )
        grant = self.env.event()
        self.waiting.append(grant)
        self.recorder.queue.add(now, 1)
        return grant

    def release(self) -> None:
        """Give the worker back: to the next waiting request, or to the idle set."""
        now = self.env.now
        if self.waiting:
            self.recorder.queue.add(now, -1)
            self.waiting.popleft().succeed()
        else:
            self.busy -= 1
            self.recorder.busy.add(now, -1)
