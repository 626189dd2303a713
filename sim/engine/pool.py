"""A bounded pool of slots with a FIFO waiting room: a replica's workers, or a connection pool.

Not ``simpy.Resource``: admission must see the waiting room to reject at once, a caller
that gives up must be able to leave the waiting room, and a Java-style thread pool grows
and shrinks its threads.
"""

from __future__ import annotations

from collections import deque

import simpy

from sim.metrics import Gauge
from sim.model import UnstableError
from sim.policies.threadpool import Admission
from sim.policies.threadpool import admit as thread_pool_admit
from sim.servicespec import ThreadPool

MAX_UNBOUNDED_WAITING = 500_000
"""An 'unbounded' queue longer than this stops the run as unstable instead of eating memory."""


class WorkerPool:
    """``slots`` held at once and up to ``queue_limit`` waiting, served first come first served."""

    def __init__(
        self,
        env: simpy.Environment,
        slots: int,
        queue_limit: float,
        busy: Gauge,
        queued: Gauge,
        where: str,
        threads: ThreadPool | None = None,
    ) -> None:
        self.env = env
        self.slots = slots
        self.queue_limit = queue_limit
        self.busy_gauge = busy
        self.queue_gauge = queued
        self.where = where
        self.busy = 0
        self.waiting: deque[simpy.Event] = deque()
        self.threads = threads
        self.alive = threads.core if threads else slots  # threads that exist now

    def __len__(self) -> int:
        """Requests held or waiting."""
        return self.busy + len(self.waiting)

    def admit(self) -> simpy.Event | bool | None:
        """Ask for a slot.

        Returns True when one is free (it is now held), an event that fires when one is
        handed over, or None when slots and waiting room are full (reject).
        """
        if self.threads is not None:
            return self._admit_thread_pool()
        if self.busy < self.slots:
            self._take()
            return True
        return self._enqueue()

    def _take(self) -> None:
        self.busy += 1
        self.busy_gauge.add(self.env.now, 1)

    def _enqueue(self) -> simpy.Event | None:
        waiting = len(self.waiting)
        if waiting >= self.queue_limit:
            return None
        if waiting >= MAX_UNBOUNDED_WAITING:
            raise UnstableError(
                f"{self.where}: more than {MAX_UNBOUNDED_WAITING:,} requests waiting in one "
                f"replica's unbounded queue at t={self.env.now:.0f}s: the load exceeds "
                "capacity; bound the queue or add workers or replicas"
            )
        grant = self.env.event()
        self.waiting.append(grant)
        self.queue_gauge.add(self.env.now, 1)
        return grant

    def _admit_thread_pool(self) -> simpy.Event | bool | None:
        spec = self.threads
        decision = thread_pool_admit(
            self.alive, self.busy, len(self.waiting), spec.core, spec.max, self.queue_limit
        )
        if decision is Admission.REJECT:
            return None
        if decision is Admission.QUEUE:
            return self._enqueue()
        if decision is Admission.NEW_THREAD:
            self.alive += 1
        self._take()
        return True

    def cancel(self, grant: simpy.Event) -> None:
        """A waiting request gives up: it leaves the waiting room (or returns its slot)."""
        if grant.triggered:
            self.release()
        else:
            self.waiting.remove(grant)
            self.queue_gauge.add(self.env.now, -1)

    def release(self) -> None:
        """Give the slot back: to the next waiting request, or to the idle set."""
        now = self.env.now
        if self.waiting:
            self.queue_gauge.add(now, -1)
            self.waiting.popleft().succeed()
            return
        self.busy -= 1
        self.busy_gauge.add(now, -1)
        spec = self.threads
        if spec is not None and self.alive > spec.core:
            self.env.timeout(spec.keep_alive).callbacks.append(self._retire_idle_thread)

    def _retire_idle_thread(self, _event: simpy.Event) -> None:
        # Approximation: the timer retires *an* idle thread, not necessarily the one that
        # started it; pool size over time matches as long as threads are interchangeable.
        if self.alive > self.threads.core and self.busy < self.alive:
            self.alive -= 1
