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
    from sim.engine.replication import System
    from sim.measure.output import ReplicationOutput

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
class Branches:
    """Where to branch a replication off: at each of ``values`` (fewer than the model
    has) of ``service``'s ``knob``: ``workers`` or ``queue``, or with ``callee`` the
    ``max_connections`` or ``max_pending_requests`` of its connection pool to it."""

    service: str
    knob: str
    values: tuple[int, ...]
    callee: str | None = None


@dataclass
class _Branch:
    """A forked run: the number it has, its process, and the file it answers in."""

    value: int
    pid: int
    answer: IO[bytes]
    status: int | None = None  # its wait status, once it ended


class Brancher:
    """Watches a service's pools in a running trunk and forks a branch at each number
    of :class:`Branches` as it is reached (see the module doc)."""

    def __init__(self, system: System, branches: Branches) -> None:
        self.slots = branches.knob in SLOTS
        self.recorder = system.recorders[branches.service] if branches.knob == WORKERS else None
        replicas = system.services[branches.service].replicas
        callee = branches.callee
        self.pools = [r.pool if callee is None else r.connections[callee] for r in replicas]
        if self.slots:
            have, reached = self.pools[0].slots, max(p.most for p in self.pools)
            spent = any(p.ran_out for p in self.pools)
        else:
            have, reached = self.pools[0].queue_limit, max(p.most_waiting for p in self.pools)
            spent = any(p.filled for p in self.pools)
        # a number already passed (an initial backlog) can no longer be branched off
        wanted = {v for v in branches.values if reached <= v < have}
        self.pending = [] if spent else sorted(wanted)
        self.branches: list[_Branch] = []
        self.answer: IO[bytes] | None = None  # in a branch: where its output goes
        for pool in self.pools:
            pool.watch = self
        self._arm()

    @property
    def in_branch(self) -> bool:
        """Whether this process is a branch (else the trunk)."""
        return self.answer is not None

    def _arm(self) -> None:
        """Set the pools' slow path at the next number to branch at."""
        upcoming = self.pending[0] if self.pending else math.inf
        for pool in self.pools:
            if self.slots:
                pool.limit = min(pool.slots, upcoming)
            else:
                pool.waiting_limit = min(pool.queue_limit, upcoming)

    def reached(self, count: int) -> None:
        """A request found ``count`` busy (or waiting): fork the run that has that many."""
        while self.pending and self.pending[0] <= count:
            value = self.pending.pop(0)
            if value == count:
                self._fork(value)
                if self.in_branch:
                    return
        self._arm()

    def _fork(self, value: int) -> None:
        self._make_room()
        answer = tempfile.TemporaryFile()  # noqa: SIM115 (read and closed in finish)
        trunk = os.getpid()
        pid = os.fork()
        if pid:
            self.branches.append(_Branch(value, pid, answer))
            return
        for sibling in self.branches:  # the trunk's to read
            sibling.answer.close()
        self.branches, self.pending, self.answer = [], [], answer
        for pool in self.pools:
            if self.slots:
                pool.slots = value
            else:
                pool.queue_limit = value
        if self.recorder is not None:
            self.recorder.workers = value
        self._arm()
        watch_parent(trunk)

    def _make_room(self) -> None:
        """Wait for the oldest branches to end while too many run."""
        running = [b for b in self.branches if b.status is None]
        for branch in running[: max(0, len(running) - LIVE_BRANCHES + 1)]:
            branch.status = os.waitpid(branch.pid, 0)[1]

    def finish(self, output: ReplicationOutput) -> dict[int, ReplicationOutput]:
        """In a branch, hand ``output`` to the trunk and exit; in the trunk, the outputs
        of its branches by number (a branch that failed raises its error here; one that
        was killed is missing, to be simulated)."""
        if self.answer is not None:
            self._answer(output, 0)
        outputs: dict[int, ReplicationOutput] = {}
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
                outputs[branch.value] = got
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
