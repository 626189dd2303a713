"""The windows of trouble a model stages (incidents, traffic spikes), to shade on charts."""

from __future__ import annotations

from dataclasses import dataclass

from sim.model.schema import Model
from sim.model.workload import ProfileArrivals, Spike


@dataclass(frozen=True)
class Window:
    """A span of simulated time and what happens in it."""

    start: float
    stop: float
    label: str


def disturbances(model: Model) -> list[Window]:
    """Every incident of every service, and every traffic spike, in time order."""
    found = []
    for name, service in model.services.items():
        for incident in service.incidents:
            found.append(Window(incident.start, incident.stop, f"{name} incident"))
    for workload in model.workloads:
        arrivals = workload.arrivals
        if isinstance(arrivals, ProfileArrivals):
            for change in arrivals.changes:
                if isinstance(change, Spike):
                    found.append(Window(change.start, change.stop, f"spike x{change.factor:g}"))
    return sorted(found, key=lambda w: w.start)
