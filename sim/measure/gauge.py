"""Time-weighted quantities: queue depth, busy workers, replicas, limits over time."""

from __future__ import annotations

import copy

import numpy as np


class Gauge:
    """A piecewise-constant quantity integrated over time, in total and per time bin."""

    __slots__ = ("area", "bins", "edge", "index", "peak", "t", "value", "width")

    def __init__(self, width: float, nbins: int) -> None:
        self.value: float = 0
        self.t = 0.0
        self.area = 0.0
        self.peak: float = 0
        self.width = width
        self.bins = [0.0] * nbins
        self.index = 0
        self.edge = width

    def add(self, now: float, delta: float) -> None:
        """Change the value by ``delta`` at time ``now``."""
        if now >= self.edge:
            self._advance(now)
        area = self.value * (now - self.t)
        self.bins[self.index] += area
        self.area += area
        self.t = now
        self.value += delta
        if self.value > self.peak:
            self.peak = self.value

    def _advance(self, now: float) -> None:
        last = len(self.bins) - 1
        while now >= self.edge and self.index < last:
            area = self.value * (self.edge - self.t)
            self.bins[self.index] += area
            self.area += area
            self.t = self.edge
            self.index += 1
            self.edge = (self.index + 1) * self.width

    def integral(self, now: float) -> float:
        """The integral from t=0 to ``now`` (warm-up included): for controllers."""
        return sum(self.bins) + self.value * (now - self.t)

    def restart(self, now: float) -> None:
        """Forget the totals so far (end of warm-up); bins are kept for the time series."""
        self.add(now, 0)
        self.area = 0.0
        self.peak = self.value

    def snapshot(self, now: float) -> Gauge:
        """A frozen copy integrated up to ``now``; this gauge goes on changing."""
        self.add(now, 0)
        frozen = copy.copy(self)
        frozen.bins = list(self.bins)
        return frozen


class IntervalGauge:
    """The gauge that counts how many intervals ``[start, end)`` cover each instant, built
    from batches of intervals instead of one change at a time (the fast path).

    Time up to the horizon is cut into segments at the bin edges and the warm-up; each
    interval adds its overlap with each segment (sums of positive parts, so the areas
    keep their digits however long the run). Batches may come in any order.
    """

    def __init__(self, width: float, nbins: int, warmup: float, horizon: float) -> None:
        self.width, self.nbins, self.warmup, self.horizon = width, nbins, warmup, horizon
        edges = np.arange(nbins + 1) * width
        edges[-1] = horizon  # the last bin ends at the horizon
        self.cuts = np.unique(np.append(edges, warmup))
        self.edges = edges
        self.area = np.zeros(self.cuts.size - 1)  # per segment between cuts
        self.covering = np.zeros(2, dtype=np.int64)  # over the warm-up and the horizon

    def add(self, starts: np.ndarray, ends: np.ndarray) -> None:
        """Count the intervals ``[starts[i], ends[i])``."""
        cuts, segments = self.cuts, self.area.size
        for point, index in ((self.warmup, 0), (self.horizon, 1)):
            # as the engine's clock stops at a point: what happens at it comes after
            self.covering[index] += int(((starts < point) & (ends >= point)).sum())
        keep = starts < self.horizon
        starts, ends = starts[keep], np.minimum(ends[keep], self.horizon)
        first = np.searchsorted(cuts, starts, side="right") - 1
        last = np.minimum(np.searchsorted(cuts, ends, side="right") - 1, segments - 1)
        inside = first == last
        self.area += np.bincount(first[inside], ends[inside] - starts[inside], segments)
        first, last = first[~inside], last[~inside]
        starts, ends = starts[~inside], ends[~inside]
        self.area += np.bincount(first, cuts[first + 1] - starts, segments)
        self.area += np.bincount(last, ends - cuts[last], segments)
        spans = np.zeros(segments + 1, dtype=np.int64)  # segments covered whole
        np.add.at(spans, first + 1, 1)
        np.add.at(spans, last, -1)
        self.area += np.cumsum(spans)[:-1] * np.diff(cuts)

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

    def at_warmup(self) -> int:
        """How many intervals cover the end of the warm-up."""
        return int(self.covering[0])
