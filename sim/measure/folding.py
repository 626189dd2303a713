"""Bounded memory at any run length: a recorder's raw records, folded into histograms.

A recorder keeps one record per request (completion time, latency, class; refusal and
failure times) while there are fewer than :data:`FOLD_AT`: every figure is then exact.
Past that it folds them, batch by batch, into what the metrics need: per class the log
histogram of counted latencies (0.14 % buckets, each with its smallest and largest value)
with their exact count, sum and maximum, and per time bin the counts and a latency
histogram for the p99 series. Counts and means stay exact; percentiles are read from the
histograms, within a bucket (0.14 %) of the exact ones, and the p99 series from coarser
per-bin histograms.
"""

from __future__ import annotations

import math
from array import array
from typing import Any

import numpy as np

from sim import outcomes
from sim.measure.stats import (
    BUCKETS_PER_DOUBLING,
    Histogram,
    buckets,
    coarser,
    histogram,
    merge,
    percentile,
)

FOLD_AT = 1 << 18
"""Raw records a recorder holds before it folds them (about 7 MB per recorder)."""

GATHER = 1 << 12
"""Records a recorder gathers in a list before it packs them into its arrays (at most;
fewer where FOLD_AT comes sooner). Appending to a list is a fraction of appending to an
array, which parses each value as a format; a short list costs little memory."""


def pack(store: array[Any], gathered: list[Any]) -> None:
    """Append the records ``gathered`` (a list) to ``store`` (an array of their type), in
    order, and empty the list (``fromlist`` converts each as numpy would, in a third less
    time)."""
    if gathered:
        store.fromlist(gathered)
        gathered.clear()


BIN_BUCKETS_PER_DOUBLING = 32
"""The p99 series' per-bin histograms are coarser (2.2 % buckets): a plotted line, and
there may be thousands of bins."""


def per_bin(times: np.ndarray, edges: np.ndarray, before: float = math.inf) -> np.ndarray:
    """How many of ``times`` (those before ``before``) fall in each bin
    ``[edges[i], edges[i + 1])``, as ``np.histogram`` counts them, without sorting."""
    times = times[times < before]
    index = np.searchsorted(edges, times, side="right") - 1
    nbins = edges.size - 1
    return np.bincount(index[(index >= 0) & (index < nbins)], minlength=nbins)


def per_bin_by_reason(
    times: np.ndarray, reasons: np.ndarray, edges: np.ndarray, before: float
) -> np.ndarray:
    """Refusals per bin, one row per reason (an index into outcomes.REJECTIONS)."""
    return np.array(
        [
            per_bin(times[reasons == index], edges, before)
            for index in range(len(outcomes.REJECTIONS))
        ]
    )


class Folded:
    """Everything a recorder measures, from records folded so far."""

    def __init__(self, warmup: float, horizon: float, edges: np.ndarray, classes: int) -> None:
        self.warmup, self.horizon, self.edges = warmup, horizon, edges
        nbins = edges.size - 1
        self.latency: list[list[Histogram]] = [[] for _ in range(classes)]  # counted requests
        self.latency_sum = [0.0] * classes
        self.latency_count = [0] * classes
        self.latency_max = [-math.inf] * classes
        self.in_window = [0] * classes  # completions in [warmup, horizon)
        self.completions = np.zeros(nbins, dtype=np.int64)  # completions before the horizon
        self.bin_latency: list[list[Histogram]] = [[] for _ in range(nbins)]
        self.late = np.zeros(nbins, dtype=np.int64)  # completions nobody waited for
        self.failures = np.zeros(nbins, dtype=np.int64)
        self.refused = np.zeros((len(outcomes.REJECTIONS), nbins), dtype=np.int64)

    def add_completions(self, done_at: np.ndarray, latency: np.ndarray, cls: np.ndarray) -> None:
        """Fold completed requests (in completion order, which is time order)."""
        arrived = done_at - latency
        counted = (arrived >= self.warmup) & (arrived < self.horizon)
        in_window = (done_at >= self.warmup) & (done_at < self.horizon)
        fine = buckets(latency)  # each latency's bucket, for both resolutions
        for index in range(len(self.latency)):
            mine = cls == index
            chosen = mine & counted
            picked = latency[chosen]
            if picked.size:
                hist = histogram(picked, index=fine[chosen])
                self.latency[index] = [merge([*self.latency[index], hist])]
                self.latency_sum[index] += float(picked.sum())
                self.latency_count[index] += picked.size
                self.latency_max[index] = max(self.latency_max[index], float(picked.max()))
            self.in_window[index] += int((mine & in_window).sum())
        # [edges[i], edges[i + 1]) holds the completions from the i-th bound to the next,
        # those before the horizon: per_bin's count, without a search per completion
        early = np.searchsorted(done_at, self.horizon)
        bounds = np.minimum(np.searchsorted(done_at, self.edges), early)
        self.completions += np.diff(bounds)
        coarse = coarser(fine, BUCKETS_PER_DOUBLING // BIN_BUCKETS_PER_DOUBLING)
        for i in np.flatnonzero(np.diff(bounds)):
            a, b = bounds[i], bounds[i + 1]
            chunk = histogram(latency[a:b], BIN_BUCKETS_PER_DOUBLING, index=coarse[a:b])
            self.bin_latency[i] = [merge([*self.bin_latency[i], chunk])]

    def add_late(self, times: np.ndarray) -> None:
        """Fold completions whose caller had stopped waiting."""
        self.late += per_bin(times, self.edges, self.horizon)

    def add_failures(self, times: np.ndarray) -> None:
        """Fold timeouts, errors and callees' failures."""
        self.failures += per_bin(times, self.edges, self.horizon)

    def add_refusals(self, times: np.ndarray, reasons: np.ndarray) -> None:
        """Fold refusals, by reason (an index into outcomes.REJECTIONS)."""
        self.refused += per_bin_by_reason(times, reasons, self.edges, self.horizon)

    def latency_histogram(self, cls: int | None = None) -> Histogram:
        """The counted latencies of one class, or of all."""
        chosen = self.latency if cls is None else [self.latency[cls]]
        return merge([h for histograms in chosen for h in histograms])

    def latency_metrics(self, cls: int | None, percentiles: dict[str, float]) -> dict[str, float]:
        """Mean and percentiles of the counted latencies of one class, or of all."""
        classes = range(len(self.latency)) if cls is None else [cls]
        count = sum(self.latency_count[i] for i in classes)
        if count == 0:
            return {"latency_mean": math.nan, **dict.fromkeys(percentiles, math.nan)}
        hist = self.latency_histogram(cls)
        return {
            "latency_mean": sum(self.latency_sum[i] for i in classes) / count,
            **{name: percentile(hist, q) for name, q in percentiles.items()},
        }

    def bin_p99(self) -> np.ndarray:
        """The p99 latency of the completions in each time bin (NaN where there are none)."""
        return np.array([percentile(merge(h), 99) if h else math.nan for h in self.bin_latency])
