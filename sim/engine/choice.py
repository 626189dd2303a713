"""Which engine runs a model: the exact fast path when the model is one FIFO station
(see :mod:`sim.engine.fastpath`), else SimPy. Cheap to import: no numba here."""

from __future__ import annotations

from typing import Any

from sim.model import Model, ModelError

FAST, SIMPY = "fast", "simpy"


def engine_for(model: Model) -> str:
    """The engine that runs ``model``: its ``engine`` field, or with ``auto`` the fast path
    whenever the model qualifies. A model forced onto the fast path that does not qualify
    is refused, naming the field in the way."""
    if model.engine == SIMPY:
        return SIMPY
    reason = blocker(model)
    if reason is None:
        return FAST
    if model.engine == FAST:
        raise ModelError([f"engine: fast needs a single FIFO station; {reason} is set"])
    return SIMPY


_MODEL_FIELDS = {
    "name",
    "horizon",
    "warmup",
    "replications",
    "precision",
    "slo",
    "seed",
    "timeseries_bin",
    "deadline_propagation",  # no caller ever gives up on the fast path
    "engine",
    "workload",
    "services",
}
_WORKLOAD_FIELDS = {"arrivals", "target", "clients"}  # client keys only feed rate limits
_SERVICE_FIELDS = {"workers", "queue", "work", "replicas", "balancer", "choice_count"}
_SERVICE_FIELDS |= {"retry_after"}  # sent with a 503, read only by retries


def blocker(model: Model) -> str | None:
    """The first field that keeps ``model`` off the fast path, or None if it qualifies:
    one service with one replica, its own work only, a FIFO waiting room, and an
    open-loop workload of one class without timeouts or retries."""
    data: dict[str, Any] = model.model_dump(exclude_defaults=True)
    for key in data:
        if key not in _MODEL_FIELDS:
            return key
    if len(model.services) > 1:
        return "services (more than one)"
    workload = model.workload
    if workload is None:
        return "scenarios (several workloads)"
    if workload.arrivals is None:
        return "workload.users (closed loop)"
    for key in data.get("workload", {}):
        if key not in _WORKLOAD_FIELDS:
            return f"workload.{key}"
    (name,) = model.services
    for key, value in data["services"][name].items():
        if key not in _SERVICE_FIELDS or (key == "replicas" and value != 1):
            return f"services.{name}.{key}"
    return None
