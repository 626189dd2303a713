"""Processes without an Initialize event, and requests nobody waits for.

``env.process(gen)`` schedules an Initialize event (urgent, now) whose processing takes the
generator's first step. A request's path makes a process per client request and per call
with a timeout, so those events are a large share of a run's events, each a heap push and
pop and an object. A :class:`TaskEnvironment` keeps its tasks' first steps in a queue of
their own instead, each with the event id its Initialize event would have had, and its
event loop (:meth:`TaskEnvironment.steps`) takes them in exactly the order of the heap
they replace: every event keeps its place. The same environment keeps calls' timeouts in
timer queues (:mod:`sim.engine.timers`) and its clock in a plain attribute.

A task started ``detached`` is one no event waits on (a client request sent by the arrival
process, an enqueued call): its end schedules nothing, where a process's end is an event
of its own, processed with no callback to run. A detached task that fails still raises,
from the step that processes its failure.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from heapq import heappop, heappush

import simpy
from simpy.core import BoundClass, EmptySchedule
from simpy.events import NORMAL, PENDING, URGENT, Timeout

from sim.engine.timers import TimerQueue

#: Whether a TaskEnvironment queues its tasks' first steps and its calls' timeouts (False:
#: SimPy's own processes and timeout events, the same results with more events; the tests
#: compare both).
QUEUED = True


class _Go:
    """What a task's first step resumes on: a processed event with no value."""

    _ok = True
    _value = None


_GO = _Go()


class Wake:
    """A timeout that only the process sleeping on it waits for (see
    :meth:`TaskEnvironment.sleep`): an event reduced to what the event loop and a
    process's resumption read, its list of callbacks and a value that never fails."""

    __slots__ = ("callbacks",)
    _ok = True
    _value = None

    def __init__(self) -> None:
        self.callbacks: list[object] | None = []


class Task(simpy.Process):
    """A SimPy process whose first step waits in its environment's start queue."""

    def __init__(
        self,
        env: TaskEnvironment,
        generator: Generator[simpy.Event, object, object],
        detached: bool = False,
    ) -> None:
        # Event.__init__ and Process.__init__, without scheduling an Initialize event
        self.env = env
        self.callbacks = []
        self._value = PENDING
        self._generator = generator
        self._detached = detached
        self._target = _GO  # type: ignore[assignment]
        env.starts.append((next(env._eid), self))

    def begin(self) -> None:
        """Take the first step (its turn in the start queue has come)."""
        self._resume(_GO)  # type: ignore[arg-type]

    def _resume(self, event: simpy.Event) -> None:
        """Send ``event``'s value (or throw its failure) into the generator, step by step,
        until it waits on an event not yet processed, or ends."""
        env = self.env
        env._active_proc = self
        generator = self._generator
        while True:
            try:
                if event._ok:
                    event = generator.send(event._value)
                else:
                    event._defused = True  # type: ignore[attr-defined]
                    event = generator.throw(event._value)  # type: ignore[arg-type]
            except StopIteration as stop:
                self._ok, self._value = True, stop.value
                if self._detached and not self.callbacks:
                    self.callbacks = None  # nobody waits: processed, with no event
                else:
                    env.schedule(self)
                break
            except BaseException as error:
                self._ok, self._value = False, error
                env.schedule(self)  # a failure surfaces from the step that processes it
                break
            callbacks = event.callbacks
            if callbacks is not None:
                callbacks.append(self._resume)
                break
        self._target = event
        env._active_proc = None


class TaskEnvironment(simpy.Environment):
    """A SimPy environment that runs :class:`Task` first steps from a queue of their own.

    Its clock, ``now``, is a plain attribute kept equal to SimPy's ``_now`` by its loop
    (:meth:`steps`) instead of a property: the request path reads it a dozen times per
    request.
    """

    now: float = 0.0  # type: ignore[assignment]  # shadows SimPy's property (see above)

    def __init__(self) -> None:
        super().__init__()
        self.now = self._now
        # SimPy binds env.timeout, env.event... once per instance, but only those its
        # instance's own class defines: bind the inherited ones too
        for name, value in vars(simpy.Environment).items():
            if isinstance(value, BoundClass) and name != "timeout":
                setattr(self, name, getattr(self, name))
        self.starts: deque[tuple[int, Task]] = deque()  # (event id, task), oldest first
        self.timers: dict[float, TimerQueue] = {}  # by length

    def timeout(self, delay: float = 0, value: object = None) -> simpy.Timeout:
        """``simpy.Timeout(self, delay, value)``, scheduled here without its two calls (the
        request path makes one or more per request)."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        timeout = Timeout.__new__(Timeout)
        timeout.env = self
        timeout.callbacks = []
        timeout._value = value
        timeout._delay = delay
        timeout._ok = True
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), timeout))
        return timeout

    def sleep(self, delay: float) -> Wake:
        """What a process yields to sleep ``delay`` seconds when nothing else will wait on
        the timeout or combine it with other events (a service's work, a client's think
        time): :meth:`timeout`'s place in the event order, without a Timeout's weight."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        wake = Wake()
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), wake))
        return wake

    def wake_after(self, seconds: float, waiter: simpy.Event) -> None:
        """Trigger ``waiter`` in ``seconds`` if nothing has by then: the effect of a timeout
        event whose callback does that, without the event (see :mod:`sim.engine.timers`)."""
        timers = self.timers.get(seconds)
        if timers is None:
            timers = self.timers[seconds] = TimerQueue(self, seconds)
        timers.set(waiter)

    def start_due(self) -> Task | None:
        """The task whose first step comes before the next event in the heap, if any:
        its Initialize event would have been urgent, now, with its event id."""
        starts = self.starts
        if not starts:
            return None
        queue = self._queue
        if queue:
            time, priority, eid, _ = queue[0]
            if time == self._now and (
                priority < URGENT or (priority == URGENT and eid < starts[0][0])
            ):
                return None
        return starts.popleft()[1]

    def step(self) -> None:
        """Take the next task's first step, or process the next event (``run`` uses this)."""
        if not self.steps(1):
            raise EmptySchedule

    def steps(self, count: int) -> bool:
        """Take up to ``count`` steps, each a task's first step or the next event: the
        event loop (SimPy's ``step`` written out, merged with the start queue). False when
        nothing was left to do."""
        queue, starts = self._queue, self.starts
        for _ in range(count):
            if starts:
                task = self.start_due()
                if task is not None:
                    task.begin()
                    continue
            try:
                now, _, _, event = heappop(queue)
            except IndexError:
                return False
            self._now = self.now = now
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                raise event._value  # a failure nothing handled: the run's error
        return True


def start(
    env: simpy.Environment,
    generator: Generator[simpy.Event, object, object],
    detached: bool = False,
) -> simpy.Process:
    """Run ``generator`` as a process: a :class:`Task` in a TaskEnvironment, else SimPy's."""
    if QUEUED and isinstance(env, TaskEnvironment):
        return Task(env, generator, detached)
    return env.process(generator)
