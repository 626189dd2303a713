"""Resilience4j's circuit breaker state machine (CircuitBreakerStateMachine.java).

Time is passed in. A call asks :meth:`CircuitBreaker.try_acquire`; if permitted, it later
reports :meth:`CircuitBreaker.on_result` with the permit it got, its duration and whether
it failed. A result whose permit belongs to an earlier state's window is recorded there,
which changes nothing now: Resilience4j's "calls in flight across a transition".
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

import cython

CLOSED, OPEN, HALF_OPEN = "CLOSED", "OPEN", "HALF_OPEN"


class Breaker(Protocol):
    """What a call site asks of a circuit breaker, and the history results are measured from."""

    transitions: list[tuple[float, str]]
    """(time, new state) for every change of state."""

    def try_acquire(self, now: float) -> int | None:
        """A permit if the call may go out now, else None (refused by the open breaker)."""
        ...

    def on_result(self, now: float, permit: int, duration: float, failed: bool) -> None:
        """A permitted call ended after ``duration`` seconds, failed or not."""
        ...


@dataclass(frozen=True)
class BreakerConfig:
    """Resilience4j's names (CircuitBreakerConfig.java); durations in seconds. The defaults
    live in the schema (``sim.model.controls.CircuitBreakerSpec``), which builds this."""

    failure_rate_threshold: float
    slow_call_rate_threshold: float
    slow_call_duration_threshold: float
    sliding_window_type: str
    sliding_window_size: int
    minimum_number_of_calls: int
    wait_duration_in_open_state: float
    permitted_number_of_calls_in_half_open_state: int
    automatic_transition_from_open_to_half_open_enabled: bool
    max_wait_duration_in_half_open_state: float


class Window:
    """Outcomes over a sliding window, with running totals: the ``calls``, ``failures``
    and ``slow`` calls in it (a breaker reads them on every call; summing the window each
    time cost a tenth of a graph's CPU)."""

    def __init__(self) -> None:
        self.calls = 0
        self.failures = 0
        self.slow = 0

    def record(self, now: float, failed: bool, slow: bool) -> None:
        """Add one outcome."""
        raise NotImplementedError

    def expire(self, now: float) -> None:
        """Drop the outcomes that fell out of the window by ``now``."""

    def totals(self, now: float) -> tuple[int, int, int]:
        """(calls, failures, slow calls) in the window at ``now``."""
        self.expire(now)
        return self.calls, self.failures, self.slow


class CountWindow(Window):
    """The last ``size`` outcomes, in a ring: each one 1 if it failed, plus 2 if slow."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.ring = [0] * size
        self.next = 0  # where the next outcome goes, over the oldest once full

    @cython.locals(old=cython.long)
    def record(self, now: float, failed: bool, slow: bool) -> None:
        """Add one outcome, dropping the oldest once the window is full."""
        if self.calls == self.size:
            old = self.ring[self.next]
            self.failures -= old & 1
            self.slow -= old >> 1
        else:
            self.calls += 1
        self.ring[self.next] = failed + 2 * slow
        self.next += 1
        if self.next == self.size:
            self.next = 0
        self.failures += failed
        self.slow += slow


class TimeWindow(Window):
    """Outcomes of the last ``size`` whole seconds, in one-second buckets."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.buckets: deque[list[int]] = deque()  # [second, calls, failures, slow]

    def expire(self, now: float) -> None:
        """Drop the buckets older than the last ``size`` seconds."""
        oldest = int(now // 1) - self.size + 1
        while self.buckets and self.buckets[0][0] < oldest:
            _, calls, failures, slow = self.buckets.popleft()
            self.calls -= calls
            self.failures -= failures
            self.slow -= slow

    def record(self, now: float, failed: bool, slow: bool) -> None:
        """Add one outcome to the current second's bucket."""
        self.expire(now)
        second = int(now // 1)
        if not self.buckets or self.buckets[-1][0] != second:
            self.buckets.append([second, 0, 0, 0])
        bucket = self.buckets[-1]
        bucket[1] += 1
        bucket[2] += failed
        bucket[3] += slow
        self.calls += 1
        self.failures += failed
        self.slow += slow


class CircuitBreaker:
    """One breaker: CLOSED -> OPEN -> HALF_OPEN -> CLOSED or OPEN, as Resilience4j does it.
    The configuration's numbers a call reads are kept beside it, typed for the build."""

    def __init__(self, config: BreakerConfig) -> None:
        self.config = config
        self.state = CLOSED
        self.generation = 0  # which window a permit belongs to
        self.opened_at = 0.0
        self.half_opened_at = 0.0
        self.half_open_permits = 0
        self.transitions: list[tuple[float, str]] = []
        self._wait_open = config.wait_duration_in_open_state
        self._half_open_calls = config.permitted_number_of_calls_in_half_open_state
        self._automatic = config.automatic_transition_from_open_to_half_open_enabled
        self._wait_half_open = config.max_wait_duration_in_half_open_state
        self._slow_after = config.slow_call_duration_threshold
        self._failure_rate = config.failure_rate_threshold
        self._slow_rate = config.slow_call_rate_threshold
        self._window = self._closed_window()
        self._least = self._minimum()  # calls the window needs before it may trip

    def _closed_window(self) -> Window:
        cfg = self.config
        if cfg.sliding_window_type == "TIME_BASED":
            return TimeWindow(cfg.sliding_window_size)
        return CountWindow(cfg.sliding_window_size)

    def _minimum(self) -> int:
        cfg = self.config
        if self.state == HALF_OPEN:
            return min(cfg.minimum_number_of_calls, self._half_open_calls)
        if cfg.sliding_window_type == "COUNT_BASED":
            return min(cfg.minimum_number_of_calls, cfg.sliding_window_size)
        return cfg.minimum_number_of_calls

    def open_at(self, now: float) -> None:
        """Force the breaker OPEN (Resilience4j's transitionToOpenState): a run that starts
        from a bad state."""
        self._move(now, OPEN)

    def _move(self, now: float, state: str) -> None:
        self.state = state
        self.generation += 1
        self.transitions.append((now, state))
        if state == OPEN:
            self.opened_at = now
        elif state == HALF_OPEN:
            self.half_opened_at = now
            self.half_open_permits = 0
            self._window = CountWindow(self._half_open_calls)
        else:
            self._window = self._closed_window()
        self._least = self._minimum()

    def state_at(self, now: float) -> str:
        """The state at ``now``, applying the transitions that time alone causes."""
        if self.state == OPEN and self._automatic and now >= self.opened_at + self._wait_open:
            self._move(self.opened_at + self._wait_open, HALF_OPEN)
        if (
            self.state == HALF_OPEN
            and self._wait_half_open > 0
            and now >= self.half_opened_at + self._wait_half_open
        ):
            self._move(self.half_opened_at + self._wait_half_open, OPEN)
        return self.state

    def try_acquire(self, now: float) -> int | None:
        """A permit (the window generation) if the call may go out, else None (CallNotPermitted)."""
        state = self.state_at(now)
        if state == OPEN:
            if now < self.opened_at + self._wait_open:
                return None
            self._move(now, HALF_OPEN)  # lazily, at the first call after the wait
            state = HALF_OPEN
        if state == HALF_OPEN:
            if self.half_open_permits >= self._half_open_calls:
                return None
            self.half_open_permits += 1
        return self.generation

    @cython.locals(window=Window, calls=cython.longlong)
    def on_result(self, now: float, permit: int, duration: float, failed: bool) -> None:
        """Record a permitted call's outcome; a slow call lasted longer than the threshold."""
        if permit != self.generation:
            return  # recorded into the old state's window: no effect on the current one
        window = self._window
        window.record(now, failed, duration > self._slow_after)
        if self.state == OPEN:
            return
        window.expire(now)
        calls = window.calls
        if calls < self._least:
            return
        over = (
            100.0 * window.failures / calls >= self._failure_rate
            or 100.0 * window.slow / calls >= self._slow_rate
        )
        if over:
            self._move(now, OPEN)
        elif self.state == HALF_OPEN:
            self._move(now, CLOSED)
