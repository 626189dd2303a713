"""The shipped models tell the stories their headers promise."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.reference import model_header

MODELS = sorted(Path("models").glob("*.yaml"))


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_every_model_validates_and_has_a_header(path: Path):
    sim.load(path)
    assert path.read_text().startswith(f"# {path.stem}: "), "the header opens with its story"
    header = model_header(path)
    assert {"story", "look", "fix", "verdict"} <= header.keys(), "say Look at:, Fix:, Verdict:"
    assert header["verdict"].split()[0] in ("pass", "fail")
    assert sim.load(path).slo, "every model has an slo block its verdict is judged on"


def _bins(res: sim.Results, service: str, start: float, stop: float):
    ts = res.timeseries[res.timeseries.service == service]
    return ts[(ts.time >= start) & (ts.time < stop)]


@pytest.mark.slow
def test_gc_storm_never_recovers_but_would_without_memory_pressure():
    short = {"replications": 3, "horizon": 700}
    storm = sim.run(sim.load("models/gc_storm.yaml", short))
    assert _bins(storm, "api", 60, 300).rejections.max() == 0
    after = _bins(storm, "api", 450, 700)
    assert after.rejections.mean() > 10  # still shedding long after the slowdown ended
    assert after.gc_paused.mean() > 0.2
    calm = sim.run(
        sim.load("models/gc_storm.yaml", {**short, "services.api.gc.pause_per_held_request": 0})
    )
    assert calm.get("rejection_rate", "api") == 0
    assert calm.get("gc_paused_fraction", "api") < 0.02


@pytest.mark.slow
def test_flash_sale_token_bucket_keeps_p99():
    short = {"replications": 2, "horizon": 600, "warmup": 60}
    limited = sim.run(sim.load("models/flash_sale.yaml", short))
    open_door = sim.run(
        sim.load("models/flash_sale.yaml", {**short, "services.api.rate_limit": None})
    )
    base_p99 = _bins(limited, "api", 100, 290).latency_p99.mean()
    spike_p99 = _bins(limited, "api", 310, 420).latency_p99.mean()
    assert spike_p99 < 1.3 * base_p99  # the limiter holds p99 through the spike
    assert limited.get("rejected_rate_limited", "api") > 0.2
    assert limited.get("rejected_queue_full", "api") < 0.001
    assert open_door.get("rejected_queue_full", "api") > 0.1
    assert open_door.get("latency_p99", "api") > 2 * limited.get("latency_p99", "api")


RESILIENT = {
    "workload.retries.jitter": "full",
    "workload.retries.base": "200ms",
    "workload.retries.cap": "5s",
    "workload.retries.budget": {"budget_percent": 20},
}


@pytest.mark.slow
def test_retry_storm_is_metastable_and_budgets_recover():
    short = {"replications": 2, "horizon": 800}
    storm = sim.run(sim.load("models/retry_storm.yaml", short))
    assert storm.get("recovered", "api") == 0  # never, within the run
    after = _bins(storm, "api", 400, 800)
    assert after.goodput.mean() < 0.3 * after.throughput.mean()
    assert storm.get("attempts_per_request") > 3
    calm = sim.run(sim.load("models/retry_storm.yaml", {**short, **RESILIENT}))
    assert calm.get("recovered", "api") == 1
    assert calm.get("recovery_time", "api") < 240
    assert calm.get("attempts_per_request") < 1.2


@pytest.mark.slow
def test_breaker_saves_the_pool_for_requests_that_do_not_need_the_dependency():
    short = {"replications": 2}
    with_breaker = sim.run(sim.load("models/breaker_saves_pool.yaml", short))
    without = sim.run(
        sim.load(
            "models/breaker_saves_pool.yaml",
            {**short, "services.api.classes.recommend.calls.0.circuit_breaker": None},
        )
    )

    def page_success(res: sim.Results) -> float:
        by = res.by_class
        return float(
            by[(by.service == "api") & (by["class"] == "page") & (by.metric == "success_rate")][
                "mean"
            ].iloc[0]
        )

    assert page_success(with_breaker) > 0.98
    assert page_success(without) < 0.8
    assert with_breaker.get("breaker_open_fraction", "api->recommendations") > 0.15
    assert with_breaker.get("call_circuit_open_rate", "api->recommendations") > 0.2
