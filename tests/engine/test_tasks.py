"""Tasks give exactly the numbers SimPy's own processes give.

A request's path starts its processes (each client request, each call with a timeout or
in parallel, each enqueued call) as :class:`sim.engine.tasks.Task`: its first step waits
in a start queue, with the event id its Initialize event would have had, instead of in the
heap. Every event keeps its place, so random models on every feature must give the same
results JSON, byte for byte, either way.
"""

from __future__ import annotations

import math
import os

import pytest
import simpy
from hypothesis import HealthCheck, assume, given, settings

import sim
import sim.engine.tasks as tasks
from sim.engine.tasks import Task, TaskEnvironment, start
from tests.studies.test_fuzz import models


def results_json(model: sim.Model) -> str:
    """The model's results as JSON, run in this process (without the instant estimate, a
    function of the model alone)."""
    return sim.run(model, executor="inline", progress=False).to_json(estimate=False)


EXAMPLES = int(os.environ.get("QUEUEFULL_TASK_EXAMPLES", "15"))


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(models())
def test_tasks_started_queued_give_the_processes_numbers(data):
    try:
        model = sim.from_dict({**data, "engine": "simpy"})
    except sim.ModelError:
        assume(False)
    try:
        queued = results_json(model)
    except sim.UnstableError:
        return
    tasks.QUEUED = False
    try:
        processes = results_json(model)
    finally:
        tasks.QUEUED = True
    assert queued == processes


def test_first_steps_keep_the_place_of_initialize_events():
    """Tasks and processes started in one step, with urgent and normal events around them,
    run in the order SimPy gives processes alone."""

    def story(env: simpy.Environment) -> list[tuple[float, str]]:
        seen: list[tuple[float, str]] = []

        def child(name: str, pause: float):
            seen.append((env.now, f"{name} starts"))
            yield env.timeout(pause)
            seen.append((env.now, f"{name} ends"))
            return name

        def parent():
            yield env.timeout(1)
            first = start(env, child("task a", 1))
            env.timeout(0).callbacks.append(lambda _: seen.append((env.now, "normal event")))
            env.process(child("process b", 0))
            start(env, child("task c", 1), detached=True)
            seen.append((env.now, "parent goes on"))
            value = yield first
            seen.append((env.now, f"parent hears {value}"))

        env.process(parent())
        env.run()
        return seen

    tasks.QUEUED = False
    try:
        expected = story(simpy.Environment())
    finally:
        tasks.QUEUED = True
    assert story(TaskEnvironment()) == expected
    assert expected[:3] == [(1, "parent goes on"), (1, "task a starts"), (1, "process b starts")]


def test_a_detached_task_schedules_no_end_but_its_failure_still_raises():
    env = TaskEnvironment()

    def quick():
        yield env.timeout(1)

    task = start(env, quick(), detached=True)
    assert isinstance(task, Task)
    events_before = len(env._queue)
    env.run()
    assert task.processed and task.ok and env.now == 1 and events_before == 0

    def broken():
        yield env.timeout(1)
        raise ValueError("broken request path")

    start(env, broken(), detached=True)
    with pytest.raises(ValueError, match="broken request path"):
        env.run()


def test_a_task_that_ends_lets_go_of_its_bound_resumption():
    # A task binds its _resume once, for every event it waits on: a cycle through the
    # task while it runs, broken when it ends (or fails), so that refcounting frees it.
    env = TaskEnvironment()

    def waits(fail: bool):
        yield env.timeout(1)
        yield env.sleep(1)
        if fail:
            raise ValueError("ends in a failure")

    ending, failing = start(env, waits(False)), start(env, waits(True))
    assert ending._resumer == ending._resume
    env.run(until=1.5)
    assert ending._resumer is not None  # still waiting
    failing.callbacks.append(lambda event: setattr(event, "_defused", True))  # handled
    env.run()
    assert ending._resumer is None and failing._resumer is None
    assert ending.ok and not failing.ok


def test_a_task_can_be_interrupted_like_a_process():
    env = TaskEnvironment()
    heard = []

    def worker():
        try:
            yield env.timeout(10)
        except simpy.Interrupt as interrupt:
            heard.append((env.now, interrupt.cause))

    task = start(env, worker())

    def crash():
        yield env.timeout(3)
        task.interrupt("crash")

    env.process(crash())
    env.run()
    assert heard == [(3, "crash")]


def test_timers_wake_waiters_in_the_place_of_their_timeout_events():
    """Waiters woken by a timer queue see the order plain timeout events give, answered
    ones never woken, and the heap holds one timer per length, not one per call."""

    def story(env: simpy.Environment, queued: bool) -> list[tuple[float, str]]:
        seen: list[tuple[float, str]] = []

        def call(name: str, answer_after: float, timeout: float):
            answered = simpy.Event(env)
            if queued:
                env.wake_after(timeout, answered)
            else:
                env.timeout(timeout).callbacks.append(
                    lambda _: answered.triggered or answered.succeed()
                )
            env.timeout(answer_after).callbacks.append(
                lambda _: answered.triggered or answered.succeed("answer")
            )
            value = yield answered
            seen.append((env.now, f"{name}: {value or 'timed out'}"))

        def caller():
            for index, answer_after in enumerate([0.1, 2.0, 0.5, 1.0, 3.0, 0.2]):
                env.process(call(f"call {index}", answer_after, 1.0))
                yield env.timeout(0.25)

        env.process(caller())
        env.run()
        return seen

    expected = story(simpy.Environment(), queued=False)
    env = TaskEnvironment()
    assert story(env, queued=True) == expected
    assert [what for _, what in expected].count("call 1: timed out") == 1
    assert not env.timers  # a queue goes once it is empty


def test_a_sleep_takes_the_place_a_timeout_would_have_taken():
    """Sleepers and timeouts due at one instant wake in the order they were scheduled,
    tasks and plain processes alike, and an interrupted sleeper hears the interrupt."""

    def story(env: TaskEnvironment, sleep) -> list[tuple[float, str]]:
        seen: list[tuple[float, str]] = []

        def sleeper(name: str, pause: float):
            yield sleep(env, pause)
            seen.append((env.now, name))

        def interrupted():
            try:
                yield sleep(env, 5)
            except simpy.Interrupt:
                seen.append((env.now, "interrupted"))

        def timer():
            env.timeout(2).callbacks.append(lambda _: seen.append((env.now, "timeout")))
            yield env.timeout(0)

        start(env, sleeper("task 1", 2))
        env.process(sleeper("process", 2))
        start(env, timer())
        start(env, sleeper("task 2", 2), detached=True)
        victim = start(env, interrupted())
        env.timeout(1).callbacks.append(lambda _: victim.interrupt())
        env.run()
        return seen

    expected = story(TaskEnvironment(), lambda env, pause: env.timeout(pause))
    assert story(TaskEnvironment(), lambda env, pause: env.sleep(pause)) == expected
    assert expected == [
        (1, "interrupted"),
        (2, "task 1"),
        (2, "process"),
        (2, "timeout"),
        (2, "task 2"),
    ]
    with pytest.raises(ValueError, match="Negative delay"):
        TaskEnvironment().sleep(-1)


def _event_story(env, make) -> list[object]:
    """Events made by ``make(env)`` through SimPy's event protocol: succeed, fail,
    trigger, conditions (``&``, ``|``, all_of, any_of) over them and over processes, a
    failure a waiter takes, and run(until=...) with a time and with an event."""
    seen: list[object] = []
    first, second, failing, copy = make(env), make(env), make(env), make(env)
    seen.append((first.triggered, first.processed))

    def child(pause: float):
        yield env.timeout(pause)
        return f"child after {pause}"

    def waiter():
        value = yield first
        seen.append((env.now, "first", value, first.ok, first.processed))
        both = yield second & copy
        seen.append((env.now, "both", sorted(both.values())))
        try:
            yield failing
        except KeyError as error:
            seen.append((env.now, "caught", repr(error), failing.defused))
        task = start(env, child(1))
        either = yield task | env.timeout(5)
        seen.append((env.now, "either", list(either.values())))
        all_done = yield env.all_of([start(env, child(0.5)), env.timeout(0.25)])
        seen.append((env.now, "all", sorted(map(str, all_done.values()))))
        any_done = yield env.any_of([start(env, child(2)), env.timeout(3)])
        seen.append((env.now, "any", list(any_done.values())))

    def trigger():
        yield env.timeout(1)
        first.succeed("one")
        with pytest.raises(RuntimeError, match="already been triggered"):
            first.succeed("again")
        yield env.timeout(1)
        second.succeed(2)
        second.callbacks.append(copy.trigger)
        yield env.timeout(1)
        failing.fail(KeyError("broken"))
        with pytest.raises(TypeError):
            make(env).fail("not an exception")

    env.process(waiter())
    env.process(trigger())
    stop = make(env)
    env.timeout(4).callbacks.append(lambda _: stop.succeed("stopped"))
    seen.append(env.run(until=stop))
    seen.append(env.run(until=stop))  # processed already: its value at once
    seen.append((env.peek(), env.run(until=20), env.now))
    with pytest.raises(ValueError):
        env.run(until=env.now)
    never = make(env)
    with pytest.raises(RuntimeError):
        env.run(until=never)
    orphan = make(env)
    orphan.fail(LookupError("nobody waits"))
    with pytest.raises(LookupError):
        env.run()
    seen.append((env.peek(), env.now))
    return seen


def test_signals_and_the_environment_keep_simpys_event_protocol():
    """A TaskEnvironment and its events (Signals, Tasks) are SimPy's protocol without
    SimPy's classes: the same story gives what SimPy's environment and events give."""
    tasks.QUEUED = False
    try:
        expected = _event_story(simpy.Environment(), simpy.Event)
    finally:
        tasks.QUEUED = True
    assert _event_story(TaskEnvironment(), lambda env: env.event()) == expected
    assert (6.5, "any", ["child after 2"]) in expected and expected[-1] == (math.inf, 20)


def test_a_failed_task_someone_waited_on_does_not_fail_the_run():
    env = TaskEnvironment()
    heard = []

    def broken():
        yield env.sleep(1)
        raise ValueError("no")

    def parent():
        try:
            yield start(env, broken())
        except ValueError:
            heard.append(env.now)

    start(env, parent(), detached=True)
    env.run()
    assert heard == [1]


CONTENDED_POOL = {
    "horizon": 60,
    "warmup": 5,
    "replications": 1,
    "engine": "simpy",
    "workload": {"arrivals": {"process": "poisson", "rate": 150}},
    "services": {
        "api": {
            "workers": 40,
            "queue": 40,
            "work": {"distribution": "exponential", "mean": "2ms"},
            "connection_pools": {"db": {"max_connections": 4, "max_pending_requests": 30}},
            "calls": [{"to": "db", "timeout": "200ms", "retries": {"max_attempts": 2}}],
        },
        "db": {
            "workers": 8,
            "queue": 20,
            "work": {"distribution": "lognormal", "mean": "25ms", "cv": 1},
        },
    },
}


def test_deadlines_after_a_wait_for_a_connection_keep_their_place_and_leave_no_queues():
    """A call that waited for a connection has what is left of its timeout, a length of
    its own: each such timer wakes its waiter where a timeout event would have, and its
    queue goes once it has rung, so a contended pool leaves the environment no more
    queues than timers pending (they once piled up, one per length, for the whole run)."""
    from sim.engine.replication import build, simulate
    from sim.engine.streams import Streams

    model = sim.from_dict(CONTENDED_POOL)
    system = build(model, Streams(model.seed, 0))
    env = system.env
    most = []

    def watch():
        while True:
            yield env.timeout(1)
            pending = sum(len(queue.pending) for queue in env.timers.values())
            most.append((len(env.timers), pending))

    env.process(watch())
    simulate(system)
    assert max(queues for queues, _ in most) > 2  # calls waited: lengths of their own
    assert all(queues <= max(pending, 1) for queues, pending in most)
    queued = results_json(model)
    tasks.QUEUED = False
    try:
        assert results_json(model) == queued
    finally:
        tasks.QUEUED = True
