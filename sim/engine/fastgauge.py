"""Gauges of the fast path: built from whole intervals instead of one change at a time."""

from __future__ import annotations

import numpy as np

from sim.engine.kernel import add_intervals
from sim.measure.gauge import Gauge


class IntervalGauge:
    """The gauge that counts how many intervals ``[start, end)`` cover each instant.

    Time up to the horizon is cut into segments at the bin edges and the warm-up, and each
    interval adds its overlap with each segment (sums of positive parts, so the areas keep
    their digits however long the run). Batches may come in any order.
    """

    def __init__(self, width: float, nbins: int, warmup: float, horizon: float) -> None:
        self.width, self.nbins, self.warmup, self.horizon = width, nbins, warmup, horizon
        edges = np.arange(nbins + 1) * width
        edges[-1] = horizon  # the last bin ends at the horizon
        self.edges = edges
        self.cuts = np.unique(np.append(edges, warmup))
        self.area = np.zeros(self.cuts.size - 1)  # per segment between cuts
        self.points = np.array([warmup, horizon])
        self.covering = np.zeros(2, dtype=np.int64)  # intervals over the warm-up, the horizon

    def add(self, starts: np.ndarray, ends: np.ndarray) -> None:
        """Count the intervals ``[starts[i], ends[i])``."""
        add_intervals(starts, ends, self.cuts, self.area, self.points, self.covering)

    def at_warmup(self) -> int:
        """How many intervals cover the end of the warm-up."""
        return int(self.covering[0])

    def frozen(self, peak: float | None = None) -> Gauge:
        """The snapshot at the horizon of the gauge restarted at the warm-up (see
        :meth:`Gauge.snapshot`); ``peak`` is the largest value in the window, if known."""
        gauge = Gauge(self.width, self.nbins)
        bin_of = np.searchsorted(self.edges, self.cuts[:-1], side="right") - 1
        gauge.bins = np.bincount(bin_of, self.area, self.nbins).tolist()
        gauge.area = float(self.area[self.cuts[:-1] >= self.warmup].sum())
        gauge.value = int(self.covering[1])
        gauge.peak = max(int(self.covering[0]), peak if peak is not None else 0)
        gauge.t = self.horizon
        gauge.index = self.nbins - 1
        return gauge
