"""Fit a work (or latency) distribution to observations and choose among the candidates.

The criterion is the tail: a capacity model is read at p99, so each candidate is judged by
the share of requests it predicts slower than each observed percentile (p50, p90, p99,
p99.9, as far as the data reach: at least MIN_BEYOND samples beyond one), against the
share observed; its score is the worst relative error of those shares. Shares, not
latencies: between a fast and a slow path a percentile can sit in a gap where any latency
in the gap is as right as another, while the share beyond it is well defined. The
simplest candidate within TIE of the best is chosen (a lognormal before a mixture only a
little closer). With samples, the empirical distribution (the samples themselves) is
chosen when no family comes within EMPIRICAL_BELOW.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.calibrate import families
from sim.calibrate.families import Fitted
from sim.calibrate.observed import Histogram, ObservationError

JUDGED = (0.5, 0.9, 0.99, 0.999)
"""The percentiles a fit is judged by (those the observations reach)."""

TIE = 0.05
"""A simpler family within this much worst-case relative error of the best is preferred."""

EMPIRICAL_BELOW = 0.25
"""With samples, the empirical distribution is chosen when every family misses by more."""

MIN_BEYOND = 100
"""A sample percentile is judged only with at least this many samples beyond it (the
share beyond it is then known to about 10 %)."""


@dataclass
class Candidate:
    """One fitted family with its tail errors: per judged percentile, the share of requests
    it predicts slower than the observed one over the share observed, minus one."""

    fitted: Fitted
    errors: dict[float, float]

    @property
    def family(self) -> str:
        """lognormal, gamma, mixture or empirical."""
        return self.fitted.family

    @property
    def worst(self) -> float:
        """The largest absolute relative error over the judged percentiles."""
        return max(abs(e) for e in self.errors.values()) if self.errors else math.inf


@dataclass
class Fit:
    """Every candidate, the chosen one and why, and what it was fitted to."""

    source: str
    observed: dict[float, float]
    candidates: list[Candidate]
    chosen: Candidate
    reason: str
    ks: float | None = None  # Kolmogorov-Smirnov distance to the samples, if any
    samples: np.ndarray | None = field(default=None, repr=False)
    histogram: Histogram | None = field(default=None, repr=False)

    @property
    def spec(self) -> dict[str, Any]:
        """The chosen distribution as a model's spec."""
        return self.chosen.fitted.spec


def fit_samples(samples: np.ndarray, source: str = "samples") -> Fit:
    """Fit lognormal, gamma and a two-lognormal mixture by maximum likelihood."""
    x = np.asarray(samples, dtype=float)
    if x.size < 2 or not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ObservationError("need at least two finite samples >= 0")
    reach = [q for q in JUDGED if x.size * (1 - q) >= MIN_BEYOND] or [0.5]
    values = np.quantile(x, reach)
    observed = dict(zip(reach, values.tolist(), strict=True))
    beyond = [float(np.mean(x > v)) for v in values]
    points = list(zip(reach, values.tolist(), beyond, strict=True))
    fitted = [families.lognormal_from_samples(x), families.gamma_from_samples(x)]
    if x.size >= 50:
        fitted.append(families.mixture_from_samples(x))
    candidates = [_judge(f, points) for f in fitted]
    chosen, reason = _choose(candidates)
    if chosen.worst > EMPIRICAL_BELOW and x.size >= MIN_BEYOND:
        empirical = _judge(families.empirical(x), points)
        reason = (
            f"every family misses the share beyond a percentile by more than "
            f"{EMPIRICAL_BELOW:.0%} (best {chosen.family}: {chosen.worst:.1%}): the samples "
            "themselves"
        )
        candidates.append(empirical)
        chosen = empirical
    ks = float(np.max(np.abs(chosen.fitted.cdf(np.sort(x)) - (np.arange(x.size) + 1) / x.size)))
    return Fit(source, observed, candidates, chosen, reason, ks=ks, samples=x)


def fit_percentiles(percentiles: dict[float, float], source: str = "percentiles") -> Fit:
    """Fit lognormal and gamma to a few percentiles (two determine a lognormal exactly)."""
    q = np.array(sorted(percentiles))
    v = np.array([percentiles[k] for k in q])
    fitted = [families.lognormal_from_percentiles(q, v), families.gamma_from_percentiles(q, v)]
    points = [(qi, vi, 1 - qi) for qi, vi in zip(q.tolist(), v.tolist(), strict=True)]
    candidates = [_judge(f, points) for f in fitted]
    chosen, reason = _choose(candidates)
    return Fit(source, dict(zip(q.tolist(), v.tolist(), strict=True)), candidates, chosen, reason)


def fit_histogram(histogram: Histogram, source: str = "histogram") -> Fit:
    """Fit lognormal, gamma and a mixture to bucket counts by binned maximum likelihood.
    Judged at bucket bounds, where the share beyond is exact: for each percentile, the
    first bound the percentile does not exceed. The percentiles shown are Prometheus's
    histogram_quantile of the buckets."""
    total, bounds, counts = histogram.total, histogram.bounds, histogram.counts
    points = []
    for q in JUDGED:
        index = int(np.searchsorted(counts, q * total, side="left"))
        beyond = 1 - counts[min(index, len(counts) - 1)] / total
        if index < len(bounds) and math.isfinite(bounds[index]) and beyond * total >= 1:
            points.append((q, float(bounds[index]), float(beyond)))
    if not points:
        raise ObservationError("the buckets are too coarse to judge any percentile")
    observed = {q: histogram.quantile(q) for q, _, _ in points}
    fitted = [families.from_histogram(histogram, f) for f in ("lognormal", "gamma", "mixture")]
    candidates = [_judge(f, points) for f in fitted]
    chosen, reason = _choose(candidates)
    return Fit(source, observed, candidates, chosen, reason, histogram=histogram)


def _judge(fitted: Fitted, points: list[tuple[float, float, float]]) -> Candidate:
    """``points``: (percentile, latency, share observed beyond that latency)."""
    latencies = np.array([x for _, x, _ in points])
    predicted = 1 - fitted.cdf(latencies)
    errors = {
        q: float(p / share - 1) if share > 0 else math.inf
        for (q, _, share), p in zip(points, predicted, strict=True)
    }
    return Candidate(fitted, errors)


def _choose(candidates: list[Candidate]) -> tuple[Candidate, str]:
    best = min(candidates, key=lambda c: c.worst)
    simple = min(
        (c for c in candidates if c.worst <= best.worst + TIE),
        key=lambda c: (c.fitted.parameters, c.worst),
    )
    if simple is best:
        return best, f"closest at the judged percentiles (worst error {best.worst:.1%})"
    return simple, (
        f"within {TIE:.0%} of the closest ({best.family}, {best.worst:.1%}) with fewer "
        f"parameters (worst error {simple.worst:.1%})"
    )
