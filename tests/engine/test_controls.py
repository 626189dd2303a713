"""Overload controls in simulation: limits, breakers, retries, queue management."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import sim
from sim import analytic
from tests.helpers import assert_agrees, constant, exponential, graph, one


def test_token_bucket_admits_constant_arrivals_at_its_rate():
    model = one(
        {
            "workers": 100,
            "work": constant(0.001),
            "rate_limit": {
                "kind": "token_bucket",
                "max_tokens": 20,
                "tokens_per_fill": 5,
                "fill_interval": "100ms",
            },
        },
        rate=80.0,
        process="constant",
        horizon=300,
        warmup=20,
        replications=2,
    )
    res = sim.run(model)
    assert res.get("throughput", "api") == pytest.approx(50.0, rel=0.01)
    assert res.get("rejected_rate_limited", "api") == pytest.approx(30 / 80, abs=0.01)


def _nginx_limited(rate: float) -> sim.Model:
    """Constant arrivals at ``rate`` through limit_req rate=10 burst=5 delay=2."""
    return one(
        {
            "workers": 100,
            "work": constant(0.001),
            "rate_limit": {"kind": "limit_req", "rate": 10, "burst": 5, "delay": 2},
        },
        rate=rate,
        process="constant",
        horizon=100,
        warmup=10,
        replications=1,
    )


def test_limit_req_delays_within_the_burst():
    res = sim.run(_nginx_limited(10.0))
    assert res.get("rejection_rate", "api") == 0
    # at exactly the rate, the excess stays at 1: no delay at all
    assert res.get("latency_p999", "api") == pytest.approx(0.001)
    res = sim.run(_nginx_limited(20.0))
    assert res.get("throughput", "api") == pytest.approx(10.0, rel=0.02)
    # held requests wait up to (burst - delay) / rate = 0.3 s
    assert res.get("latency_p999", "api") == pytest.approx(0.301, abs=0.002)


def test_per_client_limits_stop_the_heavy_hitter_only():
    model = one(
        {
            "workers": 200,
            "work": constant(0.001),
            "rate_limit": {"kind": "token_bucket", "rate": 20, "burst": 20, "per_client": True},
        },
        rate=200.0,
        horizon=200,
        replications=2,
        workload={"clients": {"count": 100, "zipf_exponent": 1.5}},
    )
    res = sim.run(model)
    # client 1 sends 1/zeta-ish ~ 40 % of 200/s: far above 20/s; the tail sends far less
    assert 0.1 < res.get("rejected_rate_limited", "api") < 0.5
    shares = np.arange(1, 101, dtype=float) ** -1.5
    shares /= shares.sum()
    expected = sum(max(0.0, s * 200 - 20) for s in shares) / 200
    assert res.get("rejected_rate_limited", "api") == pytest.approx(expected, abs=0.02)


def test_token_costs_limit_tokens_not_requests():
    model = one(
        {
            "workers": 200,
            "work": constant(0.001),
            "rate_limit": {
                "kind": "token_bucket",
                "rate": 1000,
                "burst": 2000,
                "cost": {"distribution": "constant", "value": 100},
            },
        },
        rate=20.0,
        process="constant",
        horizon=300,
        warmup=50,
        replications=1,
    )
    res = sim.run(model)
    assert res.get("throughput", "api") == pytest.approx(10.0, rel=0.02)  # 1000 tokens/s / 100


def test_static_concurrency_limit_rejects_over_the_limit():
    model = one(
        {
            "workers": 50,
            "queue": 100,
            "work": exponential(0.1),
            "concurrency_limit": {"kind": "static", "max_concurrency": 5},
        },
        rate=60.0,
        horizon=400,
        replications=3,
    )
    res = sim.run(model)
    # at most 5 in progress: an M/M/5/5 loss system, Erlang B
    assert_agrees(res, "rejected_concurrency_limited", analytic.erlang_b(5, 6.0))
    assert res.get("queue_depth_max", "api") == 0


def test_aimd_limit_moves_and_is_reported_over_time():
    model = one(
        {
            "workers": 400,
            "queue": 0,
            "work": exponential(0.05),
            "concurrency_limit": {
                "kind": "aimd",
                "initial_limit": 30,
                "min_limit": 5,
                "max_limit": 100,
                "timeout": "60ms",
            },
        },
        rate=150.0,
        horizon=200,
        replications=1,
    )
    res = sim.run(model)
    ts = res.timeseries[res.timeseries.service == "api"]
    assert ts.concurrency_limit.max() > ts.concurrency_limit.min()
    # slow samples (30 % over 60 ms) pull it down to where growth balances: about 16
    assert 5 <= res.get("concurrency_limit_mean", "api") <= 25
    assert res.get("rejected_concurrency_limited", "api") > 0


@pytest.mark.slow
def test_queue_timeout_with_exponential_patience_is_erlang_a():
    lam, mean, c, patience = 12.0, 1.0, 10, 2.0
    model = one(
        {
            "workers": c,
            "queue": "unbounded",
            "work": exponential(mean),
            "queue_timeout": {"distribution": "exponential", "mean": patience},
        },
        rate=lam,
        horizon=3000,
        warmup=200,
        replications=8,
    )
    res = sim.run(model)
    theory = analytic.erlang_a(lam, mean, c, patience)
    assert_agrees(res, "rejected_queue_timeout", theory.rejection)
    assert_agrees(res, "throughput", theory.throughput)


def test_lifo_and_priority_order_the_queue():
    base = {"workers": 1, "queue": 50, "work": exponential(0.1)}
    fifo = sim.run(one(base, rate=9.0, horizon=1000, replications=3))
    lifo = sim.run(one({**base, "discipline": "lifo"}, rate=9.0, horizon=1000, replications=3))
    # same mean (work-conserving), but LIFO's median is lower and its tail longer
    assert lifo.get("latency_p50", "api") < 0.6 * fifo.get("latency_p50", "api")
    assert lifo.get("latency_p999", "api") > fifo.get("latency_p999", "api")
    prio = sim.run(
        one(
            base,
            rate=11.0,
            horizon=600,
            replications=3,
            workload={
                "classes": [
                    {"name": "bulk", "weight": 1},
                    {"name": "vip", "weight": 1, "priority": 1},
                ]
            },
        )
    )
    by = prio.by_class.set_index(["service", "class", "metric"])["mean"]
    assert by[("api", "vip", "latency_mean")] < 0.3 * by[("api", "bulk", "latency_mean")]
    assert by[("api", "vip", "rejected_queue_full")] < 0.01  # shed last
    assert by[("api", "bulk", "rejected_queue_full")] > 0.1


def test_codel_sheds_a_standing_queue():
    base = {"workers": 2, "queue": 200, "work": exponential(0.1)}
    plain = sim.run(one(base, rate=25.0, horizon=300, replications=2))
    codel = sim.run(
        one(
            {**base, "codel": {"target": "20ms", "interval": "100ms"}},
            rate=25.0,
            horizon=300,
            replications=2,
        )
    )
    assert codel.get("rejected_codel", "api") > 0.1
    assert codel.get("latency_p99", "api") < plain.get("latency_p99", "api") / 3


def test_circuit_breaker_opens_on_a_failing_dependency_and_closes_after():
    model = graph(
        {
            "api": {
                "workers": 50,
                "work": constant(0.001),
                "calls": [
                    {
                        "to": "dep",
                        "circuit_breaker": {
                            "sliding_window_size": 10,
                            "minimum_number_of_calls": 10,
                            "wait_duration_in_open_state": "5s",
                            "permitted_number_of_calls_in_half_open_state": 3,
                        },
                    }
                ],
            },
            "dep": {
                "workers": 50,
                "work": constant(0.01),
                "incidents": [{"start": 100, "end": 150, "down": "fail_fast"}],
            },
        },
        rate=20.0,
        horizon=300,
        warmup=0,
        replications=1,
        timeseries_bin=5,
    )
    res = sim.run(model)
    ts = res.timeseries[res.timeseries.service == "api->dep"].set_index("time").breaker_open
    assert ts[ts.index < 100].max() == 0
    assert ts[(ts.index >= 105) & (ts.index < 145)].min() > 0.5
    assert ts[ts.index >= 160].max() == 0  # closed again once the dependency is back
    assert res.get("call_circuit_open_rate", "api->dep") > 0.1
    assert res.get("rejected_circuit_open") > 0.1  # end to end, the root cause


def test_retries_amplify_and_the_budget_caps_them():
    flaky = {
        "workers": 200,
        "work": constant(0.01),
        "incidents": [{"start": 0, "end": 10000, "error_rate": 0.5}],
    }
    retry = {"max_attempts": 4, "base": "10ms", "cap": "10ms", "jitter": "none"}
    res = sim.run(
        graph({"api": flaky}, rate=20.0, horizon=200, replications=2, workload={"retries": retry})
    )
    # attempts per request: 1 + 0.5 + 0.25 + 0.125
    assert res.get("attempts_per_request") == pytest.approx(1.875, rel=0.03)
    assert res.get("success_rate") == pytest.approx(1 - 0.5**4, abs=0.01)
    budgeted = sim.run(
        graph(
            {"api": flaky},
            rate=20.0,
            horizon=200,
            replications=2,
            workload={
                "retries": {**retry, "budget": {"budget_percent": 10, "min_retry_concurrency": 0}}
            },
        )
    )
    assert budgeted.get("attempts_per_request") < 1.2


def test_retry_after_is_honoured():
    limited = {
        "workers": 50,
        "work": constant(0.001),
        "rate_limit": {"kind": "token_bucket", "rate": 5, "burst": 1},
    }
    retry = {"max_attempts": 2, "base": "1ms", "cap": "1ms", "jitter": "none"}
    # Poisson arrivals under the bucket's rate: refusals come from bunching, and a retry
    # that waits as Retry-After says finds a token; one that does not, does not.
    blind = sim.run(
        graph({"api": limited}, rate=4.0, horizon=400, replications=2, workload={"retries": retry})
    )
    polite = sim.run(
        graph(
            {"api": limited},
            rate=4.0,
            horizon=400,
            replications=2,
            workload={"retries": {**retry, "respect_retry_after": True}},
        )
    )
    assert polite.get("success_rate") > blind.get("success_rate") + 0.1


def test_hedging_cuts_the_tail():
    slow_tail = {
        "workers": 500,
        "work": {
            "distribution": "mixture",
            "components": [
                {"weight": 95, "distribution": "constant", "value": 0.01},
                {"weight": 5, "distribution": "constant", "value": 1.0},
            ],
        },
    }
    plain = sim.run(graph({"api": slow_tail}, rate=20.0, horizon=300, replications=2))
    hedged = sim.run(
        graph(
            {"api": slow_tail},
            rate=20.0,
            horizon=300,
            replications=2,
            workload={"retries": {"max_attempts": 2, "hedging_delay": "50ms"}},
        )
    )
    assert plain.get("latency_p99") == pytest.approx(1.0)
    assert hedged.get("latency_p99") == pytest.approx(0.06, abs=0.001)
    assert 1.0 < hedged.get("attempts_per_request") < 1.1


def test_client_timeouts_and_goodput():
    model = graph(
        {"api": {"workers": 1, "queue": 100, "work": exponential(0.1)}},
        rate=12.0,
        horizon=300,
        replications=2,
        workload={"timeout": "500ms"},
    )
    res = sim.run(model)
    assert res.get("timeout_rate") > 0.3
    assert res.get("goodput", "api") < 0.8 * res.get("throughput", "api")
    assert res.get("wasted_work", "api") > 0.2


def test_control_errors_name_the_field():
    def lines(service: dict[str, Any], **workload: Any) -> list[str]:
        with pytest.raises(sim.ModelError) as info:
            one({"work": constant(0.1), **service}, rate=1.0, workload=workload)
        return info.value.lines

    assert lines({"rate_limit": {"kind": "token_bucket"}}) == [
        "services.api.rate_limit: give max_tokens and fill_interval (Envoy), or rate and burst"
    ]
    assert lines({"rate_limit": {"kind": "leaky"}})[0].startswith(
        "services.api.rate_limit: 'kind' must be one of: token_bucket, limit_req"
    )
    assert lines({"concurrency_limit": {"kind": "aimd", "backoff_ratio": 1.5}}) == [
        "services.api.concurrency_limit.backoff_ratio: must be < 1"
    ]
    assert lines({"discipline": "random"})[0].startswith("services.api.discipline: must be one of")
    assert lines({}, retries={"jitter": "some"})[0].startswith(
        "workload.retries.jitter: must be one of"
    )
    assert lines({}, retries={"retry_on": ["ok"]})[0].startswith(
        "workload.retries.retry_on.0: must be one of"
    )
    assert lines({}, users=5) == [
        "workload: give arrivals (open loop) or users and think_time (closed loop)"
    ]


def test_adaptive_lifo_is_fifo_until_a_queue_stands():
    base = {"workers": 2, "queue": 100, "work": exponential(0.1)}
    light_fifo = sim.run(one(base, rate=5.0, horizon=300, replications=2))
    light_adaptive = sim.run(
        one({**base, "discipline": "adaptive_lifo"}, rate=5.0, horizon=300, replications=2)
    )
    # rarely standing at 25 % load: nearly the same requests are served in the same order
    assert light_adaptive.get("latency_p50", "api") == pytest.approx(
        light_fifo.get("latency_p50", "api"), rel=0.02
    )
    heavy_fifo = sim.run(one(base, rate=19.0, horizon=600, replications=2))
    heavy_adaptive = sim.run(
        one({**base, "discipline": "adaptive_lifo"}, rate=19.0, horizon=600, replications=2)
    )
    # a standing queue flips it to newest-first: most requests skip the line
    assert heavy_adaptive.get("latency_p50", "api") < 0.6 * heavy_fifo.get("latency_p50", "api")
