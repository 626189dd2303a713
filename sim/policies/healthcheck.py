"""Envoy's active health checking and the balancer's panic threshold.

A host is marked unhealthy after ``unhealthy_threshold`` failed checks in a row, and healthy
again after ``healthy_threshold`` passed checks in a row; a host that has never passed a
check (a replica just added) needs one. Below ``panic_threshold`` percent of hosts
healthy, the balancer disregards health and balances over all of them, so that failing
checks cannot concentrate the whole load on the few hosts left.
"""

from __future__ import annotations


class HealthState:
    """One host's health as active checks see it."""

    def __init__(
        self, unhealthy_threshold: int, healthy_threshold: int, healthy: bool = True
    ) -> None:
        if unhealthy_threshold < 1 or healthy_threshold < 1:
            raise ValueError("thresholds must be >= 1")
        self.unhealthy_threshold = unhealthy_threshold
        self.healthy_threshold = healthy_threshold
        self.healthy = healthy
        self.checked = healthy  # a host present from the start counts as checked
        self.streak = 0  # checks in a row that disagree with the current state

    def record(self, passed: bool) -> bool:
        """One check's result; True if it changed the host's state."""
        if passed == self.healthy:
            self.streak = 0
            return False
        self.streak += 1
        needed = self.healthy_threshold if self.checked else 1
        if self.streak >= (needed if passed else self.unhealthy_threshold):
            self.healthy, self.checked, self.streak = passed, True, 0
            return True
        return False


def in_panic(healthy: int, total: int, threshold_percent: float) -> bool:
    """Whether too few hosts are healthy to respect health: ``healthy / total`` below the
    threshold (Envoy's ``healthy_panic_threshold``, 50 % by default; 0 disables panic)."""
    return total > 0 and healthy * 100 < threshold_percent * total
