"""Time-weighted quantities: queue depth, busy workers, replicas, limits over time."""

from __future__ import annotations

import copy

import cython


class Gauge:
    """A piecewise-constant quantity integrated over time, in total and per time bin.

    Its ``value`` and ``peak`` keep Python's types: counts changed by whole numbers stay
    ints, and the first change by anything else makes them what Python's arithmetic would.
    While they are ints they are kept as C integers (``_count``, ``_top``), and the open
    bin's area as a C double (``_open``), so that a change, built, makes no object at all;
    the same sums in the same order give the same floats."""

    __slots__ = (
        "_bins",
        "_count",
        "_index",
        "_level",
        "_open",
        "_peak",
        "_top",
        "_value",
        "_whole",
        "area",
        "edge",
        "t",
        "width",
    )

    def __init__(self, width: float, nbins: int) -> None:
        self._whole = True  # value and peak are ints, _count and _top
        self._count = 0
        self._top = 0
        self._value: object = None  # value and peak while they are not both ints
        self._peak: object = None
        self._level = 0.0  # the value as a float, for areas
        self.t = 0.0
        self.area = 0.0
        self.width = width
        self._bins = [0.0] * nbins
        self._index = 0
        self._open = 0.0  # the area of bin ``_index`` so far: in ``_bins`` when read
        self.edge = width

    @cython.locals(now=cython.double, area=cython.double, step=cython.longlong)
    def add(self, now: float, delta: float) -> None:
        """Change the value by ``delta`` at time ``now``."""
        if now >= self.edge:
            self._advance(now)
        area = self._level * (now - self.t)
        self._open += area
        self.area += area
        self.t = now
        if self._whole and type(delta) is int:
            step = delta
            self._count += step
            self._level = self._count
            if self._count > self._top:
                self._top = self._count
        else:
            self._add_object(delta)

    def _add_object(self, delta: object) -> None:
        """``add``'s change of the value where it is not an int and an int: Python's."""
        self._loosen()
        value = self._value + delta  # type: ignore[operator]
        self._value = value
        self._level = value
        if value > self._peak:
            self._peak = value

    def _loosen(self) -> None:
        """Keep the value and the peak as objects from now on."""
        if self._whole:
            self._whole = False
            self._value, self._peak = self._count, self._top

    @cython.locals(now=cython.double, area=cython.double)
    def _advance(self, now: float) -> None:
        last = len(self._bins) - 1
        while now >= self.edge and self._index < last:
            area = self._level * (self.edge - self.t)
            self._open += area
            self.area += area
            self._bins[self._index] = self._open
            self.t = self.edge
            self._index += 1
            self._open = self._bins[self._index]
            self.edge = (self._index + 1) * self.width

    @property
    def value(self) -> float:
        """The quantity now."""
        return self._count if self._whole else self._value  # type: ignore[return-value]

    @value.setter
    def value(self, value: float) -> None:
        if self._whole and type(value) is int:
            self._count = value
        else:
            self._loosen()
            self._value = value
        self._level = value

    @property
    def peak(self) -> float:
        """The most it has been (since the warm-up ended, after :meth:`restart`)."""
        return self._top if self._whole else self._peak  # type: ignore[return-value]

    @peak.setter
    def peak(self, peak: float) -> None:
        if self._whole and type(peak) is int:
            self._top = peak
        else:
            self._loosen()
            self._peak = peak

    @property
    def bins(self) -> list[float]:
        """The area in each time bin so far (a list this gauge goes on adding to)."""
        self._bins[self._index] = self._open
        return self._bins

    @bins.setter
    def bins(self, bins: list[float]) -> None:
        self._bins = bins
        self._open = bins[self._index]

    @property
    def index(self) -> int:
        """The bin the quantity is in now."""
        return self._index

    @index.setter
    def index(self, index: int) -> None:
        self._bins[self._index] = self._open
        self._index = index
        self._open = self._bins[index]

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
