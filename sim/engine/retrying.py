"""Timeouts and retries wired to time: the same rules for a client and for a call."""

from __future__ import annotations

from collections.abc import Callable, Generator

import cython
import simpy
from simpy.events import PENDING

from sim.engine.request import RequestInfo
from sim.engine.tasks import Signal, TaskEnvironment, queues, start
from sim.model.controls import RetryPolicy
from sim.outcomes import OK, TIMEOUT
from sim.policies.retry import RetryGate

CallResult = tuple[str, bool]
"""(root outcome, whether a failure is the caller's own: its timeout, pool or breaker)."""

Attempt = Callable[[], Generator[simpy.Event, object, CallResult]]


def with_timeout(
    env: simpy.Environment, work: Generator[simpy.Event, object, str], seconds: float
) -> Generator[simpy.Event, object, CallResult]:
    """Run ``work`` (a service's handle) but stop waiting after ``seconds``.

    The work itself goes on after a timeout: nobody cancels it (see deadline propagation).
    """
    if seconds <= 0:
        work.close()
        return TIMEOUT, True
    response = start(env, work)
    yield first_or_after(env, response, seconds)
    if response.triggered:
        return response.value, False
    return TIMEOUT, True


class FirstOf(Signal):
    """An event that succeeds when the first of the events it is hooked to is processed:
    ``a | b`` without the condition's bookkeeping (its values, and unhooking from the
    others), which a timeout on every call pays for nothing. Same instant, same order."""

    def hook(self, event: simpy.Event) -> None:
        """Succeed once ``event`` is processed (at once if it already was)."""
        if event.callbacks is None:  # already processed
            self.fire(event)
        else:
            event.callbacks.append(self.fire)

    def fire(self, _event: object) -> None:
        """A hooked event was processed: succeed, unless an earlier one did."""
        if self._value is PENDING:
            self.succeed()


@cython.locals(done=FirstOf)
def first_of(env: simpy.Environment, *events: simpy.Event) -> simpy.Event:
    """An event processed once the first of ``events`` is (see :class:`FirstOf`)."""
    done = FirstOf.__new__(FirstOf)  # built, an allocation without a call
    done._untriggered(env)
    for event in events:
        done.hook(event)
    return done


@cython.locals(done=FirstOf)
def first_or_after(env: simpy.Environment, event: simpy.Event, seconds: float) -> simpy.Event:
    """``first_of(env, event, env.timeout(seconds))``, the timeout kept in the
    environment's timer queues where it has them (see :mod:`sim.engine.timers`): most
    waits end long before it, and then it is dropped instead of processed."""
    if not queues(env):
        return first_of(env, event, env.timeout(seconds))
    done = FirstOf.__new__(FirstOf)
    done._untriggered(env)
    done.hook(event)
    cython.cast(TaskEnvironment, env).wake_after(seconds, done)
    return done


class Retrier:
    """One caller's retry state: backoff, Envoy's budget or gRPC's throttling, hedging."""

    def __init__(
        self, env: TaskEnvironment, policy: RetryPolicy, uniform: Callable[[], float]
    ) -> None:
        self.env = env
        self.policy = policy
        self.uniform = uniform
        self.backoff = policy.build_backoff()
        self.retry_on = frozenset(policy.retry_on)
        self.gates: list[RetryGate] = []
        if policy.budget is not None:
            self.gates.append(policy.budget.build())
        if policy.throttling is not None:
            self.gates.append(policy.throttling.build())
        self.active = 0  # requests in progress through this caller (the budget's base)

    def _may_retry(self, outcome: str, attempts: int) -> bool:
        if outcome == OK or outcome not in self.retry_on:
            return False
        if attempts >= self.policy.max_attempts:
            return False
        return all(gate.allows(self.active) for gate in self.gates)

    def run(
        self, attempt: Attempt, info: RequestInfo
    ) -> Generator[simpy.Event, object, tuple[CallResult, int]]:
        """Make attempts until one succeeds or the policy stops; return (result, attempts)."""
        if self.policy.hedging_delay is not None:
            return (yield from self._hedged(attempt))
        self.active += 1
        attempts, sleep, retrying = 0, 0.0, False
        try:
            while True:
                info.retry_after = 0.0
                result = yield from attempt()
                attempts += 1
                for gate in self.gates:
                    gate.attempted(result[0] != OK, retrying)
                retrying = False
                if not self._may_retry(result[0], attempts):
                    return result, attempts
                sleep = self.backoff.sleep(attempts - 1, sleep, self.uniform)
                if self.policy.respect_retry_after and info.retry_after > sleep:
                    sleep = info.retry_after
                for gate in self.gates:
                    gate.retrying()
                retrying = True
                yield self.env.sleep(sleep)
        finally:
            self.active -= 1

    def _hedged(self, attempt: Attempt) -> Generator[simpy.Event, object, tuple[CallResult, int]]:
        """gRPC hedging: a new copy every hedging_delay (or at once after a failure) up to
        max_attempts; the first success wins and later answers are ignored."""
        env, policy = self.env, self.policy
        pending = [start(env, attempt())]
        attempts, last = 1, (TIMEOUT, True)
        while pending:
            timer = env.timeout(policy.hedging_delay) if attempts < policy.max_attempts else None
            yield env.any_of(pending + ([timer] if timer is not None else []))
            failed = False
            for process in [p for p in pending if p.triggered]:
                pending.remove(process)
                last = process.value
                if last[0] == OK:
                    return last, attempts
                failed = True
            if attempts < policy.max_attempts and (
                failed or (timer is not None and timer.triggered)
            ):
                pending.append(start(env, attempt()))
                attempts += 1
        return last, attempts
