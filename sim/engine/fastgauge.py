"""Gauges of the fast path: built from whole intervals instead of one change at a time."""

from __future__ import annotations

import numpy as np

from sim.measure.gauge import Gauge


class IntervalGauges:
    """Gauges that each count how many intervals ``[start, end)`` cover each instant
    (the compiled :func:`sim.engine.kernel.tally` adds the intervals, row by row).

    Time up to the horizon is cut into segments at the bin edges and the warm-up, and each
    interval adds its overlap with each segment (sums of positive parts, so the areas keep
    their digits however long the run).
    """

    def __init__(self, rows: int, width: float, nbins: int, warmup: float, horizon: float):
        self.width, self.nbins, self.warmup, self.horizon = width, nbins, warmup, horizon
        edges = np.arange(nbins + 1) * width
        edges[-1] = horizon  # the last bin ends at the horizon
        self.edges = edges
        self.cuts = np.unique(np.append(edges, warmup))
        self.area = np.zeros((rows, self.cuts.size - 1))  # per segment between cuts
        self.points = np.array([warmup, horizon])
        self.covering = np.zeros((rows, 2), dtype=np.int64)  # over the warm-up, the horizon

    def at_warmup(self, row: int) -> int:
        """How many of a row's intervals cover the end of the warm-up."""
        return int(self.covering[row, 0])

    def frozen(self, row: int, peak: float | None = None) -> Gauge:
        """A row as the snapshot at the horizon of the gauge restarted at the warm-up (see
        :meth:`Gauge.snapshot`); ``peak`` is the largest value in the window, if known."""
        gauge = Gauge(self.width, self.nbins)
        area = self.area[row]
        bin_of = np.searchsorted(self.edges, self.cuts[:-1], side="right") - 1
        gauge.bins = np.bincount(bin_of, area, self.nbins).tolist()
        gauge.area = float(area[self.cuts[:-1] >= self.warmup].sum())
        gauge.value = int(self.covering[row, 1])
        gauge.peak = max(int(self.covering[row, 0]), peak if peak is not None else 0)
        gauge.t = self.horizon
        gauge.index = self.nbins - 1
        return gauge


def constant(count: int, width: float, nbins: int, warmup: float, horizon: float) -> Gauge:
    """The frozen gauge of a quantity that is ``count`` throughout (fixed replicas)."""
    gauges = IntervalGauges(1, width, nbins, warmup, horizon)
    gauges.area[0] = count * np.diff(gauges.cuts)
    gauges.covering[0] = count
    return gauges.frozen(0)
