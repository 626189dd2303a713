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


class CountWindow:
    """The last ``size`` outcomes, with running totals (a breaker asks for them on every
    call; summing the window each time cost a tenth of a graph's CPU)."""

    def __init__(self, size: int) -> None:
        self.outcomes: deque[tuple[bool, bool]] = deque(maxlen=size)
        self.failures = 0
        self.slow = 0

    def record(self, now: float, failed: bool, slow: bool) -> None:
        """Add one outcome, dropping the oldest once the window is full."""
        if len(self.outcomes) == self.outcomes.maxlen:
            old_failed, old_slow = self.outcomes[0]
            self.failures -= old_failed
            self.slow -= old_slow
        self.outcomes.append((failed, slow))
        self.failures += failed
        self.slow += slow

    def totals(self, now: float) -> tuple[int, int, int]:
        """(calls, failures, slow calls) in the window."""
        return len(self.outcomes), self.failures, self.slow


class TimeWindow:
    """Outcomes of the last ``size`` whole seconds, in one-second buckets, with running
    totals."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.buckets: deque[list[int]] = deque()  # [second, calls, failures, slow]
        self.sums = [0, 0, 0]  # calls, failures, slow over the buckets kept

    def _expire(self, now: float) -> None:
        oldest = int(now // 1) - self.size + 1
        while self.buckets and self.buckets[0][0] < oldest:
            _, calls, failures, slow = self.buckets.popleft()
            self.sums[0] -= calls
            self.sums[1] -= failures
            self.sums[2] -= slow

    def record(self, now: float, failed: bool, slow: bool) -> None:
        """Add one outcome to the current second's bucket."""
        self._expire(now)
        second = int(now // 1)
        if not self.buckets or self.buckets[-1][0] != second:
            self.buckets.append([second, 0, 0, 0])
        bucket = self.buckets[-1]
        bucket[1] += 1
        bucket[2] += failed
        bucket[3] += slow
        self.sums[0] += 1
        self.sums[1] += failed
        self.sums[2] += slow

    def totals(self, now: float) -> tuple[int, int, int]:
        """(calls, failures, slow calls) in the buckets still inside the window."""
        self._expire(now)
        return self.sums[0], self.sums[1], self.sums[2]


class CircuitBreaker:
    """One breaker: CLOSED -> OPEN -> HALF_OPEN -> CLOSED or OPEN, as Resilience4j does it."""

    def __init__(self, config: BreakerConfig) -> None:
        self.config = config
        self.state = CLOSED
        self.generation = 0  # which window a permit belongs to
        self.opened_at = 0.0
        self.half_opened_at = 0.0
        self.half_open_permits = 0
        self.transitions: list[tuple[float, str]] = []
        self._window = self._closed_window()

    def _closed_window(self) -> CountWindow | TimeWindow:
        cfg = self.config
        if cfg.sliding_window_type == "TIME_BASED":
            return TimeWindow(cfg.sliding_window_size)
        return CountWindow(cfg.sliding_window_size)

    def _minimum(self) -> int:
        cfg = self.config
        if self.state == HALF_OPEN:
            return min(
                cfg.minimum_number_of_calls, cfg.permitted_number_of_calls_in_half_open_state
            )
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
            self._window = CountWindow(self.config.permitted_number_of_calls_in_half_open_state)
        else:
            self._window = self._closed_window()

    def state_at(self, now: float) -> str:
        """The state at ``now``, applying the transitions that time alone causes."""
        cfg = self.config
        if (
            self.state == OPEN
            and cfg.automatic_transition_from_open_to_half_open_enabled
            and now >= self.opened_at + cfg.wait_duration_in_open_state
        ):
            self._move(self.opened_at + cfg.wait_duration_in_open_state, HALF_OPEN)
        if (
            self.state == HALF_OPEN
            and cfg.max_wait_duration_in_half_open_state > 0
            and now >= self.half_opened_at + cfg.max_wait_duration_in_half_open_state
        ):
            self._move(self.half_opened_at + cfg.max_wait_duration_in_half_open_state, OPEN)
        return self.state

    def try_acquire(self, now: float) -> int | None:
        """A permit (the window generation) if the call may go out, else None (CallNotPermitted)."""
        state = self.state_at(now)
        if state == OPEN:
            if now < self.opened_at + self.config.wait_duration_in_open_state:
                return None
            self._move(now, HALF_OPEN)  # lazily, at the first call after the wait
            state = HALF_OPEN
        if state == HALF_OPEN:
            if self.half_open_permits >= self.config.permitted_number_of_calls_in_half_open_state:
                return None
            self.half_open_permits += 1
        return self.generation

    def on_result(self, now: float, permit: int, duration: float, failed: bool) -> None:
        """Record a permitted call's outcome; a slow call lasted longer than the threshold."""
        if permit != self.generation:
            return  # recorded into the old state's window: no effect on the current one
        slow = duration > self.config.slow_call_duration_threshold
        self._window.record(now, failed, slow)
        if self.state == OPEN:
            return
        calls, failures, slow_calls = self._window.totals(now)
        if calls < self._minimum():
            return
        cfg = self.config
        over = (
            100.0 * failures / calls >= cfg.failure_rate_threshold
            or 100.0 * slow_calls / calls >= cfg.slow_call_rate_threshold
        )
        if over:
            self._move(now, OPEN)
        elif self.state == HALF_OPEN:
            self._move(now, CLOSED)
