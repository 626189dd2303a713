"""The candidate distributions, each fitted to samples (maximum likelihood), to percentiles
(least squares on log quantiles) and to a histogram (binned maximum likelihood), and each
written back as a model's distribution spec."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats

from sim.calibrate.observed import Histogram

_TINY = 1e-12


@dataclass(frozen=True)
class Fitted:
    """A fitted candidate: its family, its quantile function and its spec for a model."""

    family: str
    quantile: Callable[[np.ndarray], np.ndarray]
    cdf: Callable[[np.ndarray], np.ndarray]
    spec: dict[str, Any]
    parameters: int


# --- lognormal --------------------------------------------------------------------------


def _lognormal(mu: float, sigma: float) -> Fitted:
    law = stats.lognorm(s=sigma, scale=math.exp(mu))
    p50, p99 = math.exp(mu), math.exp(mu + 2.3263478740408408 * sigma)
    return Fitted("lognormal", law.ppf, law.cdf, _spec("lognormal", p50=p50, p99=p99), 2)


def lognormal_from_samples(x: np.ndarray) -> Fitted:
    """Maximum likelihood: the mean and standard deviation of log x."""
    logs = np.log(np.maximum(x, _TINY))
    return _lognormal(float(logs.mean()), max(float(logs.std()), 1e-6))


def lognormal_from_percentiles(q: np.ndarray, v: np.ndarray) -> Fitted:
    """log v = mu + sigma z(q): a straight line through the points (exact for two)."""
    z = stats.norm.ppf(q)
    sigma, mu = np.polyfit(z, np.log(v), 1)
    return _lognormal(float(mu), max(float(sigma), 1e-6))


# --- gamma ------------------------------------------------------------------------------


def _gamma(shape: float, scale: float) -> Fitted:
    law = stats.gamma(a=shape, scale=scale)
    mean, cv = shape * scale, 1 / math.sqrt(shape)
    return Fitted("gamma", law.ppf, law.cdf, _spec("gamma", mean=mean, cv=cv), 2)


def gamma_from_samples(x: np.ndarray) -> Fitted:
    """Maximum likelihood with the location at zero."""
    shape, _, scale = stats.gamma.fit(np.maximum(x, _TINY), floc=0)
    return _gamma(float(shape), float(scale))


def gamma_from_percentiles(q: np.ndarray, v: np.ndarray) -> Fitted:
    """The shape and scale whose quantiles are nearest the given ones, in log terms."""

    def misfit(p: np.ndarray) -> float:
        shape, scale = np.exp(p)
        fitted = stats.gamma.ppf(q, a=shape, scale=scale)
        return float(np.sum((np.log(np.maximum(fitted, _TINY)) - np.log(v)) ** 2))

    start = np.log([1.0, float(np.interp(0.5, q, v))])
    best = optimize.minimize(misfit, start, method="Nelder-Mead")
    shape, scale = np.exp(best.x)
    return _gamma(float(shape), float(scale))


# --- a mixture of two lognormals (a fast path and a slow path) --------------------------


def _mixture(weight: float, mu: tuple[float, float], sigma: tuple[float, float]) -> Fitted:
    def cdf(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        parts = [
            stats.lognorm.cdf(x, s=s, scale=math.exp(m)) for m, s in zip(mu, sigma, strict=True)
        ]
        return np.asarray(weight * parts[0] + (1 - weight) * parts[1])

    def quantile(q: np.ndarray) -> np.ndarray:
        q = np.atleast_1d(np.asarray(q, dtype=float))
        low = min(math.exp(m - 12 * s) for m, s in zip(mu, sigma, strict=True))
        high = max(math.exp(m + 12 * s) for m, s in zip(mu, sigma, strict=True))
        out = np.empty_like(q)
        for i, target in enumerate(q):
            out[i] = optimize.brentq(
                lambda x, t=target: float(cdf(np.array([x]))[0]) - t, low, high
            )
        return out

    components = [
        {
            "weight": round(w, 4),
            **_spec("lognormal", p50=math.exp(m), p99=math.exp(m + 2.3263478740408408 * s)),
        }
        for w, m, s in zip((weight, 1 - weight), mu, sigma, strict=True)
    ]
    return Fitted(
        "mixture", quantile, cdf, {"distribution": "mixture", "components": components}, 5
    )


def mixture_from_samples(x: np.ndarray, rounds: int = 200) -> Fitted:
    """Expectation-maximisation on log x for two normal components."""
    logs = np.log(np.maximum(x, _TINY))
    low, high = np.percentile(logs, [25, 90])
    mu = np.array([low, high])
    sigma = np.full(2, max(float(logs.std()) / 2, 1e-3))
    weight = np.array([0.5, 0.5])
    for _ in range(rounds):
        density = weight * stats.norm.pdf(logs[:, None], mu, sigma) + 1e-300
        share = density / density.sum(axis=1, keepdims=True)
        weight = share.mean(axis=0)
        mu = (share * logs[:, None]).sum(axis=0) / share.sum(axis=0)
        sigma = np.sqrt((share * (logs[:, None] - mu) ** 2).sum(axis=0) / share.sum(axis=0))
        sigma = np.maximum(sigma, 1e-3)
    order = np.argsort(mu)
    return _mixture(float(weight[order[0]]), tuple(mu[order]), tuple(sigma[order]))


# --- from a histogram: binned maximum likelihood ----------------------------------------


def from_histogram(histogram: Histogram, family: str) -> Fitted:
    """The candidate of ``family`` that makes the observed bucket counts most likely."""
    bounds, counts = histogram.bounds, histogram.counts
    in_bucket = np.diff(np.concatenate(([0.0], counts)))
    finite = bounds[np.isfinite(bounds)]
    median = histogram.quantile(0.5)
    median = median if math.isfinite(median) else float(finite[-1])

    def loglik(cdf: Callable[[np.ndarray], np.ndarray]) -> float:
        edges = np.concatenate(([0.0], cdf(np.minimum(bounds, 1e300))))
        edges[-1] = 1.0 if math.isinf(bounds[-1]) else edges[-1]
        p = np.maximum(np.diff(edges), 1e-300)
        return float(np.sum(in_bucket * np.log(p)))

    if family == "lognormal":
        best = optimize.minimize(
            lambda p: -loglik(stats.lognorm(s=math.exp(p[1]), scale=math.exp(p[0])).cdf),
            [math.log(median), math.log(0.8)],
            method="Nelder-Mead",
        )
        return _lognormal(float(best.x[0]), math.exp(best.x[1]))
    if family == "gamma":
        best = optimize.minimize(
            lambda p: -loglik(stats.gamma(a=math.exp(p[0]), scale=math.exp(p[1])).cdf),
            [0.0, math.log(median)],
            method="Nelder-Mead",
        )
        return _gamma(math.exp(best.x[0]), math.exp(best.x[1]))
    if family == "mixture":
        start = np.array(
            [0.0, math.log(median) - 0.5, math.log(0.5), math.log(median) + 1.5, math.log(0.5)]
        )

        def mixed(p: np.ndarray) -> float:
            weight = 1 / (1 + math.exp(-p[0]))
            law = _mixture(weight, (p[1], p[3]), (math.exp(p[2]), math.exp(p[4])))
            return -loglik(law.cdf)

        best = optimize.minimize(mixed, start, method="Nelder-Mead", options={"maxiter": 4000})
        p = best.x
        weight = 1 / (1 + math.exp(-p[0]))
        mus, sigmas = (p[1], p[3]), (math.exp(p[2]), math.exp(p[4]))
        if mus[0] > mus[1]:
            weight, mus, sigmas = 1 - weight, mus[::-1], sigmas[::-1]
        return _mixture(
            weight, (float(mus[0]), float(mus[1])), (float(sigmas[0]), float(sigmas[1]))
        )
    raise ValueError(f"no histogram fit for {family}")


# --- empirical --------------------------------------------------------------------------

EMPIRICAL_POINTS = 1000
"""An empirical fit keeps this many evenly spaced quantiles of the samples."""


def empirical(x: np.ndarray) -> Fitted:
    """The samples themselves (at most EMPIRICAL_POINTS of their quantiles), resampled."""
    kept = np.quantile(
        x, (np.arange(min(EMPIRICAL_POINTS, x.size)) + 0.5) / min(EMPIRICAL_POINTS, x.size)
    )
    ordered = np.sort(kept)

    def cdf(v: np.ndarray) -> np.ndarray:
        return np.searchsorted(ordered, v, side="right") / ordered.size

    def quantile(q: np.ndarray) -> np.ndarray:
        return np.asarray(np.quantile(x, q))

    spec = {"distribution": "empirical", "samples": [float(f"{v:.6g}") for v in ordered]}
    return Fitted("empirical", quantile, cdf, spec, ordered.size)


def _spec(distribution: str, **fields: float) -> dict[str, Any]:
    return {"distribution": distribution, **{k: float(f"{v:.4g}") for k, v in fields.items()}}
