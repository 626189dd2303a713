"""What an estimate says: per service (and end to end) its figures, how far to trust
them, and why."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

EXACT, APPROXIMATE, OUT_OF_RANGE = "exact", "approximation", "out of range"
"""How far to trust a station's estimate, best first."""


@dataclass
class ServiceEstimate:
    """One service's (or end to end's) estimated figures, with how far to trust them."""

    metrics: dict[str, float]
    status: str
    reasons: list[str] = field(default_factory=list)
    method: str = ""


@dataclass
class GraphEstimate:
    """The estimate of every service and of the requests end to end (``all``)."""

    services: dict[str, ServiceEstimate]
    iterations: int
    converged: bool
    method: str
    downstream: dict[str, list[str]] = field(default_factory=dict)  # services it waits on

    def metrics(self) -> dict[str, dict[str, float]]:
        """Service (or ``all``) -> metric -> estimated value."""
        return {name: dict(s.metrics) for name, s in self.services.items()}

    def to_dict(self) -> dict[str, object]:
        """Plain data (JSON-ready: NaN as None): method, convergence, and per service its
        status, reasons and figures."""
        return {
            "method": self.method,
            "iterations": self.iterations,
            "converged": self.converged,
            "services": {
                name: {
                    "status": s.status,
                    "reasons": list(s.reasons),
                    "method": s.method,
                    "metrics": {
                        k: float(v) if math.isfinite(v) else None for k, v in s.metrics.items()
                    },
                }
                for name, s in self.services.items()
            },
        }

    @property
    def status(self) -> str:
        """The least trustworthy status of any service."""
        order = (EXACT, APPROXIMATE, OUT_OF_RANGE)
        return max((s.status for s in self.services.values()), key=order.index)


class NoEstimate(ValueError):
    """A model the graph estimate does not cover at all (the message says why)."""
