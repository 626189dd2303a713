"""Choosing the warm-up: MSER-5 on the replications' time series (``warmup: auto``).

MSER (White, 1997; the marginal standard error rule) truncates the start of an output
series where doing so minimises the standard error of the mean of what is left; MSER-5
applies it to means of batches of five observations, and searches the first half only.
"""

from __future__ import annotations

import numpy as np

BATCH = 5
"""Observations per batch: MSER-5."""


def mser5(series: np.ndarray) -> int:
    """How many leading observations of ``series`` to drop (a multiple of 5)."""
    values = np.asarray(series, dtype=float)
    values = values[: values.size - values.size % BATCH]
    if values.size < 2 * BATCH:
        return 0
    batches = values.reshape(-1, BATCH).mean(axis=1)
    m = batches.size
    best, best_score = 0, np.inf
    # suffix sums give every truncation point's statistic in one pass
    tail_sum = np.cumsum(batches[::-1])[::-1]
    tail_sq = np.cumsum((batches**2)[::-1])[::-1]
    for d in range(m // 2 + 1):
        n = m - d
        mean = tail_sum[d] / n
        score = (tail_sq[d] - n * mean**2) / n**2
        if score < best_score - 1e-15 * abs(best_score if np.isfinite(best_score) else 1.0):
            best, best_score = d, score
    return best * BATCH
