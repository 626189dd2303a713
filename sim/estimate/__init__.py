"""Instant estimates of whole service graphs, beside every simulation.

:func:`estimate_graph` decomposes a model into stations (Whitt's Queueing Network Analyzer,
with a fixed point for sync calls, pools, timeouts and retries; exact mean-value analysis
for closed workloads) and answers in milliseconds; :mod:`sim.estimate.compare` puts the
estimate beside a simulation's results and names where they disagree.
"""

from sim.estimate.graph import estimate_graph
from sim.estimate.result import (
    APPROXIMATE,
    EXACT,
    OUT_OF_RANGE,
    GraphEstimate,
    NoEstimate,
    ServiceEstimate,
)

__all__ = [
    "APPROXIMATE",
    "EXACT",
    "OUT_OF_RANGE",
    "GraphEstimate",
    "NoEstimate",
    "ServiceEstimate",
    "estimate_graph",
]
