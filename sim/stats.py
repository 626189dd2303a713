"""Across-replication statistics: means with Student-t confidence intervals."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


def t_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and the two-sided Student-t interval of the mean of independent ``values``.

    NaNs (a replication where the metric did not exist, e.g. no completions) are left out.
    With one value the interval is (nan, nan); with zero spread it collapses to the mean.
    """
    sample = np.asarray(values, dtype=float)
    sample = sample[~np.isnan(sample)]
    n = sample.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(sample.mean())
    if n == 1:
        return mean, math.nan, math.nan
    half = half_width(sample, confidence)
    return mean, mean - half, mean + half


def half_width(sample: np.ndarray, confidence: float = CONFIDENCE) -> float:
    """Half-width of the Student-t interval of the mean of ``sample`` (no NaNs, n >= 2)."""
    n = sample.size
    spread = float(sample.std(ddof=1))
    return float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * spread / math.sqrt(n)
