"""A cloud step-scaling policy: alarm steps, scale-in threshold, cooldown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """Add ``adjustment`` replicas while the metric is in [lower, upper)."""

    lower: float
    upper: float | None
    adjustment: int


class StepScaler:
    """Decides a change from one evaluation period's metric, honouring the cooldown."""

    def __init__(
        self,
        steps: Sequence[Step],
        scale_in_threshold: float | None,
        scale_in_adjustment: int,
        cooldown: float,
        min_replicas: int,
        max_replicas: int,
    ) -> None:
        self.steps = sorted(steps, key=lambda s: s.lower)
        self.scale_in_threshold = scale_in_threshold
        self.scale_in_adjustment = scale_in_adjustment
        self.cooldown = cooldown
        self.min_replicas, self.max_replicas = min_replicas, max_replicas
        self.last_action: float | None = None

    def scale(self, now: float, metric: float, ready: int, provisioning: int, current: int) -> int:
        """One evaluation period (the replica counts other than ``current`` do not matter)."""
        return self.decide(now, metric, current)

    def decide(self, now: float, metric: float, current: int) -> int:
        """The desired replica count after this evaluation."""
        if self.last_action is not None and now - self.last_action < self.cooldown:
            return current
        change = 0
        for step in self.steps:
            if metric >= step.lower and (step.upper is None or metric < step.upper):
                change = step.adjustment
        if change == 0 and self.scale_in_threshold is not None and metric < self.scale_in_threshold:
            change = -self.scale_in_adjustment
        desired = max(self.min_replicas, min(self.max_replicas, current + change))
        if desired != current:
            self.last_action = now
        return desired
