"""Time-weighted quantities: queue depth, busy workers, replicas, limits over time."""

from __future__ import annotations

import copy

import cython


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

    @cython.locals(now=cython.double, level=cython.double, area=cython.double, binned=cython.double)
    def add(self, now: float, delta: float) -> None:
        """Change the value by ``delta`` at time ``now``."""
        if now >= self.edge:
            self._advance(now)
        value = self.value
        level = value  # a count times a float is that float product, either way
        area = level * (now - self.t)
        binned = self.bins[self.index]
        self.bins[self.index] = binned + area
        self.area += area
        self.t = now
        value += delta
        self.value = value
        if value > self.peak:
            self.peak = value

    @cython.locals(now=cython.double, level=cython.double, area=cython.double, binned=cython.double)
    def _advance(self, now: float) -> None:
        last = len(self.bins) - 1
        level = self.value
        while now >= self.edge and self.index < last:
            area = level * (self.edge - self.t)
            binned = self.bins[self.index]
            self.bins[self.index] = binned + area
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
