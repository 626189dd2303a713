"""Open-loop arrival times for each arrival process, as endless generators of absolute times."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator
from itertools import islice

import numpy as np

from sim.model.workload import (
    ArrivalSpec,
    BurstyArrivals,
    ConstantArrivals,
    PoissonArrivals,
    ProfileArrivals,
    Sine,
    Spike,
    Step,
    TraceArrivals,
)

CHUNK = 4096


def arrival_times(spec: ArrivalSpec, rng: np.random.Generator) -> Iterator[float]:
    """Arrival instants from t=0 on, in order."""
    if isinstance(spec, PoissonArrivals):
        return _poisson(spec.rate, rng)
    if isinstance(spec, ConstantArrivals):
        return (k / spec.rate for k in _count(1))
    if isinstance(spec, ProfileArrivals):
        return _profile(RateProfile(spec), rng)
    if isinstance(spec, BurstyArrivals):
        return _bursty(spec, rng)
    if isinstance(spec, TraceArrivals):
        return _trace(spec)
    raise TypeError(f"unknown arrival process {spec!r}")


def arrival_chunks(
    spec: ArrivalSpec, rng: np.random.Generator, until: float, size: int = 1 << 16
) -> Iterator[np.ndarray]:
    """The arrival instants before ``until`` as arrays of at most ``size``: the same
    numbers, from the same stream, as :func:`arrival_times` gives one by one."""
    if isinstance(spec, PoissonArrivals):
        chunks = _poisson_chunks(spec.rate, rng, until, size)
    elif isinstance(spec, ConstantArrivals):
        chunks = (np.arange(k, k + CHUNK, dtype=float) / spec.rate for k in _count(1, CHUNK))
    else:
        chunks = _batched(arrival_times(spec, rng))
    parts: list[np.ndarray] = []
    held = 0
    for chunk in chunks:
        # a short batch is the last one (a trace's end); a Poisson one may be several long
        done = chunk.size % CHUNK != 0 or chunk.size == 0 or chunk[-1] >= until
        chunk = chunk[: np.searchsorted(chunk, until)]
        parts.append(chunk)
        held += chunk.size
        if held >= size or done:
            joined = np.concatenate(parts)
            for first in range(0, joined.size, size):
                yield joined[first : first + size]
            parts, held = [], 0
        if done:
            return


def _batched(times: Iterator[float]) -> Iterator[np.ndarray]:
    while True:
        yield np.fromiter(islice(times, CHUNK), float)


def _poisson_chunks(
    rate: float, rng: np.random.Generator, until: float, most: int
) -> Iterator[np.ndarray]:
    """The Poisson instants in whole batches of CHUNK draws, as many at once as reaching
    ``until`` is expected to take, plus 1 % (at most ``most``, at least one batch): the
    same draws, in the same order, as :func:`_poisson`'s batches, in fewer calls."""
    # np.cumsum adds in order, as _poisson's running sum does: the same floats
    t = 0.0
    while True:
        batches = math.ceil((until - t) * rate * 1.01 / CHUNK)
        count = CHUNK * max(1, min(batches, most // CHUNK))
        times = np.cumsum(np.concatenate(([t], rng.exponential(1.0 / rate, count))))[1:]
        t = float(times[-1])
        yield times


def _count(start: int, step: int = 1) -> Iterator[int]:
    k = start
    while True:
        yield k
        k += step


def _poisson(rate: float, rng: np.random.Generator) -> Iterator[float]:
    t = 0.0
    while True:
        for gap in rng.exponential(1.0 / rate, CHUNK).tolist():
            t += gap
            yield t


def _level(t: float, corners: list[tuple[float, float]]) -> float:
    """Piecewise-linear base level through ``corners``; at a step's time the later wins."""
    index = bisect_right([c[0] for c in corners], t) - 1
    if index < 0:
        return corners[0][1]
    if index == len(corners) - 1:
        return corners[-1][1]
    t0, r0 = corners[index]  # two statements: Cython cannot compile the nested unpacking
    t1, r1 = corners[index + 1]
    return r0 + (r1 - r0) * (t - t0) / (t1 - t0)


class RateProfile:
    """The rate of a profile at any time: a piecewise-linear base times spikes and sines."""

    def __init__(self, spec: ProfileArrivals) -> None:
        self.spikes = [c for c in spec.changes if isinstance(c, Spike)]
        self.sines = [c for c in spec.changes if isinstance(c, Sine)]
        corners = [(0.0, spec.rate)]
        for change in spec.level_changes:
            if isinstance(change, Step):
                corners += [(change.at, _level(change.at, corners)), (change.at, change.rate)]
            else:
                corners += [
                    (change.start, _level(change.start, corners)),
                    (change.end, change.rate),
                ]
        self.corners = corners

    def rate(self, t: float) -> float:
        """Requests per second at time ``t``."""
        value = _level(t, self.corners)
        for spike in self.spikes:
            if spike.start <= t < spike.stop:
                value *= spike.factor
        for sine in self.sines:
            value *= 1 + sine.amplitude * math.sin(2 * math.pi * (t + sine.phase) / sine.period)
        return value

    def constant_over(self, start: float) -> float | None:
        """The rate over the piece of :meth:`pieces` that begins at ``start`` if it is the
        same float at every time in it (no sine, a flat level), else None."""
        if self.sines:
            return None
        # no corner or spike edge falls inside a piece: one segment of the level, one set
        # of spikes, and a level between equal corners is exactly that corner's rate
        corners = self.corners
        index = bisect_right([c[0] for c in corners], start) - 1
        if index + 1 < len(corners) and corners[index + 1][1] != corners[index][1]:
            return None
        return self.rate(start)

    def pieces(self) -> Iterator[tuple[float, float, float]]:
        """(start, end, upper bound of the rate) for consecutive pieces of time, the last
        one open-ended."""
        edges = {
            0.0,
            *(t for t, _ in self.corners),
            *(s.start for s in self.spikes),
            *(s.stop for s in self.spikes),
        }
        times = sorted(edges)
        sine_bound = math.prod(1 + s.amplitude for s in self.sines)
        for start, end in zip(times, [*times[1:], math.inf], strict=True):
            inside = end if math.isfinite(end) else start
            levels = (
                _level(start, self.corners),
                _level(
                    math.nextafter(inside, -math.inf) if inside > start else start, self.corners
                ),
            )
            factor = math.prod(s.factor for s in self.spikes if s.start <= start < s.stop)
            yield start, end, max(levels) * factor * sine_bound


def _profile(profile: RateProfile, rng: np.random.Generator) -> Iterator[float]:
    """Thinning (Lewis and Shedler) piece by piece, each piece with its own rate bound.
    A piece whose rate is constant compares with that constant instead of computing the
    rate at every candidate: the same comparisons, so the same arrivals."""
    for start, end, bound in profile.pieces():
        if bound <= 0:
            continue
        flat = profile.constant_over(start)
        t = start
        while True:
            gaps = rng.exponential(1.0 / bound, CHUNK).tolist()
            keep = rng.random(CHUNK).tolist()
            for gap, u in zip(gaps, keep, strict=True):
                t += gap
                if t >= end:
                    break
                if u * bound < (profile.rate(t) if flat is None else flat):
                    yield t
            else:
                continue
            break


def _bursty(spec: BurstyArrivals, rng: np.random.Generator) -> Iterator[float]:
    """On/off MMPP: Poisson at rate x burst_factor while on, silent while off."""
    on_rate = spec.rate * spec.burst_factor
    mean_on = spec.burst_duration
    mean_off = mean_on * (spec.burst_factor - 1)  # so the on-fraction is 1 / burst_factor
    t = 0.0
    on = rng.random() < 1 / spec.burst_factor
    while True:
        length = rng.exponential(mean_on if on else mean_off)
        if on:
            s = t + rng.exponential(1 / on_rate)
            while s < t + length:
                yield s
                s += rng.exponential(1 / on_rate)
        t += length
        on = not on


def load_trace(path: str) -> np.ndarray:
    """Arrival timestamps from a CSV: one number per line, or a column named ``time``."""
    with open(path) as handle:
        first = handle.readline().strip()
    try:
        float(first.split(",")[0])
        header = False
    except ValueError:
        header = True
    if header:
        names = [n.strip() for n in first.split(",")]
        column = names.index("time") if "time" in names else 0
        times = np.loadtxt(path, delimiter=",", skiprows=1, usecols=column, ndmin=1)
    else:
        times = np.loadtxt(path, delimiter=",", usecols=0, ndmin=1)
    return np.sort(times - times.min())


def _trace(spec: TraceArrivals) -> Iterator[float]:
    times = load_trace(spec.file) * spec.time_scale
    if times.size == 0:
        return
    span = float(times[-1]) + (float(np.diff(times).mean()) if times.size > 1 else 1.0)
    offset = 0.0
    while True:
        for t in times.tolist():
            yield offset + t
        if not spec.loop:
            return
        offset += span
