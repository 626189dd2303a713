"""Bounded memory: past FOLD_AT records a recorder folds them into histograms, and every
figure stays exact (counts, rates, means) or within a bucket (percentiles)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.engine.replication import build, run_replication, simulate
from sim.engine.streams import Streams
from sim.measure import edges as edge_module
from sim.measure import recorders as recorder_module
from sim.measure.folding import BIN_BUCKETS_PER_DOUBLING, Folded, per_bin
from sim.measure.recorders import PERCENTILES, QUANTILE_METRICS
from sim.measure.stats import (
    BUCKETS_PER_DOUBLING,
    buckets,
    coarser,
    histogram,
    percentile,
    sample_percentile,
    sample_percentiles,
)

FOLD_AT = 2000


def folding_at(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    monkeypatch.setattr(recorder_module, "FOLD_AT", limit)
    monkeypatch.setattr(edge_module, "FOLD_AT", limit)


def short(name: str, horizon: float) -> sim.Model:
    """A shipped model, shorter, on the SimPy engine (calls, breakers, classes)."""
    return sim.load(f"models/{name}.yaml").model_copy(update={"horizon": horizon, "warmup": 20.0})


@pytest.mark.parametrize("name", ["breaker_saves_pool", "ai_gateway"])
def test_folded_figures_are_exact_or_within_a_bucket(name, monkeypatch):
    model = short(name, 150.0)
    exact = run_replication(model, 0, 4)
    folding_at(monkeypatch, FOLD_AT)
    folded = run_replication(model, 0, 4)
    assert folded.metrics.keys() == exact.metrics.keys()
    for service, metrics in exact.metrics.items():
        for metric, value in metrics.items():
            got = folded.metrics[service][metric]
            if metric in QUANTILE_METRICS:
                assert got == pytest.approx(value, rel=0.005), f"{service}.{metric}"
            else:  # counts exact; means summed in another order
                assert got == pytest.approx(value, rel=1e-9, nan_ok=True), f"{service}.{metric}"
    for service, classes in exact.by_class.items():
        for cls, metrics in classes.items():
            for metric, value in metrics.items():
                rel = 0.005 if metric in PERCENTILES else 1e-9
                got = folded.by_class[service][cls][metric]
                assert got == pytest.approx(value, rel=rel, nan_ok=True), f"{service}.{cls}"
    for service, series in exact.timeseries.items():
        for key, values in series.items():
            rel = 0.03 if key == "latency_p99" else 1e-9  # coarser per-bin histograms
            np.testing.assert_allclose(folded.timeseries[service][key], values, rtol=rel)
    for service, histograms in exact.histograms.items():
        for key, hist in histograms.items():
            for part, expected in zip(folded.histograms[service][key], hist, strict=True):
                np.testing.assert_array_equal(part, expected)


def test_a_recorder_never_holds_more_than_fold_at_records(monkeypatch):
    folding_at(monkeypatch, FOLD_AT)
    model = short("breaker_saves_pool", 150.0)
    system = build(model, Streams(1, 0))
    simulate(system)
    for recorder in system.recorders.values():
        assert recorder.folded is not None
        for raw in ("done_at", "latency", "rejected_at", "late_at"):
            assert recorder.records(raw).size < FOLD_AT
    for service in system.services.values():
        for edge in service.edges.values():
            assert edge.latencies().size < FOLD_AT


@pytest.mark.parametrize("size", [1, 2, 3, 10, 1000, 100_000])
def test_histogram_percentiles_are_numpys_within_a_bucket(size):
    values = np.random.default_rng(size).lognormal(-2, 1.5, size)
    hist = histogram(values)
    for q in (0, 1, 50, 90, 99, 99.9, 100):
        expected = float(np.percentile(values, q))
        assert percentile(hist, q) == pytest.approx(expected, rel=2 ** (1 / 512) - 1)
    assert math.isnan(percentile(histogram(np.empty(0)), 99))


@pytest.mark.parametrize("size", [1, 2, 3, 10, 1001, 20_000, 100_000])
def test_sample_percentiles_are_numpys_to_the_bit(size):
    rng = np.random.default_rng(size)
    samples = (
        rng.lognormal(-2, 1.5, size),
        rng.integers(0, 4, size).astype(float),  # ties across bucket edges
        np.where(rng.random(size) < 0.3, 0.0, rng.exponential(0.1, size)),  # zeros too
    )
    qs = (0, 1, 50, 90, 99, 99.9, 100)
    for values in samples:
        expected = np.percentile(values, qs).tolist()
        assert sample_percentiles(values, qs) == expected
        assert sample_percentile(values, 99) == float(np.percentile(values, 99))
        # through the sample's histogram, and through wrong ones, which are only a hint
        for hint in (values, values[1:], values[::2], rng.exponential(5, size)):
            assert sample_percentiles(values, qs, histogram(hint)) == expected


def test_coarser_buckets_are_the_buckets_at_the_coarser_resolution():
    rng = np.random.default_rng(7)
    edges = 2.0 ** (np.arange(-40, 40) / 32)  # values on the coarse buckets' own edges
    values = np.concatenate(
        (rng.lognormal(-3, 3, 50_000), edges, np.nextafter(edges, 0), np.zeros(5), [1e-300])
    )
    fine = buckets(values)
    for factor in (2, 16, 512):
        per_doubling = BUCKETS_PER_DOUBLING // factor
        np.testing.assert_array_equal(coarser(fine, factor), buckets(values, per_doubling))
        shared = histogram(values, per_doubling, index=coarser(fine, factor))
        for part, expected in zip(shared, histogram(values, per_doubling), strict=True):
            np.testing.assert_array_equal(part, expected)


def test_folded_completions_per_bin_are_per_bins_count():
    """Completions come in time order, so a fold counts them per bin from the bins' edges;
    the count must be per_bin's, with bins that end past the horizon (a width that does
    not divide it) and completions after the horizon left out."""
    rng = np.random.default_rng(3)
    horizon, width = 100.0, 7.0
    edges = np.arange(16) * width  # 105 > horizon
    done_at = rng.uniform(0, 120, 5000)
    done_at[:10] = edges[3]  # completions on a bin's edge
    done_at.sort()
    latency = rng.exponential(0.5, done_at.size)
    folded = Folded(10.0, horizon, edges, 1)
    folded.add_completions(done_at, latency, np.zeros(done_at.size, dtype=np.int8))
    np.testing.assert_array_equal(folded.completions, per_bin(done_at, edges, horizon))
    for i, chunk in enumerate(folded.bin_latency):
        inside = (done_at >= edges[i]) & (done_at < min(edges[i + 1], horizon))
        if not inside.any():
            assert chunk == []
            continue
        expected = histogram(latency[inside], BIN_BUCKETS_PER_DOUBLING)
        for part, want in zip(chunk[0], expected, strict=True):
            np.testing.assert_array_equal(part, want)
