"""Autoscaling in simulation: HPA lag, settling, stabilization, draining, schedules, steps."""

from __future__ import annotations

import math
from typing import Any

import pytest

import sim
from tests.helpers import exponential


def scaled(
    autoscaling: dict[str, Any],
    changes: list[dict[str, Any]],
    rate: float = 50.0,
    horizon: float = 600,
    replications: int = 2,
    **service: Any,
) -> sim.Model:
    return sim.from_dict(
        {
            "horizon": horizon,
            "warmup": 0,
            "replications": replications,
            "seed": 9,
            "timeseries_bin": 1,
            "workload": {"arrivals": {"process": "profile", "rate": rate, "changes": changes}},
            "services": {
                "api": {
                    "workers": 8,
                    "queue": 100,
                    "work": exponential(0.05),
                    "autoscaling": autoscaling,
                    **service,
                }
            },
        }
    )


HPA = {
    "min_replicas": 1,
    "max_replicas": 20,
    "metric": "utilization",
    "target": 0.6,
    "provisioning_delay": 30,
}


def _series(res: sim.Results, rep: int, column: str):
    ts = res.timeseries
    return ts[(ts.service == "api") & (ts.replication == rep)].set_index("time")[column]


@pytest.mark.slow
def test_first_new_replica_is_ready_no_earlier_than_sync_plus_provisioning():
    # the step lands on a sync instant (t=105): the first sync that sees it is at 120
    res = sim.run(scaled(HPA, [{"kind": "step", "at": 105, "rate": 400}], horizon=300))
    for rep in range(res.replications):
        ready = _series(res, rep, "replicas_ready")
        first = ready[ready > 1.0].index.min()
        assert first >= 105 + 15 + 30 - 1  # its bin starts at most a second earlier
        assert first <= 105 + 15 + 15 + 30  # and the HPA does not wait longer than two syncs
    events = res.scale_events
    assert (events.time >= 120).all() and (events.replicas_to > events.replicas_from).any()


@pytest.mark.slow
def test_steady_load_settles_at_ceil_load_over_target_without_flapping():
    # 300/s x 50 ms = 15 busy workers = 1.875 replicas' worth; / 0.6 -> ceil(3.125) = 4
    res = sim.run(scaled(HPA, [], rate=300.0, horizon=900))
    for rep in range(res.replications):
        desired = _series(res, rep, "replicas_desired")
        assert desired.loc[300:].eq(4).all()
    late = res.scale_events[res.scale_events.time > 300]
    assert late.empty


@pytest.mark.slow
def test_scale_down_stabilization_rides_out_a_short_dip():
    dip = [{"kind": "step", "at": 400, "rate": 30}, {"kind": "step", "at": 460, "rate": 300}]
    res = sim.run(scaled(HPA, dip, rate=300.0, horizon=700))
    for rep in range(res.replications):
        desired = _series(res, rep, "replicas_desired")
        assert desired.loc[300:].min() == 4  # the 60 s dip sits inside the 300 s window
    eager = sim.run(
        scaled(
            {**HPA, "behavior": {"scale_down": {"stabilization_window_seconds": 0}}},
            dip,
            rate=300.0,
            horizon=700,
        )
    )
    assert _series(eager, 0, "replicas_desired").loc[410:460].min() < 4


@pytest.mark.slow
def test_scale_down_drains_without_losing_requests():
    down = [{"kind": "step", "at": 200, "rate": 20}]
    res = sim.run(
        scaled(
            {**HPA, "behavior": {"scale_down": {"stabilization_window_seconds": 30}}},
            down,
            rate=400.0,
            horizon=500,
        )
    )
    frame = res.per_replication[res.per_replication.service == "api"]
    for _, group in frame.groupby("replication"):
        m = dict(zip(group.metric, group.value, strict=True))
        assert m["arrivals"] == m["completed"] + m["rejected"] + m["failed"] + m["in_flight_end"]
    ready = _series(res, 0, "replicas_ready")
    assert ready.loc[:190].max() >= 4 and ready.loc[400:].max() == 1
    provisioned = _series(res, 0, "replicas_provisioned")
    assert provisioned.loc[450:].max() == 1  # drained replicas are gone, not leaking


def test_replica_seconds_and_mean_for_a_fixed_service():
    model = sim.from_dict(
        {
            "horizon": 200,
            "warmup": 50,
            "replications": 1,
            "workload": {"arrivals": {"process": "poisson", "rate": 10}},
            "services": {"api": {"replicas": 3, "work": exponential(0.01)}},
        }
    )
    res = sim.run(model)
    assert res.get("replica_seconds", "api") == pytest.approx(3 * 150)
    assert res.get("replicas_mean", "api") == pytest.approx(3)


def test_scheduled_scaling_follows_the_schedule():
    schedule = {
        "kind": "schedule",
        "provisioning_delay": 10,
        "schedule": [
            {"at": 0, "replicas": 2},
            {"at": 100, "replicas": 6},
            {"at": 300, "replicas": 3},
        ],
    }
    res = sim.run(scaled(schedule, [], rate=50.0, horizon=400, replications=1))
    ready = _series(res, 0, "replicas_ready")
    assert ready.loc[0:99].eq(2).all()
    assert ready.loc[111:299].eq(6).all()  # ready after the 10 s provisioning delay
    assert ready.loc[305:].eq(3).all()


@pytest.mark.slow
def test_step_scaling_reacts_to_a_queue_alarm_with_cooldown():
    step = {
        "kind": "step_scaling",
        "min_replicas": 1,
        "max_replicas": 10,
        "metric": "queue_depth",
        "evaluation_period": 30,
        "cooldown": 60,
        "provisioning_delay": 20,
        "scale_out": [{"lower": 5, "upper": 50, "adjustment": 1}, {"lower": 50, "adjustment": 3}],
        "scale_in": {"threshold": 0.1, "adjustment": 1},
    }
    res = sim.run(
        scaled(
            step, [{"kind": "step", "at": 100, "rate": 500}], rate=50.0, horizon=700, replications=1
        )
    )
    events = res.scale_events
    ups = events[events.replicas_to > events.replicas_from]
    assert not ups.empty and (ups.replicas_to - ups.replicas_from).max() == 3
    gaps = ups.time.diff().dropna()
    assert (gaps >= 60).all()  # cooldown between actions
    assert _series(res, 0, "replicas_ready").loc[650:].min() >= 4


def test_cold_replicas_are_slower_at_first():
    schedule = {
        "kind": "schedule",
        "provisioning_delay": 1,
        "warmup_duration": 60,
        "cold_slowdown": 4,
        "schedule": [{"at": 0, "replicas": 1}, {"at": 100, "replicas": 4}],
    }
    warm = {**schedule, "cold_slowdown": 1}

    def mean_latency(spec: dict[str, Any]) -> float:
        res = sim.run(scaled(spec, [], rate=60.0, horizon=300, replications=1))
        p99 = _series(res, 0, "latency_p99")
        return float(p99.loc[105:140].mean())

    assert mean_latency(schedule) > 1.5 * mean_latency(warm)


@pytest.mark.slow
def test_autoscale_lag_model_headline():
    res = sim.run(sim.load("models/autoscale_lag.yaml", {"replications": 2}))
    assert res.get("rejected_queue_full", "api") > 0.02
    for rep in range(res.replications):
        rejections = _series(res, rep, "rejections")
        assert rejections.loc[60:295].max() == 0  # none before the ramp
        assert rejections.loc[650:].max() == 0  # none once the replicas caught up
        ready = _series(res, rep, "replicas_ready")
        assert ready.loc[700:].min() >= math.ceil(1000 * 0.05 / 8 / 0.6)
    assert 5 < res.get("replicas_mean", "api") < 12


def test_scaling_errors_name_the_field():
    def lines(service: dict[str, Any]) -> list[str]:
        with pytest.raises(sim.ModelError) as info:
            sim.from_dict(
                {
                    "horizon": 10,
                    "workload": {"arrivals": {"process": "poisson", "rate": 1}},
                    "services": {"api": {"work": exponential(0.1), **service}},
                }
            )
        return info.value.lines

    assert lines({"replicas": 2, "autoscaling": {"max_replicas": 3, "target": 0.5}}) == [
        "services.api.replicas: give replicas or autoscaling, not both"
    ]
    assert lines({"autoscaling": {"max_replicas": 3}}) == [
        "services.api.autoscaling.target: is required"
    ]
    assert lines({"autoscaling": {"min_replicas": 4, "max_replicas": 3, "target": 1}}) == [
        "services.api.autoscaling.max_replicas: must be >= min_replicas"
    ]
    assert lines({"autoscaling": {"max_replicas": 3, "target": 1, "metric": "cpu"}}) == [
        "services.api.autoscaling.metric: the cpu metric needs cpus on the service"
    ]
    assert lines({"autoscaling": {"kind": "magic"}})[0].startswith(
        "services.api.autoscaling: 'kind' must be one of: hpa, schedule, step_scaling"
    )
