"""What every metric-driven autoscaler answers: how many replicas are wanted now."""

from __future__ import annotations

from typing import Protocol


class Scaler(Protocol):
    """A replica-count policy evaluated every period on one scaling metric."""

    def scale(self, now: float, metric: float, ready: int, provisioning: int, current: int) -> int:
        """The desired replica count, given the metric's mean per replica over the last
        period, the ready and provisioning replica counts and the currently wanted count."""
        ...
