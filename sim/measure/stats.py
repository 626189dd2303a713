"""Across-replication statistics: means with Student-t confidence intervals."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

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
    return t_quantile(confidence, n - 1) * spread / math.sqrt(n)


@functools.lru_cache(maxsize=256)
def t_quantile(confidence: float, dof: int) -> float:
    """The two-sided Student-t quantile for ``confidence`` with ``dof`` degrees of freedom."""
    return float(t_quantiles(confidence, np.asarray(dof)))


def t_quantiles(confidence: float, dofs: Any) -> Any:
    """:func:`t_quantile` of each of ``dofs`` (an array or Series; NaN where a count of
    degrees of freedom is below one). ``scipy.stats.t.ppf``'s own function, from
    ``scipy.special``, which loads in a quarter of the time ``scipy.stats`` takes."""
    from scipy import special  # imported when first needed: it is slow to import

    return special.stdtrit(dofs, 0.5 + confidence / 2)


# --- latency histograms and pooled quantiles ------------------------------------------------

BUCKETS_PER_DOUBLING = 512
"""Log-scale histogram resolution: a bucket spans 0.14 % of its value."""

_ZERO = np.iinfo(np.int32).min  # the bucket of zero latencies

Histogram = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""A compact latency sample: sorted bucket indices (int32), their counts (int64), and the
smallest and largest value in each bucket (so a constant latency is reported exactly)."""


def histogram(
    values: np.ndarray, per_doubling: int = BUCKETS_PER_DOUBLING, index: np.ndarray | None = None
) -> Histogram:
    """The log-scale histogram of non-negative ``values``, ``per_doubling`` buckets in each
    power of two (only histograms of one resolution merge); ``index``, if given, is their
    :func:`buckets` at that resolution, computed once for several histograms."""
    values = np.asarray(values, dtype=float)
    if index is None:
        index = buckets(values, per_doubling)
    zero = index == _ZERO
    zeros = int(np.count_nonzero(zero))
    if zeros:
        first_zero = values[zero][:1] * 0
        index, values = index[~zero], values[~zero]
    parts = [_dense(index, values)] if values.size else []
    if zeros:
        parts.insert(0, (np.array([_ZERO]), np.array([zeros]), first_zero, first_zero))
    if not parts:
        return np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0), np.empty(0)
    if len(parts) == 1:
        used, counts, lows, highs = parts[0]
    else:
        used, counts, lows, highs = (np.concatenate(column) for column in zip(*parts, strict=True))
    return used.astype(np.int32), counts.astype(np.int64), lows, highs


def buckets(values: np.ndarray, per_doubling: int = BUCKETS_PER_DOUBLING) -> np.ndarray:
    """Each of ``values``' bucket in a :func:`histogram` of ``per_doubling`` buckets per
    power of two (a bucket of its own for zero)."""
    positive = values > 0
    if positive.all():
        scaled = np.log2(values)  # in place from here: large temporaries cost page faults
        scaled *= per_doubling
        index: np.ndarray = np.floor(scaled, out=scaled).astype(np.int64)
        return index
    index = np.full(values.size, _ZERO, dtype=np.int64)
    index[positive] = np.floor(np.log2(values[positive]) * per_doubling)
    return index


def coarser(index: np.ndarray, factor: int) -> np.ndarray:
    """:func:`buckets` ``index`` at ``factor`` (a power of two) times fewer buckets per
    doubling, exactly as computed from the values: scaling a logarithm by a power of two
    is exact, and ``floor(floor(16 x) / 16)`` is ``floor(x)``."""
    shifted = index >> (factor.bit_length() - 1)
    zero = index == _ZERO
    if zero.any():
        shifted[zero] = _ZERO
    return shifted


def count_buckets(
    offset: np.ndarray, values: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bucket ``0 .. size - 1``: how many of ``values`` fall in it (their bucket is
    ``offset``), the smallest and the largest (inf and -inf where none do)."""
    counts = np.bincount(offset, minlength=size)
    lows = np.full(size, np.inf)
    np.minimum.at(lows, offset, values)
    highs = np.full(size, -np.inf)
    np.maximum.at(highs, offset, values)
    return counts, lows, highs


_count_buckets = count_buckets


def count_buckets_with(counter: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """Count every histogram's buckets with ``counter``, a drop-in for :func:`count_buckets`
    (the fast path registers its compiled one, a single pass instead of three, once its
    kernels are loaded: numpy's would not need numba loaded to summarise a short run)."""
    global _count_buckets
    _count_buckets = counter


def _dense(index: np.ndarray, values: np.ndarray) -> Histogram:
    """Buckets, counts, lows and highs of ``values`` in buckets ``index``, without sorting:
    counted over the range of buckets the values occupy."""
    first = int(index.min())
    offset = index - first
    size = int(offset.max()) + 1
    counts, lows, highs = _count_buckets(offset, values, size)
    used = np.flatnonzero(counts)
    return used + first, counts[used], lows[used], highs[used]


def merge(histograms: list[Histogram]) -> Histogram:
    """The histogram of all the samples together."""
    if not histograms:
        return histogram(np.empty(0))
    buckets = np.concatenate([h[0] for h in histograms])
    merged, where = np.unique(buckets, return_inverse=True)
    counts = np.zeros(merged.size, np.int64)
    np.add.at(counts, where, np.concatenate([h[1] for h in histograms]))
    lows = np.full(merged.size, np.inf)
    np.minimum.at(lows, where, np.concatenate([h[2] for h in histograms]))
    highs = np.full(merged.size, -np.inf)
    np.maximum.at(highs, where, np.concatenate([h[3] for h in histograms]))
    return merged.astype(np.int32), counts, lows, highs


def quantile(hist: Histogram, q: float) -> float:
    """The ``q``-quantile (0..1) of a histogram, interpolated within its bucket between the
    bucket's smallest and largest value; NaN if empty."""
    _, counts, lows, highs = hist
    total = int(counts.sum())
    if total == 0:
        return math.nan
    rank = q * total
    cumulative = np.cumsum(counts)
    i = min(int(np.searchsorted(cumulative, rank)), len(counts) - 1)
    before = cumulative[i - 1] if i else 0
    within = min(max((rank - before) / counts[i], 0.0), 1.0)
    return float(lows[i] + within * (highs[i] - lows[i]))


def order_statistics(
    values: np.ndarray, ks: Sequence[int], hist: Histogram | None = None
) -> dict[int, float]:
    """The ``k``-th smallest of ``values`` (0-based) for each ``k`` in ``ks``, exactly.

    With ``hist``, the sample's own :func:`histogram`, the sample is not partitioned
    whole: each order statistic lies in the bucket whose running count passes its rank,
    and a bucket's values are those between its smallest and largest, so only they are
    partitioned. The histogram is only a hint: counting the values below and inside the
    bucket proves the rank lies inside it, and where it does not (a histogram of another
    sample) the whole sample is partitioned instead.
    """
    wanted = sorted(set(ks))
    if hist is None or values.size < HISTOGRAM_SELECT or not wanted:
        part = np.partition(values, wanted) if wanted else values
        return {k: float(part[k]) for k in wanted}
    _, counts, lows, highs = hist
    ends = np.cumsum(counts)  # values in this bucket and the ones below it
    buckets: dict[int, list[int]] = {}
    for k in wanted:
        buckets.setdefault(int(np.searchsorted(ends, k, side="right")), []).append(k)
    out: dict[int, float] = {}
    for bucket, group in buckets.items():
        if bucket >= counts.size:
            return order_statistics(values, wanted)
        below = int(np.count_nonzero(values < lows[bucket]))
        inside = values[(values >= lows[bucket]) & (values <= highs[bucket])]
        if not below <= group[0] <= group[-1] < below + inside.size:
            return order_statistics(values, wanted)
        part = np.partition(inside, [k - below for k in group])
        out.update({k: float(part[k - below]) for k in group})
    return out


HISTOGRAM_SELECT = 16_384
"""Samples at least this large select their order statistics through their histogram."""


def sample_percentiles(
    values: np.ndarray, qs: Sequence[float], hist: Histogram | None = None
) -> list[float]:
    """``np.percentile(values, qs)`` to the last bit (its default, linear method) for a
    sample without NaNs: each from its two order statistics (:func:`order_statistics`,
    through ``hist``, the sample's histogram, when given), without numpy's per-call
    overhead, since the p99 series calls it once per time bin."""
    n = values.size
    spots = [(n - 1) * (q / 100) for q in qs]
    lows = {math.floor(spot) for spot in spots if spot < n - 1}
    order = order_statistics(values, [*lows, *(k + 1 for k in lows)], hist)
    out = []
    for spot in spots:
        if spot >= n - 1:
            out.append(float(values.max()))
            continue
        below = math.floor(spot)
        a, b = order[below], order[below + 1]
        gamma = spot - below
        diff = b - a
        out.append(float(b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma))
    return out


def sample_percentile(values: np.ndarray, q: float) -> float:
    """The ``q``-th percentile alone (see :func:`sample_percentiles`)."""
    return sample_percentiles(values, (q,))[0]


def percentile(hist: Histogram, q: float) -> float:
    """The ``q``-th percentile (0..100) of a histogram's sample as ``np.percentile`` defines
    it (linear between order statistics), each order statistic read from its bucket
    (spread evenly between the bucket's smallest and largest value); NaN if empty. Exact
    when no bucket holds more than two values, within a bucket's width otherwise."""
    _, counts, lows, highs = hist
    total = int(counts.sum())
    if total == 0:
        return math.nan
    cumulative = np.cumsum(counts)
    rank = q / 100 * (total - 1)
    below = math.floor(rank)

    def order_statistic(k: int) -> float:
        i = int(np.searchsorted(cumulative, k, side="right"))
        before = int(cumulative[i - 1]) if i else 0
        count = int(counts[i])
        if count == 1:
            return float(lows[i])
        return float(lows[i] + (k - before) / (count - 1) * (highs[i] - lows[i]))

    low = order_statistic(below)
    if rank == below:
        return low
    return low + (rank - below) * (order_statistic(min(below + 1, total - 1)) - low)


def sectioning_interval(
    pooled: float, values: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Interval around a quantile of the pooled sample from the replications' own estimates.

    Sectioning (Asmussen and Glynn, 2007; Nakayama, 2014): the point estimate is the
    quantile of every replication's requests together, whose bias shrinks with the total
    sample, and the spread of each replication's quantile around it gives the half-width
    with r - 1 degrees of freedom. The mean of per-replication quantiles, by contrast,
    keeps each replication's small-sample bias and misses low.
    """
    sample = np.asarray(values, dtype=float)
    sample = sample[~np.isnan(sample)]
    n = sample.size
    if n < 2 or math.isnan(pooled):
        return math.nan, math.nan
    spread = math.sqrt(float(((sample - pooled) ** 2).sum()) / (n - 1))
    half = t_quantile(confidence, n - 1) * spread / math.sqrt(n)
    return pooled - half, pooled + half
