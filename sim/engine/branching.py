"""Branching a replication off where fewer workers (or waiting places) first matter.

Until a request finds ``n`` workers of a service busy (or ``n`` requests in its waiting
room), the run with ``n`` of them is, event for event, the run with more, on the same
random numbers. A sweep over that number therefore need not simulate every point from
the start. The run with the most (the trunk) watches for each smaller number; the moment
one is reached it forks (the operating system's ``fork``: this process, whole), and the
child becomes the run with that number (its pools now hold that many) and goes on to the
end, while the trunk goes on as before. A point then costs only what comes after its
first difference: in an incident story, what comes after the incident starts. The
numbers are the ones the point's own run gives, bit for bit.

Several such numbers at once (a heatmap of the api's workers by the database's) branch
the same way: the trunk has the most of each, and a point forks at the first of its
numbers to be reached, taking all of them from then on. Up to that moment none of its
pools ran out, so its run was the trunk's.

Linux only, and only in a process with no thread but its own (and the parent watch a
pool worker starts): forking a process whose other threads may hold a lock is unsafe.
Elsewhere the trunk runs alone and the sweep simulates the other points itself.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from sim.engine.pool import WorkerPool
    from sim.engine.replication import System
    from sim.measure.output import ReplicationOutput
    from sim.measure.recorders import Recorder

WORKERS, QUEUE = "workers", "queue"
CONNECTIONS, PENDING = "max_connections", "max_pending_requests"
SLOTS = (WORKERS, CONNECTIONS)
"""The knobs that count what is held at once; the others count places to wait."""

PARENT_WATCH = "queuefull-parent-watch"
"""The name of the thread that ends a worker process when the process that started it dies."""

PARENT_CHECK = 1.0
"""Seconds between a worker's checks that the process that started it still lives."""

LIVE_BRANCHES = 2
"""The most branches of one trunk running at once: the trunk waits for the oldest to end
before it forks another, so that a sweep of many points holds at most three runs in
memory per worker process (and with trunks on every core, every core has work)."""


def watch_parent(parent: int) -> None:
    """Exit this process when ``parent`` is no longer its parent (it died), instead of
    simulating on as an orphan."""

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name=PARENT_WATCH, daemon=True).start()


def branching_platform() -> bool:
    """Whether replications may branch on this platform (Linux)."""
    return sys.platform.startswith("linux")


def can_branch() -> bool:
    """Whether this process may fork a running replication: Linux, the main thread, and
    no other thread but a parent watch."""
    main = threading.main_thread()
    return (
        branching_platform()
        and threading.current_thread() is main
        and all(t is main or t.name == PARENT_WATCH for t in threading.enumerate())
    )


@dataclass(frozen=True)
class Axis:
    """One number a sweep varies that a run may branch at: ``service``'s ``knob``
    (``workers`` or ``queue``), or with ``callee`` the ``max_connections`` or
    ``max_pending_requests`` of its connection pool to it."""

    service: str
    knob: str
    callee: str | None = None

    @property
    def slots(self) -> bool:
        """Whether it counts what is held at once (else places to wait)."""
        return self.knob in SLOTS


Point = tuple[int, ...]
"""A run's numbers, one per axis."""


NICENESS = (0, 10, 19)
"""The niceness of the branches of a round's first, second and later trunks. The
operating system then gives the first trunk's branches nearly all the CPU they can use
(a process at niceness 10 weighs a tenth of one at 0, at 19 a seventieth), so a sweep's
first replication of every point ends about as soon as if it ran alone, and the later
ones use what it leaves, every core still busy. Only the order changes, never a number."""


def niceness(rank: int) -> int:
    """The niceness of the branches of a round's trunk that has ``rank`` before it."""
    return NICENESS[min(rank, len(NICENESS) - 1)]


@dataclass(frozen=True)
class Branches:
    """Where to branch a replication off: the runs with each of ``points`` (a number for
    each of ``axes``, none more than the model has and at least one fewer), each at
    ``niceness`` (see :data:`NICENESS`)."""

    axes: tuple[Axis, ...]
    points: tuple[Point, ...]
    niceness: int = 0


@dataclass
class _Branch:
    """A forked run: the numbers it has, its process, and the file it answers in."""

    point: Point
    pid: int
    answer: IO[bytes]
    status: int | None = None  # its wait status, once it ended


class _AxisWatch:
    """What one axis's pools tell when a watched count is reached."""

    __slots__ = ("axis", "brancher")

    def __init__(self, brancher: Brancher, axis: int) -> None:
        self.brancher = brancher
        self.axis = axis

    def reached(self, count: int) -> None:
        """A request found ``count`` busy (or waiting) on this axis."""
        self.brancher.reached(self.axis, count)


class Brancher:
    """Watches pools in a running trunk and forks a branch for each point of
    :class:`Branches` the moment the first of its numbers is reached (see the module
    doc): up to then the point's run is the trunk's, since none of its pools ran out."""

    def __init__(self, system: System, branches: Branches) -> None:
        self.axes = branches.axes
        self.pools: list[list[WorkerPool]] = []
        self.recorders: list[Recorder | None] = []
        self.have: list[float] = []
        passed: list[float] = []  # on each axis, the numbers a point can no longer differ at
        for index, axis in enumerate(self.axes):
            replicas = system.services[axis.service].replicas
            callee = axis.callee
            pools = [r.pool if callee is None else r.connections[callee] for r in replicas]
            watch = _AxisWatch(self, index)
            for pool in pools:
                if axis.slots:
                    pool.watch = watch
                else:
                    pool.waiting_watch = watch
            self.pools.append(pools)
            self.recorders.append(system.recorders[axis.service] if axis.knob == WORKERS else None)
            if axis.slots:
                have, reached = pools[0].slots, max(p.most for p in pools)
                spent = any(p.ran_out for p in pools)
            else:
                have, reached = pools[0].queue_limit, max(p.most_waiting for p in pools)
                spent = any(p.filled for p in pools)
            self.have.append(have)
            # a number already passed (an initial backlog) can no longer be branched off
            passed.append(have if spent else reached)
        self.pending = sorted(
            point
            for point in set(branches.points)
            if all(passed[k] <= v <= self.have[k] for k, v in enumerate(point))
            and any(v < self.have[k] for k, v in enumerate(point))
        )
        self.branches: list[_Branch] = []
        self.niceness = branches.niceness
        self.answer: IO[bytes] | None = None  # in a branch: where its output goes
        self._arm()

    @property
    def in_branch(self) -> bool:
        """Whether this process is a branch (else the trunk)."""
        return self.answer is not None

    def _arm(self) -> None:
        """Set each axis's pools' slow path at the next number to branch at."""
        for index, axis in enumerate(self.axes):
            upcoming = min((point[index] for point in self.pending), default=math.inf)
            for pool in self.pools[index]:
                if axis.slots:
                    pool.limit = min(pool.slots, upcoming)
                else:
                    pool.waiting_limit = min(pool.queue_limit, upcoming)

    def reached(self, axis: int, count: int) -> None:
        """A request found ``count`` busy (or waiting) on ``axis``: fork the runs with
        that many (the points with fewer were forked or passed already)."""
        due = [point for point in self.pending if point[axis] <= count]
        self.pending = [point for point in self.pending if point[axis] > count]
        for point in due:
            if point[axis] == count:
                self._fork(point)
                if self.in_branch:
                    return
        self._arm()

    def _fork(self, point: Point) -> None:
        self._make_room()
        answer = tempfile.TemporaryFile()  # noqa: SIM115 (read and closed in finish)
        trunk = os.getpid()
        pid = os.fork()
        if pid:
            self.branches.append(_Branch(point, pid, answer))
            return
        for sibling in self.branches:  # the trunk's to read
            sibling.answer.close()
        self.branches, self.pending, self.answer = [], [], answer
        for index, axis in enumerate(self.axes):
            value = point[index]
            for pool in self.pools[index]:
                if axis.slots:
                    pool.slots = value
                else:
                    pool.queue_limit = value
            recorder = self.recorders[index]
            if recorder is not None:
                recorder.workers = value
        self._arm()
        watch_parent(trunk)
        if self.niceness:
            with contextlib.suppress(OSError):  # a scheduling hint: run without it if refused
                os.nice(self.niceness)

    def _make_room(self) -> None:
        """Wait for the oldest branches to end while too many run."""
        running = [b for b in self.branches if b.status is None]
        for branch in running[: max(0, len(running) - LIVE_BRANCHES + 1)]:
            branch.status = os.waitpid(branch.pid, 0)[1]

    def finish(self, output: ReplicationOutput) -> dict[Point, ReplicationOutput]:
        """In a branch, hand ``output`` to the trunk and exit; in the trunk, the outputs
        of its branches by their numbers (a branch that failed raises its error here; one that
        was killed is missing, to be simulated)."""
        if self.answer is not None:
            self._answer(output, 0)
        outputs: dict[Point, ReplicationOutput] = {}
        failure: BaseException | None = None
        for branch in self.branches:
            if branch.status is None:
                branch.status = os.waitpid(branch.pid, 0)[1]
            code = os.waitstatus_to_exitcode(branch.status)
            with branch.answer as answer:
                answer.seek(0)
                try:
                    got = pickle.load(answer)
                except Exception:  # killed before it answered
                    got = None
            if code == 0 and got is not None:
                outputs[branch.point] = got
            elif code == 1 and isinstance(got, BaseException) and failure is None:
                failure = got
        self.branches = []
        if failure is not None:
            raise failure
        return outputs

    def fail(self, error: BaseException) -> None:
        """The run raised ``error``: a branch hands it to the trunk and exits; the trunk
        stops its branches (and then raises it)."""
        if self.answer is not None:
            try:
                pickle.dumps(error)
            except Exception:
                error = RuntimeError(f"{type(error).__name__}: {error}")
            self._answer(error, 1)
        for branch in self.branches:
            if branch.status is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(branch.pid, signal.SIGKILL)
                branch.status = os.waitpid(branch.pid, 0)[1]
            branch.answer.close()
        self.branches = []

    def _answer(self, what: object, code: int) -> NoReturn:
        """End this branch: ``what`` for the trunk to read, and exit code ``code``."""
        try:
            assert self.answer is not None
            pickle.dump(what, self.answer, protocol=pickle.HIGHEST_PROTOCOL)
            self.answer.flush()
        finally:
            os._exit(code)
