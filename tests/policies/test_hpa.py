"""The HPA's replica calculation against the Kubernetes documentation's rules."""

from __future__ import annotations

from dataclasses import replace

from sim.model.scaling import HPASpec
from sim.policies.hpa import (
    HorizontalPodAutoscaler,
    ScalingPolicy,
    ScalingRules,
    replicas_for_metric,
)


def test_ceil_ratio_times_ready_replicas():
    # docs: currentMetricValue 200m, desired 100m -> double; 50m -> halve
    assert replicas_for_metric([200, 200], 100, 0, 2, 0.1) == 4
    assert replicas_for_metric([50, 50, 50, 50], 100, 0, 4, 0.1) == 2
    assert replicas_for_metric([0.65] * 3, 0.6, 0, 3, 0.1) == 3  # ratio 1.083: tolerance
    assert replicas_for_metric([0.67] * 3, 0.6, 0, 3, 0.1) == 4  # ratio 1.117: ceil(3.35)


def test_not_ready_replicas_count_as_zero_when_scaling_up():
    # 2 ready at 150 % of target, 2 starting: (300 / 4) / 100 = 0.75 -> would scale down: keep
    assert replicas_for_metric([150, 150], 100, 2, 4, 0.1) == 4
    # 2 ready at 300 %, 1 starting: 600 / 3 / 100 = 2 -> ceil(2 x 3) = 6
    assert replicas_for_metric([300, 300], 100, 1, 3, 0.1) == 6
    # scaling down ignores the not-ready ones
    assert replicas_for_metric([20, 20], 100, 2, 4, 0.1) == 1


def hpa_with(
    min_replicas: int, max_replicas: int, **rules: ScalingRules
) -> HorizontalPodAutoscaler:
    """The pure HPA with Kubernetes' defaults (from the schema), some rules replaced."""
    spec = HPASpec(min_replicas=min_replicas, max_replicas=max_replicas, target=1.0)
    return replace(spec.build(), **rules)


def test_scale_down_stabilization_takes_the_highest_recent_recommendation():
    hpa = hpa_with(1, 20)
    assert hpa.decide(0, 10, 10) == 10
    assert hpa.decide(15, 4, 10) == 10  # 10 was recommended within 300 s
    assert hpa.decide(299, 4, 10) == 10
    assert hpa.decide(301, 4, 10) == 4  # the t=0 recommendation has left the window


def test_scale_up_is_immediate_by_default_but_limited_by_policies():
    hpa = hpa_with(1, 100)
    # Max(100 % of 2, 4 pods) -> 2 + 4 = 6 at most in one period
    assert hpa.decide(0, 50, 2) == 6
    assert hpa.decide(15, 50, 6) == 12  # next period: 100 % of 6
    assert hpa.decide(30, 50, 12) == 24


def test_select_policy_min_and_disabled():
    hpa = hpa_with(
        1,
        100,
        scale_up=ScalingRules(
            0, (ScalingPolicy("Percent", 100, 15), ScalingPolicy("Pods", 4, 15)), "Min"
        ),
    )
    assert hpa.decide(0, 50, 10) == 14  # min(20, 14)
    frozen = hpa_with(1, 100, scale_down=ScalingRules(0, (), "Disabled"))
    assert frozen.decide(0, 2, 10) == 10


def test_policies_count_changes_within_their_period():
    hpa = hpa_with(1, 100, scale_up=ScalingRules(0, (ScalingPolicy("Pods", 2, 60),), "Max"))
    assert hpa.decide(0, 10, 4) == 6
    assert hpa.decide(15, 10, 6) == 6  # 2 already added within 60 s
    assert hpa.decide(61, 10, 6) == 8


def test_scale_up_stabilization_takes_the_lowest_recent_recommendation():
    hpa = hpa_with(1, 100, scale_up=ScalingRules(60, (ScalingPolicy("Pods", 100, 15),), "Max"))
    assert hpa.decide(0, 3, 3) == 3
    assert hpa.decide(15, 8, 3) == 3  # 3 was recommended within 60 s
    assert hpa.decide(61, 8, 3) == 8


def test_clamped_to_min_and_max():
    hpa = hpa_with(2, 5, scale_down=ScalingRules(0, (ScalingPolicy("Percent", 100, 15),), "Max"))
    assert hpa.decide(0, 1, 3) == 2
    assert hpa.decide(15, 9, 2) == 5  # up limit Max(100 % of 2, 2 + 4 pods) = 6; max 5
