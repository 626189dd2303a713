"""Windowed rate limits (fixed window, sliding log, sliding window counter) against their
documented arithmetic, and the fixed window against its closed form under Poisson load."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import sim
from sim.policies.ratelimit import FixedWindow, SlidingLog, SlidingWindowCounter
from tests.helpers import assert_agrees, exponential


def test_a_fixed_window_resets_at_each_boundary_and_lets_twice_the_limit_across_one():
    limiter = FixedWindow(limit=3, window=1.0)
    assert all(limiter.admit(0.9 + i * 0.01, 1).admitted for i in range(3))
    refused = limiter.admit(0.95, 1)
    assert not refused.admitted
    assert refused.retry_after == pytest.approx(0.05)
    # the next window starts empty: six requests within 0.2 s, across the boundary
    assert all(limiter.admit(1.0 + i * 0.01, 1).admitted for i in range(3))
    assert not limiter.admit(1.5, 1).admitted


def test_the_sliding_window_counter_is_cloudflares_estimate():
    # 42 requests in the previous minute, 18 in this one, 15 s into it: 42 x 45/60 + 18
    limiter = SlidingWindowCounter(limit=100, window=60.0)
    for i in range(42):
        limiter.admit(i, 1)
    for i in range(18):
        limiter.admit(60 + i * 0.5, 1)
    assert limiter.estimate(75.0) == pytest.approx(49.5)


def test_a_refused_request_is_admitted_after_its_retry_after():
    for limiter in (FixedWindow(5, 2.0), SlidingLog(5, 2.0), SlidingWindowCounter(5, 2.0)):
        for i in range(5):
            limiter.admit(1.0 + i * 0.1, 1)
        refused = limiter.admit(1.6, 1)
        assert not refused.admitted
        assert limiter.admit(1.6 + refused.retry_after + 1e-9, 1).admitted, type(limiter)


requests = st.lists(
    st.tuples(st.floats(0, 0.5), st.floats(0.1, 3)), min_size=1, max_size=300
)  # (gap to the previous request, cost)


@settings(max_examples=200, deadline=None)
@given(requests, st.floats(1, 20), st.floats(0.1, 5))
def test_a_sliding_log_never_admits_more_than_its_limit_in_any_window(gaps, limit, window):
    limiter, now, admitted = SlidingLog(limit, window), 0.0, []
    for gap, cost in gaps:
        now += gap
        if limiter.admit(now, cost).admitted:
            admitted.append((now, cost))
    for end, _ in admitted:  # the window (end - window, end] of every admitted request
        inside = sum(cost for at, cost in admitted if end - window < at <= end)
        assert inside <= limit + 1e-6


@settings(max_examples=200, deadline=None)
@given(requests, st.floats(1, 20), st.floats(0.1, 5))
def test_a_fixed_window_never_admits_more_than_its_limit_in_one_window(gaps, limit, window):
    limiter, now, used = FixedWindow(limit, window), 0.0, {}
    for gap, cost in gaps:
        now += gap
        if limiter.admit(now, cost).admitted:
            key = math.floor(now / window)
            used[key] = used.get(key, 0.0) + cost
    assert max(used.values(), default=0.0) <= limit + 1e-6


@pytest.mark.parametrize("kind", ["fixed_window", "sliding_log", "sliding_window"])
def test_429s_appear_below_the_nominal_limit_and_agree_with_poisson(kind):
    # 600 per minute enforced per second, at 80 % of it: N ~ Poisson(8) per window. The
    # fixed window refuses E[(N - 10)+] / 8 exactly; the sliding ones, which also count
    # the last second's tail, refuse at least as many.
    rate, limit = 8.0, 10
    model = sim.from_dict(
        {
            "horizon": 1000,
            "warmup": 0,
            "replications": 10,
            "seed": 3,
            "workload": {"arrivals": {"process": "poisson", "rate": rate}},
            "services": {
                "api": {
                    "workers": 50,
                    "work": exponential(0.01),
                    "rate_limit": {"kind": kind, "limit": limit, "window": 1},
                }
            },
        }
    )
    results = sim.run(model, executor="inline")
    counts = np.arange(200)
    refused = float((np.maximum(counts - limit, 0) * stats.poisson.pmf(counts, rate)).sum())
    if kind == "fixed_window":
        assert_agrees(results, "rejected_rate_limited", refused / rate)
    else:
        assert results.get("rejected_rate_limited", "api") > refused / rate


def test_every_kind_of_rate_limit_is_drawn_as_its_sustained_rate():
    from sim.plots import timeseries_figure

    for kind, line in (("fixed_window", 10.0), ("sliding_log", 10.0), ("sliding_window", 10.0)):
        limit = {"kind": kind, "limit": 20, "window": 2}
        model = sim.from_dict(
            {
                "horizon": 30,
                "replications": 2,
                "workload": {"arrivals": {"process": "poisson", "rate": 12}},
                "services": {"api": {"workers": 5, "work": exponential(0.05), "rate_limit": limit}},
            }
        )
        figure = timeseries_figure(sim.run(model, executor="inline"))
        lines = [
            ln for ax in figure.axes for ln in ax.get_lines() if ln.get_label() == "rate limit"
        ]
        assert [ln.get_ydata()[0] for ln in lines] == [line]


# --- reconciling a reservation: refund(now, admitted, units) -----------------------------


def test_a_refund_goes_back_to_the_window_the_charge_was_counted_in():
    from sim.policies.ratelimit import TokenBucket

    bucket = TokenBucket(max_tokens=1000, tokens_per_fill=100, fill_interval=1.0)
    assert bucket.admit(0.0, 800).admitted and not bucket.admit(0.0, 800).admitted
    bucket.refund(0.5, 0.0, 700)  # 200 left + 50 refilled + 700 given back
    assert bucket.tokens == pytest.approx(950)
    bucket.refund(0.5, 0.0, 700)
    assert bucket.tokens == 1000  # never above its size

    fixed = FixedWindow(limit=1000, window=60.0)
    assert fixed.admit(10.0, 800).admitted and not fixed.admit(20.0, 800).admitted
    fixed.refund(30.0, 10.0, 600)
    assert fixed.admit(30.0, 800).admitted  # 200 + 800 fit again
    assert fixed.admit(61.0, 900).admitted  # a new window
    fixed.refund(62.0, 30.0, 800)  # the charge's window has closed: nothing to give back
    assert fixed.used == 900

    log = SlidingLog(limit=1000, window=60.0)
    assert log.admit(1.0, 600).admitted and log.admit(2.0, 400).admitted
    log.refund(3.0, 1.0, 500)
    assert log.used == pytest.approx(500) and log.admit(4.0, 500).admitted
    log.refund(61.5, 1.0, 100)  # aged out of the log already: nothing to give back
    assert log.used == pytest.approx(900)
    log.refund(61.5, 2.0, 300)  # still in (1.5, 61.5]: the 2.0 entry now counts 100
    assert log.admit(61.5, 400).admitted and not log.admit(61.5, 1).admitted

    counter = SlidingWindowCounter(limit=1000, window=60.0)
    assert counter.admit(50.0, 900).admitted
    counter.refund(65.0, 50.0, 600)  # now counted in the previous window
    assert counter.previous == pytest.approx(300)
    counter.refund(66.0, 65.5, 10)  # a charge of this window: nothing charged, nothing below 0
    assert counter.used == 0.0
