"""Overload-control policies against the real systems' documented behaviour (knobs.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.controls import AIMDConcurrency, CircuitBreakerSpec, Gradient2Concurrency
from sim.policies.circuit_breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    CircuitBreaker,
)
from sim.policies.codel import Codel
from sim.policies.concurrency import StaticLimit
from sim.policies.ratelimit import LimitReq, TokenBucket
from sim.policies.retry import Backoff, RetryBudget, RetryThrottle, exponential

# --- token bucket --------------------------------------------------------------------------


def test_token_bucket_starts_full_and_refills_continuously():
    bucket = TokenBucket(max_tokens=3, tokens_per_fill=1, fill_interval=0.5)  # 2 tokens/s
    assert [bucket.try_take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.retry_after(0.0) == pytest.approx(0.5)
    assert not bucket.try_take(0.49)
    assert bucket.try_take(0.5)
    assert bucket.try_take(10.0) and bucket.try_take(10.0) and bucket.try_take(10.0)
    assert not bucket.try_take(10.0)  # never more than max_tokens


def test_token_bucket_costs():
    bucket = TokenBucket(max_tokens=100, tokens_per_fill=10, fill_interval=1)
    assert bucket.try_take(0, cost=60) and not bucket.try_take(0, cost=60)
    assert bucket.try_take(2.0, cost=60)  # 40 + 20 refilled


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0.5, 50),
    st.floats(1, 50),
    st.lists(st.floats(0, 0.5), min_size=1, max_size=200),
    st.floats(0.01, 5),
)
def test_token_bucket_never_admits_more_than_burst_plus_rate_times_t(rate, burst, gaps, t):
    bucket = TokenBucket(max_tokens=burst, tokens_per_fill=rate, fill_interval=1)
    times = np.cumsum(gaps)
    admitted = [now for now in times if bucket.try_take(float(now))]
    admitted = np.asarray(admitted)
    for start in admitted:
        in_window = np.sum((admitted >= start) & (admitted < start + t))
        assert in_window <= burst + rate * t + 1e-9


# --- nginx limit_req -----------------------------------------------------------------------


def test_limit_req_excess_arithmetic():
    limiter = LimitReq(rate=10, burst=2, delay=1)  # 10 r/s
    first = limiter.decide(0.0)
    assert first.admitted and first.delay == 0 and limiter.excess == 0  # a new key
    second = limiter.decide(0.0)
    assert second.admitted and second.delay == 0  # excess 1 <= delay 1
    third = limiter.decide(0.0)
    assert third.admitted and third.delay == pytest.approx(0.1)  # excess 2: (2-1)/10
    fourth = limiter.decide(0.0)
    assert not fourth.admitted  # excess 3 > burst 2: rejected, state unchanged
    assert limiter.excess == 2
    later = limiter.decide(0.15)  # excess = 2 - 1.5 + 1 = 1.5
    assert later.admitted and later.delay == pytest.approx(0.05)


def test_limit_req_nodelay_and_no_burst():
    nodelay = LimitReq(rate=1, burst=5, delay=math.inf)
    assert all(nodelay.decide(0.0).delay == 0 for _ in range(6))
    strict = LimitReq(rate=2, burst=0, delay=0)
    assert strict.decide(0.0).admitted and not strict.decide(0.1).admitted
    assert strict.decide(0.5).admitted


# --- Resilience4j circuit breaker ----------------------------------------------------------


def breaker(**kw) -> CircuitBreaker:
    defaults = dict(
        sliding_window_size=4,
        minimum_number_of_calls=4,
        wait_duration_in_open_state=10,
        permitted_number_of_calls_in_half_open_state=2,
    )
    return CircuitBreakerSpec(**{**defaults, **kw}).build()  # the schema holds the defaults


def call(cb: CircuitBreaker, now: float, failed: bool, duration: float = 0.01) -> bool:
    permit = cb.try_acquire(now)
    if permit is None:
        return False
    cb.on_result(now + duration, permit, duration, failed)
    return True


def test_breaker_opens_at_the_threshold_only_after_the_minimum():
    cb = breaker()
    for failed in (True, True, False):
        assert call(cb, 0, failed)
    assert cb.state == CLOSED  # 3 calls < minimum 4
    assert call(cb, 0, False)
    assert cb.state == OPEN  # 2 of 4 = 50 % >= 50 %


def test_breaker_stays_closed_below_the_threshold():
    cb = breaker()
    for failed in (True, False, False, False, True, False, False, False):
        call(cb, 0, failed)
    assert cb.state == CLOSED  # never more than 1 of the last 4


def test_minimum_is_capped_by_a_count_window():
    cb = breaker(sliding_window_size=2, minimum_number_of_calls=100)
    call(cb, 0, True)
    call(cb, 0, True)
    assert cb.state == OPEN


def test_open_rejects_then_half_opens_lazily_at_the_first_call_after_the_wait():
    cb = breaker()
    for _ in range(4):
        call(cb, 0, True)
    assert cb.try_acquire(9.99) is None
    assert cb.state_at(50) == OPEN  # no automatic transition: nothing happens by itself
    assert cb.try_acquire(50) is not None
    assert cb.state == HALF_OPEN
    assert cb.transitions[-1] == (50, HALF_OPEN)


def test_automatic_transition_happens_at_the_end_of_the_wait():
    cb = breaker(automatic_transition_from_open_to_half_open_enabled=True)
    for _ in range(4):
        call(cb, 1, True)
    assert cb.state_at(11.02) == HALF_OPEN
    assert cb.transitions[-1] == (pytest.approx(11.01), HALF_OPEN)


def test_half_open_permits_and_verdict():
    cb = breaker()
    for _ in range(4):
        call(cb, 0, True)
    first, second = cb.try_acquire(20), cb.try_acquire(20)
    assert first is not None and second is not None
    assert cb.try_acquire(20) is None  # only 2 permitted
    cb.on_result(20.1, first, 0.1, False)
    assert cb.state == HALF_OPEN  # 1 outcome < min(4, 2)
    cb.on_result(20.1, second, 0.1, False)
    assert cb.state == CLOSED


def test_half_open_failures_reopen():
    cb = breaker()
    for _ in range(4):
        call(cb, 0, True)
    a, b = cb.try_acquire(20), cb.try_acquire(20)
    cb.on_result(20.1, a, 0.1, True)
    cb.on_result(20.1, b, 0.1, False)  # 50 % >= 50 %
    assert cb.state == OPEN and cb.opened_at == 20.1


def test_slow_calls_count_strictly_above_the_threshold():
    cb = breaker(
        slow_call_duration_threshold=1.0, slow_call_rate_threshold=50, failure_rate_threshold=100
    )
    for duration in (1.0, 1.0, 1.0, 1.0):
        call(cb, 0, False, duration)
    assert cb.state == CLOSED  # exactly at the threshold is not slow
    for duration in (1.01, 1.01):
        call(cb, 0, False, duration)
    assert cb.state == OPEN  # 2 of the last 4 slow


def test_calls_in_flight_across_a_transition_do_not_count_in_the_new_window():
    cb = breaker()
    stale = cb.try_acquire(0)
    for _ in range(4):
        call(cb, 0, True)
    assert cb.state == OPEN
    permit = cb.try_acquire(20)  # half-open
    cb.on_result(20.5, stale, 20.5, False)  # the old call finishes now
    assert cb.state == HALF_OPEN and cb.half_open_permits == 1
    cb.on_result(20.5, permit, 0.5, False)
    assert cb.state == HALF_OPEN  # 1 outcome in the half-open window, not 2


def test_time_based_window_forgets_old_seconds():
    cb = breaker(sliding_window_type="TIME_BASED", sliding_window_size=2, minimum_number_of_calls=3)
    call(cb, 0.1, True)
    call(cb, 0.2, True)
    call(cb, 2.5, False)  # second 0 has left the 2-second window
    assert cb.state == CLOSED
    call(cb, 2.6, True)
    call(cb, 2.7, True)
    assert cb.state == OPEN  # 2 of 3 in seconds 1-2


def test_max_wait_in_half_open_reopens():
    cb = breaker(max_wait_duration_in_half_open_state=5)
    for _ in range(4):
        call(cb, 0, True)
    cb.try_acquire(20)
    assert cb.state_at(25) == OPEN


# --- backoff, budgets, throttling ----------------------------------------------------------


def test_exponential_is_capped():
    assert [exponential(n, 0.1, 1.0) for n in range(6)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    )


@pytest.mark.parametrize("jitter", ["none", "full", "equal", "decorrelated"])
def test_jitter_ranges_and_means(jitter):
    rng = np.random.default_rng(7)
    backoff = Backoff(base=0.1, cap=2.0, jitter=jitter, multiplier=2.0)
    n = 20_000
    for retry in (0, 3, 10):
        expo = exponential(retry, 0.1, 2.0)
        prev = 0.3
        draws = np.array([backoff.sleep(retry, prev, rng.random) for _ in range(n)])
        if jitter == "none":
            assert (draws == expo).all()
        elif jitter == "full":
            assert draws.min() >= 0 and draws.max() <= expo
            assert draws.mean() == pytest.approx(expo / 2, rel=0.03)
        elif jitter == "equal":
            assert draws.min() >= expo / 2 and draws.max() <= expo
            assert draws.mean() == pytest.approx(0.75 * expo, rel=0.03)
        else:
            assert draws.min() >= 0.1 and draws.max() <= 0.9
            assert draws.mean() == pytest.approx((0.1 + 0.9) / 2, rel=0.03)


def test_decorrelated_is_capped():
    backoff = Backoff(base=1.0, cap=5.0, jitter="decorrelated", multiplier=2.0)
    assert backoff.sleep(0, 4.0, lambda: 1.0) == 5.0
    assert backoff.sleep(0, 0.0, lambda: 0.0) == 1.0


def test_envoy_retry_budget():
    budget = RetryBudget(budget_percent=20, min_retry_concurrency=3)
    budget.active_retries = 2
    assert budget.allows(active_requests=0)  # the floor of 3
    budget.active_retries = 3
    assert not budget.allows(active_requests=10)  # max(2, 3) = 3
    assert budget.allows(active_requests=20)  # max(4, 3) = 4


def test_grpc_retry_throttling():
    throttle = RetryThrottle(max_tokens=10, token_ratio=0.5)
    for _ in range(5):
        throttle.on_result(failed=True)
    # not strictly above half
    assert throttle.tokens == 5 and not throttle.allows(active_requests=0)
    throttle.on_result(failed=False)
    assert throttle.allows(active_requests=0)
    for _ in range(100):
        throttle.on_result(failed=False)
    assert throttle.tokens == 10


# --- concurrency limits --------------------------------------------------------------------


def test_aimd_rules():
    limit = AIMDConcurrency(initial_limit=30, min_limit=20, max_limit=200, timeout=1.0).build()
    assert limit.on_sample(0.1, inflight=15, dropped=False) == 31  # 15*2 >= 30
    assert limit.on_sample(0.1, inflight=10, dropped=False) == 31  # app-limited: no growth
    assert limit.on_sample(0.1, inflight=10, dropped=True) == 27  # floor(31 * 0.9)
    assert limit.on_sample(2.0, inflight=10, dropped=False) == 24  # rtt > timeout
    for _ in range(10):
        limit.on_sample(2.0, 0, False)
    assert limit.limit == 20  # clamped


def test_gradient2_update():
    limit = Gradient2Concurrency(
        initial_limit=50, min_limit=1, max_limit=200, long_window=600
    ).build()
    # steady rtt: gradient = clamp(1.5 * 1, .5, 1) = 1 -> new = 50 + 4; L = 0.8*50 + 0.2*54
    assert limit.on_sample(0.1, 40, False) == pytest.approx(50.8)
    # rtt doubles: long_rtt moves by 2/601 of the gap, gradient = 1.5 * long / short
    long_rtt = 0.1 * (1 - 2 / 601) + 0.2 * 2 / 601
    gradient = max(0.5, min(1.0, 1.5 * long_rtt / 0.2))
    expected = 0.8 * 50.8 + 0.2 * (50.8 * gradient + 4)
    assert limit.on_sample(0.2, 40, False) == pytest.approx(expected)
    assert StaticLimit(7).on_sample(1, 1, True) == 7


# --- CoDel ---------------------------------------------------------------------------------


def test_codel_drops_only_after_a_standing_interval_and_only_long_waits():
    codel = Codel(target=0.005, interval=0.1)
    assert not codel.on_dequeue(0.0, 0.050)  # starts an interval
    assert not codel.on_dequeue(0.05, 0.020)  # not overloaded yet
    assert not codel.on_dequeue(0.11, 0.030)  # interval over: min 20 ms > 5 ms -> overloaded
    assert codel.overloaded
    assert codel.on_dequeue(0.12, 0.011)  # waited > 2 x target: dropped
    assert not codel.on_dequeue(0.13, 0.009)  # short wait passes
    assert not codel.on_dequeue(0.25, 0.001)  # new interval; min was 9 ms -> still overloaded
    assert codel.overloaded
    assert not codel.on_dequeue(0.3, 0.001)
    assert not codel.on_dequeue(0.36, 0.050)  # interval (min 1 ms) -> not overloaded
    assert not codel.overloaded
