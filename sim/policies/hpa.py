"""Kubernetes HPA v2's replica calculation (pkg/controller/podautoscaler), with time passed in.

One :class:`HorizontalPodAutoscaler` per service. Every sync period the engine hands it the
metric averaged per ready replica and the replica counts; it answers the new desired count:
the tolerance band, ceil(ratio x replicas) with not-ready pods as 0 % on scale-up,
stabilization windows (up: the lowest recent recommendation, down: the highest), the
scale-up and scale-down policies with their select rule, and the min/max clamp.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScalingPolicy:
    """Pods or Percent allowed to change per ``period_seconds``."""

    type: str  # "Pods" or "Percent"
    value: int
    period_seconds: float


@dataclass(frozen=True)
class ScalingRules:
    """One direction's behavior: stabilization window, policies, select rule."""

    stabilization_window_seconds: float
    policies: tuple[ScalingPolicy, ...]
    select_policy: str  # Max, Min or Disabled


def replicas_for_metric(
    ready_values: list[float], target: float, not_ready: int, current: int, tolerance: float
) -> int:
    """The metric's raw recommendation (replica_calculator.go, GetResourceReplicas).

    ``ready_values`` are the per-ready-replica metric values. If the usage ratio is within
    the tolerance, keep ``current``; on a scale-up, not-ready replicas count with usage 0,
    and if that flips the direction or lands within tolerance, keep ``current``.
    """
    if not ready_values:
        return current
    ratio = (sum(ready_values) / len(ready_values)) / target
    scale_up_with_unready = not_ready > 0 and ratio > 1.0
    if not scale_up_with_unready:
        if abs(1.0 - ratio) <= tolerance:
            return current
        return math.ceil(ratio * len(ready_values))
    counted = len(ready_values) + not_ready
    new_ratio = sum(ready_values) / counted / target
    if abs(1.0 - new_ratio) <= tolerance or new_ratio < 1.0:
        return current
    return math.ceil(new_ratio * counted)


@dataclass
class HorizontalPodAutoscaler:
    """HPA state: recommendation history and scale events, for stabilization and policies."""

    min_replicas: int
    max_replicas: int
    target: float
    tolerance: float
    scale_up: ScalingRules
    scale_down: ScalingRules
    recommendations: deque[tuple[float, int]] = field(default_factory=deque)
    events: list[tuple[float, int]] = field(default_factory=list)  # (time, change)

    def _stabilize(self, now: float, recommendation: int, current: int) -> int:
        self.recommendations.append((now, recommendation))
        up_cut = now - self.scale_up.stabilization_window_seconds
        down_cut = now - self.scale_down.stabilization_window_seconds
        horizon = min(up_cut, down_cut)
        while self.recommendations and self.recommendations[0][0] < horizon:
            self.recommendations.popleft()
        up, down = recommendation, recommendation
        for t, rec in self.recommendations:
            if t >= up_cut:
                up = min(up, rec)
            if t >= down_cut:
                down = max(down, rec)
        stabilized = current
        if stabilized < up:
            stabilized = up
        if stabilized > down:
            stabilized = down
        return stabilized

    def _changes_since(self, now: float, period: float) -> tuple[int, int]:
        added = sum(c for t, c in self.events if t > now - period and c > 0)
        removed = -sum(c for t, c in self.events if t > now - period and c < 0)
        return added, removed

    def _limit(self, now: float, current: int, up: bool) -> int:
        """The most (up) or fewest (down) replicas the direction's policies allow now,
        counting each policy's changes from the start of its period."""
        rules = self.scale_up if up else self.scale_down
        if rules.select_policy == "Disabled":
            return current
        limits = []
        for policy in rules.policies:
            added, removed = self._changes_since(now, policy.period_seconds)
            start = current - added + removed
            if policy.type == "Pods":
                limits.append(start + policy.value if up else start - policy.value)
            elif up:
                limits.append(math.ceil(start * (1 + policy.value / 100)))
            else:
                limits.append(int(start * (1 - policy.value / 100)))
        most_change = (max if up else min)(limits)
        least_change = (min if up else max)(limits)
        limit = most_change if rules.select_policy == "Max" else least_change
        return max(limit, current) if up else min(limit, current)

    def scale(self, now: float, metric: float, ready: int, provisioning: int, current: int) -> int:
        """One sync: the raw recommendation from the metric (the same value on every ready
        replica), then stabilization, the policies and the clamp."""
        recommendation = replicas_for_metric(
            [metric] * ready, self.target, provisioning, current, self.tolerance
        )
        return self.decide(now, recommendation, current)

    def decide(self, now: float, recommendation: int, current: int) -> int:
        """The desired replica count, given the metric's raw ``recommendation``."""
        desired = self._stabilize(now, recommendation, current)
        if desired > current:
            desired = min(desired, self._limit(now, current, up=True))
        elif desired < current:
            desired = max(desired, self._limit(now, current, up=False))
        desired = max(self.min_replicas, min(self.max_replicas, desired))
        if desired != current:
            self.events.append((now, desired - current))
            oldest = now - max(
                [p.period_seconds for p in (*self.scale_up.policies, *self.scale_down.policies)]
                or [0.0]
            )
            self.events = [(t, c) for t, c in self.events if t > oldest]
        return desired
