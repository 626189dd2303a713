"""A bounded pool of slots with a managed waiting room: a replica's workers, or a connection pool.

Not ``simpy.Resource``: admission must see the waiting room to reject at once, a caller
that gives up must be able to leave it, the order of service is a policy (FIFO, LIFO,
adaptive LIFO, priorities), requests can be shed as they are dequeued (queue timeout,
CoDel), and a Java-style thread pool grows and shrinks its threads.

A waiting request's grant event fires with ``None`` when it gets a slot, or with the
outcome it was shed with (``queue_full`` when pushed out by a higher priority,
``queue_timeout``, ``codel``).
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

import simpy

from sim.measure.gauge import Gauge
from sim.model import UnstableError
from sim.model.service import ThreadPool
from sim.outcomes import CODEL, QUEUE_FULL, QUEUE_TIMEOUT
from sim.policies.codel import Codel
from sim.policies.threadpool import Admission
from sim.policies.threadpool import admit as thread_pool_admit

MAX_UNBOUNDED_WAITING = 500_000
"""An 'unbounded' queue longer than this stops the run as unstable instead of eating memory."""


class Overflow:
    """A line in front of the waiting room, for requests that find it full: at most
    ``size`` of them, each waiting at most ``patience`` seconds for a place (then refused
    as queue_full). The kernel's listen backlog (no patience: they wait until accepted),
    or a producer that blocks up to ``max.block.ms`` on a full buffer (no size limit)."""

    __slots__ = ("patience", "size")

    def __init__(self, size: float, patience: float) -> None:
        self.size = size
        self.patience = patience


class Watch(Protocol):
    """Told when a pool's busy (or waiting) count reaches the number it watches for."""

    def reached(self, count: int) -> None:
        """A request found ``count`` busy (or waiting) and is about to take the next."""


class Waiting:
    """A request in the waiting room (with the units it will hold, in a UnitPool)."""

    __slots__ = ("enqueued", "grant", "patience", "priority", "size")

    def __init__(
        self,
        grant: simpy.Event,
        enqueued: float,
        priority: int,
        patience: float,
        size: float = 0.0,
    ):
        self.grant = grant
        self.enqueued = enqueued
        self.priority = priority
        self.patience = patience
        self.size = size


class WorkerPool:
    """``slots`` held at once and up to ``queue_limit`` waiting."""

    def __init__(
        self,
        env: simpy.Environment,
        slots: int,
        queue_limit: float,
        busy: Gauge,
        queued: Gauge,
        where: str,
        thread_pool: ThreadPool | None = None,
        discipline: str = "fifo",
        codel: Codel | None = None,
        codel_sheds: bool = True,
        eager_timeout: bool = False,
        overflow: Overflow | None = None,
    ) -> None:
        self.env = env
        self.slots = slots
        self.queue_limit = queue_limit
        self.busy_gauge = busy
        self.queue_gauge = queued
        self.where = where
        self.busy = 0
        self.levels: dict[int, deque[Waiting]] = {}  # priority -> waiting, oldest first
        self.size = 0
        self.thread_pool = thread_pool
        self.alive = thread_pool.core if thread_pool else slots  # threads that exist now
        self.discipline = discipline
        self.codel = codel  # also tells adaptive LIFO when a queue stands
        self._sheds = codel is not None and codel_sheds
        self._eager = eager_timeout  # a waiting request leaves when its patience runs out
        self.overflow = overflow
        self.outside: deque[Waiting] = deque()  # the line in front of the waiting room
        # whether a request ever found every slot taken, and the most held at once: while
        # not, any number of slots from ``most`` up gives the same run; the same for the
        # waiting room (a thread pool decides on both as it grows: it never vouches)
        self.ran_out = self.filled = thread_pool is not None
        self.most = self.most_waiting = 0
        # the busy and waiting counts at which admission takes its slow path: ``slots`` and
        # ``queue_limit``, or a smaller number a branching replication watches for (see
        # :mod:`sim.engine.branching`), which ``watch`` (``waiting_watch``) is told of when
        # it is reached
        self.limit, self.waiting_limit = slots, queue_limit
        self.watch: Watch | None = None
        self.waiting_watch: Watch | None = None

    def __len__(self) -> int:
        """Requests held or waiting."""
        return self.busy + self.size

    @property
    def waiting(self) -> int:
        """Requests in the waiting room."""
        return self.size

    def admit(self, priority: int = 0, patience: float = float("inf"), size: float = 0.0):
        """Ask for a slot (``size``: the units a UnitPool also needs).

        Returns True when one is free (it is now held), an event that fires when the
        request leaves the waiting room (see the module doc), or None when slots and
        waiting room are full (reject).
        """
        if self.thread_pool is not None:
            decision = thread_pool_admit(
                self.alive,
                self.busy,
                self.size,
                self.thread_pool.core,
                self.thread_pool.max,
                self.queue_limit,
            )
            if decision is Admission.REJECT:
                return self._line_up(priority, patience)
            if decision is Admission.QUEUE:
                return self._enqueue(priority, patience)
            if decision is Admission.NEW_THREAD:
                self.alive += 1
        elif self.busy >= self.limit:
            if self.busy < self.slots:
                self.watch.reached(self.busy)  # type: ignore[union-attr]
            if self.busy >= self.slots:  # in a branch, slots may now be fewer
                self.ran_out = True
                return self._enqueue(priority, patience)
        busy = self.busy = self.busy + 1
        if busy > self.most:
            self.most = busy
        self.busy_gauge.add(self.env.now, 1)
        return True

    def _enqueue(self, priority: int, patience: float, size: float = 0.0):
        now = self.env.now
        if self.size >= self.waiting_limit:
            if self.size < self.queue_limit:
                self.waiting_watch.reached(self.size)  # type: ignore[union-attr]
            if self.size >= self.queue_limit:
                self.filled = True
                if not self._push_out(priority):
                    return self._line_up(priority, patience, size)
        if self.size >= MAX_UNBOUNDED_WAITING:
            raise UnstableError(
                f"{self.where}: more than {MAX_UNBOUNDED_WAITING:,} requests waiting in one "
                f"replica's unbounded queue at t={now:.0f}s: the load exceeds capacity; "
                "bound the queue or add workers or replicas"
            )
        grant = self.env.event()
        level = self.levels.get(priority)
        if level is None:
            level = self.levels[priority] = deque()
        item = Waiting(grant, now, priority, patience, size)
        level.append(item)
        waiting = self.size = self.size + 1
        if waiting > self.most_waiting:
            self.most_waiting = waiting
        self.queue_gauge.add(now, 1)
        if self._eager and patience != float("inf"):
            self.env.timeout(patience).callbacks.append(lambda _: self._expire(item))
        return grant

    def _line_up(self, priority: int, patience: float, size: float = 0.0):
        """No room in the waiting room: wait outside it, if the pool has such a line and it
        has room (see :class:`Overflow`), else None (refused)."""
        line = self.overflow
        if line is None or len(self.outside) >= line.size:
            return None
        item = Waiting(self.env.event(), self.env.now, priority, patience, size)
        self.outside.append(item)
        if line.patience != float("inf"):
            self.env.timeout(line.patience).callbacks.append(lambda _: self._give_up(item))
        return item.grant

    def _give_up(self, item: Waiting) -> None:
        """A request outside the waiting room stops waiting: refused as queue_full."""
        if item in self.outside:
            self.outside.remove(item)
            item.grant.succeed(QUEUE_FULL)

    def _let_in(self) -> None:
        """Room in the waiting room: the oldest request outside it steps in."""
        while self.outside and self.size < self.queue_limit:
            item = self.outside.popleft()
            level = self.levels.get(item.priority)
            if level is None:
                level = self.levels[item.priority] = deque()
            level.append(item)
            self.size += 1
            self.queue_gauge.add(self.env.now, 1)

    def _expire(self, item: Waiting) -> None:
        """An eager queue timeout: the request leaves the moment its patience runs out."""
        if item.grant.triggered:
            return  # it got a worker, or was shed, in time
        self.levels[item.priority].remove(item)
        self._leave(item, QUEUE_TIMEOUT)
        self._let_in()

    def _push_out(self, priority: int) -> bool:
        """A full queue makes room for a higher priority by shedding the newest of the lowest."""
        if not self.levels or self.queue_limit == 0:
            return False
        lowest = min(p for p, level in self.levels.items() if level)
        if lowest >= priority:
            return False
        victim = self.levels[lowest].pop()
        self._leave(victim, QUEUE_FULL)
        return True

    def _leave(self, item: Waiting, shed: str | None) -> None:
        self.size -= 1
        now = self.env.now
        self.queue_gauge.add(now, -1)
        item.grant.succeed(shed)

    def cancel(self, grant: simpy.Event, size: float = 0.0) -> None:
        """A waiting request gives up: it leaves the waiting room (or returns its slot)."""
        if grant.triggered:
            if grant.value is None:
                self.release(size)
            return
        for level in self.levels.values():
            for item in level:
                if item.grant is grant:
                    level.remove(item)
                    self.size -= 1
                    self.queue_gauge.add(self.env.now, -1)
                    self._let_in()
                    return
        for item in self.outside:
            if item.grant is grant:
                self.outside.remove(item)
                return

    def fail_waiting(self, outcome: str) -> None:
        """Every request waiting (in the waiting room or in line outside it) ends with
        ``outcome``: the instance holding them is gone."""
        for level in self.levels.values():
            while level:
                self._leave(level.popleft(), outcome)
        while self.outside:
            self.outside.popleft().grant.succeed(outcome)

    def _next(self) -> Waiting | None:
        levels = self.levels
        if len(levels) == 1:  # one priority (the common case): no search
            level = next(iter(levels.values()))
            if not level:
                return None
        else:
            top = max((p for p, level in levels.items() if level), default=None)
            if top is None:
                return None
            level = levels[top]
        return level.pop() if self._lifo() else level.popleft()

    def _lifo(self) -> bool:
        """Whether the newest waiting request goes first now."""
        if self.discipline == "fifo":
            return False
        return self.discipline == "lifo" or (
            self.discipline == "adaptive_lifo" and self.codel is not None and self.codel.standing
        )

    def _shed(self, item: Waiting, now: float) -> str | None:
        """Why a request taken from the waiting room at ``now`` is dropped, or None."""
        waited = now - item.enqueued
        if waited > item.patience:
            return QUEUE_TIMEOUT
        if self.codel is not None and self.codel.on_dequeue(now, waited) and self._sheds:
            return CODEL
        return None

    def release(self, size: float = 0.0) -> None:
        """Give the slot back: to the next waiting request that is not shed, or to the idle set."""
        now = self.env.now
        while self.size:
            item = self._next()
            shed = self._shed(item, now)
            self._leave(item, shed)
            if shed is None:
                self._let_in()
                return  # the slot passes to it
        if self.outside:  # no waiting room, or it emptied: the slot passes outside
            self.outside.popleft().grant.succeed(None)
            return
        self.busy -= 1
        self.busy_gauge.add(now, -1)
        spec = self.thread_pool
        if spec is not None and self.alive > spec.core:
            self.env.timeout(spec.keep_alive).callbacks.append(self._retire_idle_thread)

    def _retire_idle_thread(self, _event: simpy.Event) -> None:
        # Approximation: the timer retires *an* idle thread, not necessarily the one that
        # started it; pool size over time matches as long as threads are interchangeable.
        if self.alive > self.thread_pool.core and self.busy < self.alive:
            self.alive -= 1


class UnitPool(WorkerPool):
    """Workers that also share a budget of ``units`` (an inference server's KV cache): a
    request holds its size in units while it is served, at most the whole budget.

    First come, first served, as vLLM's default scheduler: while anyone waits, newcomers
    wait too, and the head of the waiting room starts only when a worker and its units
    are both free, so one large request holds back the small ones behind it.
    """

    def __init__(self, *args: object, units: float, held: Gauge, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.ran_out = self.filled = True  # its own admission keeps no record: never vouches
        self.units = units
        self.held = 0.0
        self.held_gauge = held

    def _fits(self, size: float) -> bool:
        return self.busy < self.slots and self.held + size <= self.units + 1e-9

    def _hold(self, size: float) -> None:
        now = self.env.now
        self.busy += 1
        self.held += size
        self.busy_gauge.add(now, 1)
        self.held_gauge.add(now, size)

    def admit(self, priority: int = 0, patience: float = float("inf"), size: float = 0.0):
        """A worker and ``size`` units now (True), a place in line (an event), or None."""
        size = min(size, self.units)
        if not self.size and not self.outside and self._fits(size):
            self._hold(size)
            return True
        return self._enqueue(priority, patience, size)

    def release(self, size: float = 0.0) -> None:
        """Give back a worker and ``size`` units, and start whoever now fits."""
        now = self.env.now
        size = min(size, self.units)
        self.busy -= 1
        self.held = max(0.0, self.held - size)
        self.busy_gauge.add(now, -1)
        self.held_gauge.add(now, -size)
        self._start_fitting()

    def cancel(self, grant: simpy.Event, size: float = 0.0) -> None:
        """A waiting request gives up; a smaller one behind it may now fit."""
        super().cancel(grant, min(size, self.units))
        self._start_fitting()

    def _expire(self, item: Waiting) -> None:
        super()._expire(item)
        self._start_fitting()

    def _start_fitting(self) -> None:
        """Start every waiting request that fits, in order, until the head does not."""
        now = self.env.now
        while self.size:
            top = max(p for p, level in self.levels.items() if level)
            head = self.levels[top][-1 if self._lifo() else 0]
            if not self._fits(head.size):
                return
            item = self._next()
            shed = self._shed(item, now)
            self._leave(item, shed)
            self._let_in()
            if shed is None:
                self._hold(item.size)
        while self.outside and self._fits(self.outside[0].size):
            item = self.outside.popleft()
            self._hold(item.size)
            item.grant.succeed(None)
