"""Processes without an Initialize event, and requests nobody waits for.

``env.process(gen)`` schedules an Initialize event (urgent, now) whose processing takes the
generator's first step. A request's path makes a process per client request and per call
with a timeout, so those events are a large share of a run's events, each a heap push and
pop and an object. A :class:`TaskEnvironment` keeps its tasks' first steps in a queue of
their own instead, each with the event id its Initialize event would have had, and its
event loop (:meth:`TaskEnvironment.steps`) takes them in exactly the order of the heap
they replace: every event keeps its place. The engine starts every process it makes as a
task, the arrival process and other long-lived ones too, whose steps then run in the
compiled loop rather than SimPy's interpreted one. The same environment keeps calls'
timeouts in timer queues (:mod:`sim.engine.timers`) and its clock in a plain attribute.

A task started ``detached`` is one no event waits on (a client request sent by the arrival
process, an enqueued call): its end schedules nothing, where a process's end is an event
of its own, processed with no callback to run. A detached task that fails still raises,
from the step that processes its failure.

SimPy's protocols, not its classes: a :class:`Signal` is an event as SimPy's processes,
conditions and interrupts use one, a :class:`Task` a signal with a generator, and a
:class:`TaskEnvironment` has SimPy's environment API, so SimPy's own processes, timeouts
and conditions run in it unchanged. Built, the three are extension types whose methods
reach their attributes in the object itself (SimPy's classes, which the engine's once
extended, keep theirs in a ``__dict__``). They share one module because a task's
environment is declared by its type, which a build can only do within a module.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from itertools import count

import cython
import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, PENDING, URGENT, Interruption, Timeout

from sim.engine.heap import pop, push
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


class Ended:
    """What :func:`_send` returns where the generator returned: its ``value``."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


@cython.cfunc
@cython.inline
def _send(generator: Generator[object, object, object], value: object) -> object:
    """``generator.send(value)``, except that where the generator returns, its value comes
    back in an :class:`Ended` instead of StopIteration. Built, without raising it at all:
    a caught exception costs a traceback entry, a frame object (the compiled code's),
    about 2,000 instructions at every task's end."""
    if cython.compiled:
        return queuefull_send(generator, value, Ended)  # noqa: F821 (C, in tasks.pxd)
    try:
        return generator.send(value)
    except StopIteration as stop:
        return Ended(stop.value)


@cython.cfunc
@cython.inline
@cython.returns(cython.Py_ssize_t)
@cython.exceptval(check=False)
@cython.locals(entries=list, taken=cython.Py_ssize_t)
def _past(entries: list[object], taken: int) -> int:
    """Where a list read from its head (the start queue, the events due now) goes on
    after its entry ``taken`` was taken: that entry let go, and the list emptied once
    all of them were."""
    entries[taken] = None
    taken += 1
    if taken == len(entries):
        entries.clear()
        return 0
    return taken


STEPS_AT_ONCE = 10_000
"""Steps :meth:`TaskEnvironment.run` takes per call of its loop."""


class Wake:
    """A timeout that only the process sleeping on it waits for (see
    :meth:`TaskEnvironment.sleep`): an event reduced to what the event loop and a
    process's resumption read, its list of callbacks and a value that never fails."""

    __slots__ = ("callbacks",)
    _ok = True
    _value = None

    def __init__(self) -> None:
        self.callbacks: list[object] | None = []


class Signal:
    """An event code triggers (``succeed``, ``fail``): SimPy's event protocol, not its
    class. SimPy's events, conditions and processes read and write only the attributes
    they would on a ``simpy.Event`` (``env``, ``callbacks``, ``_value``, ``_ok``,
    ``_defused``), which in the build are stored in the object itself (see ``tasks.pxd``).
    What :meth:`TaskEnvironment.event` makes: pools' waits, calls' answers, timers."""

    def __init__(self, env: TaskEnvironment) -> None:
        self._untriggered(env)

    def _untriggered(self, env: TaskEnvironment) -> None:
        """Set it up new in ``env``: what ``__init__`` does, for one made with ``__new__``
        (built, a direct allocation, where calling the class parses its arguments)."""
        self.env = env
        self.callbacks: list[object] | None = []
        self._value: object = PENDING
        self._ok: object = None
        self._defused: object = None  # True once a waiter took its failure

    @property
    def triggered(self) -> bool:
        """Whether its value is known (it is scheduled, or processed)."""
        return self._value is not PENDING

    @property
    def processed(self) -> bool:
        """Whether it has been processed (its callbacks ran)."""
        return self.callbacks is None

    @property
    def ok(self) -> bool:
        """Whether it succeeded."""
        return bool(self._ok)

    @property
    def defused(self) -> bool:
        """Whether a waiter took its failure (so the run does not raise it)."""
        return bool(self._defused)

    @property
    def value(self) -> object:
        """Its value (or the error it failed with), once it is triggered."""
        if self._value is PENDING:
            raise AttributeError(f"Value of {self} is not yet available")
        return self._value

    def succeed(self, value: object = None) -> Signal:
        """Trigger it with ``value``: processed after the events already due now."""
        if self._value is not PENDING:
            raise RuntimeError(f"{self} has already been triggered")
        self._ok = True
        self._value = value
        env = self.env  # env.schedule(self) written out: a call less per event
        env.soon.append((next(env._eid), self))
        return self

    def fail(self, exception: BaseException) -> Signal:
        """Trigger it with ``exception``, thrown into whoever waits on it."""
        if self._value is not PENDING:
            raise RuntimeError(f"{self} has already been triggered")
        if not isinstance(exception, BaseException):
            raise TypeError(f"{exception} is not an exception.")
        self._ok = False
        self._value = exception
        self.env.schedule(self)
        return self

    def trigger(self, event: simpy.Event) -> None:
        """Trigger it as ``event`` was (a callback: ``other.callbacks.append(me.trigger)``)."""
        self._ok = event._ok
        self._value = event._value
        self.env.schedule(self)

    def __and__(self, other: simpy.Event) -> simpy.Condition:
        return simpy.AllOf(self.env, [self, other])  # type: ignore[arg-type,list-item]

    def __or__(self, other: simpy.Event) -> simpy.Condition:
        return simpy.AnyOf(self.env, [self, other])  # type: ignore[arg-type,list-item]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}() object at {id(self):#x}>"


class Task(Signal):
    """A process whose first step waits in its environment's start queue.

    SimPy's process protocol, not its class: as a ``simpy.Process`` is an event, a task is
    a :class:`Signal`, and interrupts use only the attributes they would on a process
    (``_target``, ``_resume``).
    """

    def __init__(
        self,
        env: TaskEnvironment,
        generator: Generator[simpy.Event, object, object],
        detached: bool = False,
    ) -> None:
        self._untriggered(env)
        self._prepare(generator, detached)

    def _prepare(self, generator: Generator[simpy.Event, object, object], detached: bool) -> None:
        """Queue the first step of ``generator`` (``__init__``'s, after the signal's)."""
        self._generator = generator
        self._detached = detached
        self._target: object = _GO
        # what the events it waits on call back: its _resume, bound once rather than at
        # every wait (a cycle through the task, broken when it ends)
        self._resumer: object = self._resume
        self.env.starts.append((next(self.env._eid), self))  # through the typed slot

    def begin(self) -> None:
        """Take the first step (its turn in the start queue has come)."""
        self._resume(_GO)  # type: ignore[arg-type]

    @cython.locals(signal=Signal, wake=Wake, ended=Ended)
    def _resume(self, event: simpy.Event) -> None:
        """Send ``event``'s value (or throw its failure) into the generator, step by step,
        until it waits on an event not yet processed, or ends."""
        self.env._active_proc = self
        generator = self._generator
        while True:
            # the engine's own events (a sleep's Wake, a Signal, a Task) are read through
            # their types, in the build without a lookup by name; SimPy's by name
            try:
                if type(event) is Wake:  # a sleep's end: no value, never a failure
                    event = _send(generator, None)
                elif isinstance(event, Signal):
                    signal = event
                    if signal._ok:
                        event = _send(generator, signal._value)
                    else:
                        signal._defused = True
                        event = generator.throw(signal._value)  # type: ignore[arg-type]
                elif event._ok:
                    event = _send(generator, event._value)
                else:
                    event._defused = True  # type: ignore[attr-defined]
                    event = generator.throw(event._value)  # type: ignore[arg-type]
            except StopIteration as stop:  # returned from a throw
                self._end(stop.value)
                event = None  # an ended task waits on nothing (as SimPy's processes)
                break
            except BaseException as error:
                self._resumer = None
                self._ok, self._value = False, error
                self.env.schedule(self)  # a failure surfaces from the step that processes it
                break
            if type(event) is Wake:
                wake = event
                callbacks = wake.callbacks
            elif isinstance(event, Signal):
                signal = event
                callbacks = signal.callbacks
            elif type(event) is Ended:
                ended = event
                self._end(ended.value)
                event = None
                break
            else:
                callbacks = event.callbacks
            if callbacks is not None:
                callbacks.append(self._resumer)
                break
        self._target = event
        self.env._active_proc = None

    def _end(self, value: object) -> None:
        """The generator returned ``value``: the task succeeds with it."""
        self._resumer = None
        self._ok, self._value = True, value
        if self._detached and not self.callbacks:
            self.callbacks = None  # nobody waits: processed, with no event
        else:
            env = self.env  # env.schedule(self) written out, as in succeed
            env.soon.append((next(env._eid), self))

    def interrupt(self, cause: object = None) -> None:
        """Throw ``simpy.Interrupt(cause)`` into the task where it waits (as
        ``simpy.Process.interrupt``)."""
        Interruption(self, cause)  # type: ignore[arg-type]

    @property
    def name(self) -> str:
        """Its generator's name."""
        return self._generator.__name__  # type: ignore[attr-defined,no-any-return]

    @property
    def target(self) -> object:
        """The event it waits on."""
        return self._target

    @property
    def is_alive(self) -> bool:
        """Whether it has not ended yet."""
        return self._value is PENDING

    def __repr__(self) -> str:
        return f"<Task({self.name}) object at {id(self):#x}>"


class TaskEnvironment:
    """A SimPy environment that runs :class:`Task` first steps from a queue of their own.

    SimPy's environment API (``now``, ``active_process``, ``schedule``, ``step``,
    ``run``, ``process``, ``timeout``, ``event``, ``all_of``, ``any_of``, ``peek``) and
    the attributes SimPy's events and processes use (``_now``, ``_queue``, ``_eid``,
    ``_active_proc``), without SimPy's class: in the build its attributes are stored in
    the object itself. Its clock, ``now``, is a plain attribute kept equal to ``_now`` by
    its loop (:meth:`steps`): the request path reads it a dozen times per request.
    """

    def __init__(self, initial_time: float = 0) -> None:
        self._now = self.now = initial_time
        self._queue: list[tuple[float, int, int, object]] = []  # (time, priority, eid, event)
        self._eid = count()
        self._active_proc: object = None
        # tasks' first steps, (event id, task) oldest first, from starts[_next_start] on
        # (a list read from its head, as soon below)
        self.starts: list[tuple[int, Task] | None] = []
        self._next_start = 0
        # events due now at normal priority, (event id, event) oldest first, from
        # soon[_next_soon] on: half of a run's events, each a heap push and pop were it in
        # the heap (see steps). A list read from its head, emptied whenever all are taken.
        self.soon: list[tuple[int, object] | None] = []
        self._next_soon = 0
        self.timers: dict[float, TimerQueue] = {}  # by length

    @property
    def active_process(self) -> object:
        """The process (or task) taking a step now, if any."""
        return self._active_proc

    def schedule(self, event: object, priority: int = NORMAL, delay: float = 0) -> None:
        """Put ``event`` in the heap, to be processed ``delay`` seconds from now."""
        if delay == 0 and priority == NORMAL:
            self.soon.append((next(self._eid), event))
        else:
            push(self._queue, (self._now + delay, priority, next(self._eid), event))

    def process(self, generator: Generator[simpy.Event, object, object]) -> simpy.Process:
        """SimPy's process of ``generator`` (its first step an Initialize event)."""
        return simpy.Process(self, generator)  # type: ignore[arg-type]

    @cython.locals(signal=Signal)
    def event(self) -> Signal:
        """A new, untriggered event."""
        signal = Signal.__new__(Signal)
        signal._untriggered(self)
        return signal

    def all_of(self, events: list[simpy.Event]) -> simpy.Condition:
        """An event processed once every one of ``events`` is."""
        return simpy.AllOf(self, events)  # type: ignore[arg-type]

    def any_of(self, events: list[simpy.Event]) -> simpy.Condition:
        """An event processed once any of ``events`` is."""
        return simpy.AnyOf(self, events)  # type: ignore[arg-type]

    def timeout(self, delay: float = 0, value: object = None) -> simpy.Timeout:
        """``simpy.Timeout(self, delay, value)``, scheduled here without its two calls (the
        request path makes one or more per request)."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        timeout = Timeout.__new__(Timeout)
        timeout.env = self  # type: ignore[assignment]
        timeout.callbacks = []
        timeout._value = value
        timeout._delay = delay
        timeout._ok = True
        self.schedule(timeout, NORMAL, delay)
        return timeout

    def sleep(self, delay: float) -> Wake:
        """What a process yields to sleep ``delay`` seconds when nothing else will wait on
        the timeout or combine it with other events (a service's work, a client's think
        time): :meth:`timeout`'s place in the event order, without a Timeout's weight."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        wake = Wake.__new__(Wake)  # built, an allocation without a call
        wake.callbacks = []
        push(self._queue, (self._now + delay, NORMAL, next(self._eid), wake))
        return wake

    @cython.locals(timers=TimerQueue)
    def wake_after(self, seconds: float, waiter: simpy.Event) -> None:
        """Trigger ``waiter`` in ``seconds`` if nothing has by then: the effect of a timeout
        event whose callback does that, without the event (see :mod:`sim.engine.timers`)."""
        timers = self.timers.get(seconds)
        if timers is None:
            timers = self.timers[seconds] = TimerQueue(self, seconds)
        timers.set(waiter)

    @cython.locals(starts=list, taken=cython.Py_ssize_t, entry=tuple, time=cython.double)
    @cython.locals(priority=cython.longlong, eid=cython.longlong)
    def start_due(self) -> Task | None:
        """The task whose first step comes before the next event in the heap, if any:
        its Initialize event would have been urgent, now, with its event id."""
        starts = self.starts
        taken = self._next_start
        if taken == len(starts):
            return None
        entry = starts[taken]
        queue = self._queue
        if queue:
            time, priority, eid, _ = queue[0]
            if time == self._now and (priority < URGENT or (priority == URGENT and eid < entry[0])):
                return None
        self._next_start = _past(starts, taken)
        return entry[1]  # type: ignore[no-any-return]

    def peek(self) -> float:
        """When the next step is due (infinity when nothing is left to do)."""
        if self._next_start < len(self.starts) or self._next_soon < len(self.soon):
            return self._now
        return self._queue[0][0] if self._queue else math.inf

    def step(self) -> None:
        """Take the next task's first step, or process the next event."""
        if not self.steps(1):
            raise EmptySchedule

    def run(self, until: object = None) -> object:
        """Take steps until ``until``: a time (events at that time left for later), an
        event (its value is returned once it is processed), or by default until nothing
        is left to do (``simpy.Environment.run``)."""
        if until is not None:
            if getattr(until, "callbacks", False) is False:  # a time, not an event
                at = float(until)  # type: ignore[arg-type]
                if at <= self.now:
                    raise ValueError(f"until ({at}) must be later than now ({self.now})")
                stop = simpy.Event(self)  # type: ignore[arg-type]
                stop._ok, stop._value = True, None
                self.schedule(stop, URGENT, at - self.now)
                until = stop
            elif until.callbacks is None:  # type: ignore[attr-defined]  # processed already
                return until.value  # type: ignore[attr-defined]
            until.callbacks.append(StopSimulation.callback)  # type: ignore[attr-defined]
        try:
            while self.steps(STEPS_AT_ONCE):
                pass
        except StopSimulation as stop_at:
            return stop_at.args[0]
        if until is not None:
            raise RuntimeError(f"No events left but {until} was not triggered")
        return None

    @cython.locals(wake=Wake, signal=Signal, task=Task, soon=list, time=cython.double)
    @cython.locals(priority=cython.longlong, eid=cython.longlong, taken=cython.Py_ssize_t)
    @cython.locals(entry=tuple)
    def steps(self, count: int) -> bool:
        """Take up to ``count`` steps, each a task's first step or the next event: the
        event loop (SimPy's ``step`` written out, merged with the start queue). False when
        nothing was left to do.

        The events due now at normal priority wait in ``soon``, in the order of their
        event ids, which is their order in the heap: an event is taken from there unless
        the heap's first comes before it (due now, and urgent or of an older id). The
        order of every event is the heap's alone."""
        queue, starts, soon = self._queue, self.starts, self.soon
        for _ in range(count):
            if self._next_start < len(starts):
                task = self.start_due()
                if task is not None:
                    task.begin()
                    continue
            taken = self._next_soon
            if taken < len(soon):
                entry = soon[taken]
                if queue:
                    time, priority, eid, _ = queue[0]
                    first = time == self._now and (
                        priority < NORMAL or (priority == NORMAL and eid < entry[0])
                    )
                else:
                    first = False
                if first:
                    _, _, _, event = pop(queue)
                else:
                    event = entry[1]
                    self._next_soon = _past(soon, taken)
            else:
                try:
                    now, _, _, event = pop(queue)
                except IndexError:
                    return False
                self._now = self.now = now
            if type(event) is Wake:  # read through its type (see Task._resume): never fails
                wake = event
                callbacks, wake.callbacks = wake.callbacks, None
                for callback in callbacks:
                    callback(event)
                continue
            if isinstance(event, Signal):
                signal = event
                callbacks, signal.callbacks = signal.callbacks, None
                for callback in callbacks:
                    callback(event)
                if not signal._ok and not signal._defused:
                    raise signal._value  # a failure nothing handled: the run's error
                continue
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not getattr(event, "_defused", None):
                raise event._value  # a failure nothing handled: the run's error
        return True


def queues(env: simpy.Environment) -> bool:
    """Whether ``env`` keeps first steps and timers in queues of its own (a
    TaskEnvironment, unless :data:`QUEUED` is off)."""
    return QUEUED and isinstance(env, TaskEnvironment)


@cython.locals(task=Task)
def start(
    env: simpy.Environment,
    generator: Generator[simpy.Event, object, object],
    detached: bool = False,
) -> simpy.Process:
    """Run ``generator`` as a process: a :class:`Task` in a TaskEnvironment, else SimPy's."""
    if QUEUED and isinstance(env, TaskEnvironment):  # queues(env), without a call per task
        task = Task.__new__(Task)  # built, an allocation without a call
        task._untriggered(env)
        task._prepare(generator, detached)
        return task
    return env.process(generator)
