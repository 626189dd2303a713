"""Samplers built from distribution specs, drawing from a numpy Generator in chunks.

Drawing one value at a time from numpy is slow; a sampler draws ``CHUNK`` values at once
and hands them out one by one. The sequence is the same whatever the chunk size, so a
component's stream does not depend on how it is consumed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any

import numpy as np

from sim.model.distributions import (
    Constant,
    DistributionSpec,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Mixture,
    Uniform,
    mean_of,
)

CHUNK = 4096

BatchFn = Callable[[np.random.Generator, int], np.ndarray]


def _exponential(spec: Exponential) -> BatchFn:
    mean = spec.mean
    return lambda rng, n: rng.exponential(mean, n)


def _constant(spec: Constant) -> BatchFn:
    value = spec.value
    return lambda rng, n: np.full(n, value)


def _uniform(spec: Uniform) -> BatchFn:
    low, high = spec.low, spec.high
    return lambda rng, n: rng.uniform(low, high, n)


def _lognormal(spec: Lognormal) -> BatchFn:
    mu, sigma = spec.mu_sigma
    return lambda rng, n: rng.lognormal(mu, sigma, n)


def _gamma(spec: Gamma) -> BatchFn:
    shape, scale = 1 / spec.cv**2, spec.mean * spec.cv**2
    return lambda rng, n: rng.gamma(shape, scale, n)


def _empirical(spec: Empirical) -> BatchFn:
    samples = np.asarray(spec.samples, dtype=float)
    return lambda rng, n: rng.choice(samples, n)


def _mixture(spec: Mixture) -> BatchFn:
    parts = [batch_function(c.spec) for c in spec.components]
    probabilities = np.asarray(spec.probabilities)

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        which = rng.choice(len(parts), size=n, p=probabilities)
        out = np.empty(n)
        for index, part in enumerate(parts):
            mask = which == index
            count = int(mask.sum())
            if count:
                out[mask] = part(rng, count)
        return out

    return draw


SAMPLERS: dict[type, Callable[[Any], BatchFn]] = {
    Exponential: _exponential,
    Constant: _constant,
    Uniform: _uniform,
    Lognormal: _lognormal,
    Gamma: _gamma,
    Empirical: _empirical,
    Mixture: _mixture,
}
"""Each distribution spec's batch sampler: a new distribution is a spec and an entry here."""


def batch_function(spec: DistributionSpec) -> BatchFn:
    """Return ``f(rng, n) -> n draws`` for a spec."""
    make = SAMPLERS.get(type(spec))
    if make is None:
        raise TypeError(f"no sampler for {type(spec).__name__}")
    return make(spec)


class Uniforms:
    """Uniform(0, 1) draws from a generator, in chunks; call it: ``uniform()``."""

    __slots__ = ("_buffer", "_rng")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._buffer: list[float] = []

    def __call__(self) -> float:
        """The next draw."""
        return self.draw()  # type: ignore[no-any-return]

    def draw(self) -> float:
        """The next draw (a C method to a build that types its Uniforms)."""
        if not self._buffer:
            self._buffer = self._rng.random(CHUNK).tolist()[::-1]
        return self._buffer.pop()  # type: ignore[no-any-return]


class Categorical:
    """Draws an index with the given weights (request classes, Zipf client keys)."""

    def __init__(self, weights: Sequence[float], uniform: Callable[[], float]) -> None:
        total = float(np.sum(weights))
        self._cdf = np.cumsum(np.asarray(weights, dtype=float) / total).tolist()
        self._last = len(self._cdf) - 1
        self._uniform = uniform

    def __call__(self) -> int:
        """The next index (always 0 when there is one category)."""
        if self._last == 0:
            return 0
        return min(bisect_right(self._cdf, self._uniform()), self._last)


class Sampler:
    """Draws one value at a time from a spec; call it: ``sampler()``."""

    __slots__ = ("_batch", "_it", "_rng", "mean")

    def __init__(self, spec: DistributionSpec, rng: np.random.Generator) -> None:
        self._batch = batch_function(spec)
        self._rng = rng
        self._it: Iterator[float] = iter(())
        self.mean = mean_of(spec)

    def __call__(self) -> float:
        """The next draw."""
        return self.draw()  # type: ignore[no-any-return]

    def draw(self) -> float:
        """The next draw (a C method to a build that types its Sampler)."""
        try:
            return next(self._it)
        except StopIteration:
            self._it = iter(self._batch(self._rng, CHUNK).tolist())
            return next(self._it)

    def take(self, n: int) -> np.ndarray:
        """The next ``n`` draws, exactly those ``n`` calls would return (the rest of the
        current chunk first, then whole chunks): a bulk consumer shares the stream."""
        head = list(islice(self._it, n))
        if len(head) == n:
            return np.asarray(head, dtype=float)
        missing = n - len(head)
        whole, rest = divmod(missing, CHUNK)
        parts = [np.asarray(head, dtype=float)]
        parts += [self._batch(self._rng, CHUNK) for _ in range(whole + (rest > 0))]
        if rest:
            last = parts[-1]
            parts[-1] = last[:rest]
            self._it = iter(last[rest:].tolist())
        return np.concatenate(parts)

    def many(self, n: int) -> np.ndarray:
        """``n`` fresh draws at once (not interleaved with single draws' buffer)."""
        return self._batch(self._rng, n)
