"""The five newer stories: each model's headline claim, and the verdict its header gives.

Each test runs the model (shortened where the story allows), then the fix its header
names, and checks the numbers the header quotes and the SLO verdicts either way. That the
shipped models get the verdicts their headers give is tests/studies/test_check.py's job.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.studies.check import judge
from sim.studies.verdict import Verdict

MODELS = Path(__file__).resolve().parents[2] / "models"
pytestmark = pytest.mark.slow


SHORT = {
    "misconfigured_pool": {"horizon": 300, "replications": 3},
    "thundering_herd": {"replications": 2},
    "connection_pool_starvation": {"horizon": 300, "replications": 3},
    "cascading_failure": {"horizon": 540, "replications": 2},
    "ai_gateway": {"replications": 3},
}


def run(name: str, **overrides: object) -> tuple[sim.Model, sim.Results]:
    model = sim.load(MODELS / f"{name}.yaml", {**SHORT[name], **overrides})
    return model, sim.run(model, progress=False)


def verdict(model: sim.Model, results: sim.Results) -> Verdict:
    return Verdict.combine(r.verdict for r in judge(results, model.slo))


def test_misconfigured_pool_refuses_at_modest_load_and_configuration_fixes_it():
    model, res = run("misconfigured_pool")
    assert 0.03 < res.get("rejected_queue_full", "api") < 0.07
    assert res.get("cpu_utilization", "api") < 0.1 and res.get("utilization", "db") < 0.1
    # the threads, not the machine, are the bound: M/M/c/K with c=4 and K=6 at ~43 ms a
    # request predicts 5.7 %; service times less variable than exponential block a bit less
    predicted = sim.analytic.mmck(60, 0.0431, 4, 6).rejection
    assert 0.6 * predicted < res.get("rejected_queue_full", "api") < predicted
    assert verdict(model, res) == "fail"
    fixed_model, fixed = run(
        "misconfigured_pool", **{"services.api.workers": 32, "services.api.queue": 100}
    )
    assert fixed.get("rejection_rate") < 0.001
    assert fixed.get("cpu_utilization", "api") == pytest.approx(
        res.get("cpu_utilization", "api"), rel=0.1
    )
    assert verdict(fixed_model, fixed) == "pass"


def test_thundering_herd_refuses_a_recovered_service_and_jitter_flattens_it():
    model, herd = run("thundering_herd")
    assert herd.get("success_rate") < 0.95
    assert herd.get("rejected_queue_full") > 0.05
    ts = herd.timeseries[herd.timeseries.service == "sessions"]
    before, after = ts[ts.time < 300], ts[(ts.time >= 360) & (ts.time < 460)]
    assert before.rejections.sum() == 0 and after.rejections.sum() > 0
    assert verdict(model, herd) == "fail"
    jittered_model, jittered = run("thundering_herd", **{"workload.retries.jitter": "full"})
    assert jittered.get("success_rate") > 0.999
    assert jittered.get("recovery_time", "sessions") < herd.get("recovery_time", "sessions") / 2
    assert verdict(jittered_model, jittered) == "pass"


def test_connection_pool_starves_the_api_while_the_database_idles():
    model, starved = run("connection_pool_starvation")
    assert starved.get("rejected_pool_full", "api") > 0.1
    assert starved.get("utilization", "api") < 0.6  # threads to spare
    # the transactions hold all 10 connections: 10 of checkout_tx's 100 slots, always
    assert starved.get("utilization", "checkout_tx") == pytest.approx(0.10, abs=0.005)
    assert verdict(model, starved) == "fail"
    moved_model, moved = run(
        "connection_pool_starvation",
        **{
            "services.api.calls": [{"to": "payments"}, {"to": "checkout_tx"}],
            "services.checkout_tx.calls": [],
        },
    )
    assert moved.get("rejection_rate") == 0
    assert moved.get("utilization", "checkout_tx") < 0.01  # 4 ms a transaction
    assert verdict(moved_model, moved) == "pass"
    bigger_model, bigger = run(
        "connection_pool_starvation",
        **{"services.api.connection_pools.checkout_tx.max_connections": 40},
    )
    assert verdict(bigger_model, bigger) == "pass"


def test_cascading_failure_fills_every_queue_above_the_leaf_and_wastes_work():
    model, cascade = run("cascading_failure")
    assert cascade.get("queue_depth_max", "web") == 100
    assert cascade.get("queue_depth_max", "app") == 100
    assert cascade.get("queue_depth_max", "data") < 30  # the callers' pools cap it
    assert cascade.get("wasted_work", "app") > 0.5
    assert verdict(model, cascade) == "fail"
    ordered_model, ordered = run("cascading_failure", **{"services.app.calls.0.timeout": "800ms"})
    assert ordered.get("wasted_work", "app") < 0.05
    assert ordered.get("queue_depth_max", "app") < 100
    slos = {r.slo.metric: r.verdict for r in judge(ordered, ordered_model.slo)}
    assert slos == {"success_rate": "fail", "wasted_work": "pass"}  # the leaf still costs


def test_ai_gateway_token_limits_keep_the_inference_fleet_out_of_its_queues():
    model, limited = run("ai_gateway")
    assert limited.get("rejected_rate_limited", "gateway") > 0.05
    assert limited.get("rejected_queue_full", "inference") < 0.005
    assert 0.7 < limited.get("utilization", "inference") < 0.95
    by = limited.by_class
    gateway = by[(by.service == "gateway") & (by.metric == "latency_p99")]
    p99 = dict(zip(gateway["class"], gateway["mean"], strict=True))
    assert p99["batch"] < 0.1 < 2 < p99["chat"]  # batch is answered at once, offloaded
    assert verdict(model, limited) == "pass"
    open_model, unlimited = run("ai_gateway", **{"services.gateway.rate_limit": None})
    assert unlimited.get("utilization", "inference") > 0.97
    assert unlimited.get("latency_p99") > 2 * limited.get("latency_p99")
    assert verdict(open_model, unlimited) == "fail"
