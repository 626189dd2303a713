"""What one replication hands back: its raw metrics, time series, class breakdown, scale
events and latency histograms, keyed by service (``all`` end to end, ``a->b`` per call
edge). The engine fills it; results and studies read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # names only: the model schema imports this module, numpy need not load
    import numpy as np

    from sim.measure.stats import Histogram

END_TO_END = "all"


def scenario_name(name: str) -> str:
    """What a scenario's own end-to-end results are reported under: ``scenario:NAME``."""
    return f"scenario:{name}"


def edge_name(caller: str, callee: str) -> str:
    """How a call edge is named in results: ``api->db``."""
    return f"{caller}->{callee}"


@dataclass
class Slack:
    """A service's workers (or a caller's connection pool) that, or whose waiting room,
    never ran out: no request found every worker taken (then ``peak`` is the most busy at
    once on any replica, else None), or none found the waiting room full (then
    ``peak_waiting`` is the most waiting at once, else None). The same run with any number
    of workers from ``peak`` up, or of waiting places from ``peak_waiting`` up, on the
    same random numbers, is the same run. For workers, with what their utilization is
    made of, to compute it for another number of them (see
    :func:`sim.measure.recorders.utilization`)."""

    peak: int | None
    peak_waiting: int | None
    busy_area: float = 0.0
    serving: float = 0.0
    busy_bins: np.ndarray | None = None
    serving_bins: np.ndarray | None = None


@dataclass
class ReplicationOutput:
    """What one replication measured, keyed by service (``all`` end to end, ``a->b`` per call
    edge); ``by_class`` holds service -> class -> metrics when the workload has classes."""

    replication: int
    metrics: dict[str, dict[str, float]]
    timeseries: dict[str, dict[str, np.ndarray]]
    by_class: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    scale_events: list[tuple[float, str, int, int]] = field(default_factory=list)
    histograms: dict[str, dict[str, Histogram]] = field(default_factory=dict)
    """service (or edge) -> "" for all its requests, or a class name -> latency histogram."""
    engine: str = "simpy"
    """Which engine ran it: ``simpy``, or ``fast`` (the exact single-station fast path)."""
    slack: dict[str, Slack] = field(default_factory=dict)
    """The services (and, by call edge ``a->b``, the connection pools) whose workers or
    waiting room never ran out (SimPy engine; see :class:`Slack`)."""
    branches: dict[tuple[int, ...], ReplicationOutput] = field(default_factory=dict)
    """The outputs of the runs branched off this one, by their numbers of workers or
    waiting places, one per axis swept (see :mod:`sim.engine.branching`); a study takes
    them out."""
