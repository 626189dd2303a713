"""Comparisons on common random numbers, and the knee of a swept curve."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.studies.compare import differences
from sim.studies.sweep import build, knee
from tests.studies.test_sweep_and_capacity import _auto_mmck

MODELS = Path(__file__).resolve().parents[2] / "models"


def short(name: str) -> sim.Model:
    return sim.load(MODELS / f"{name}.yaml", {"horizon": 120, "warmup": 10})


@pytest.mark.slow
def test_compare_pairs_replications_on_common_random_numbers():
    model = short("default")
    found = sim.compare(
        model,
        {
            "10 workers": {},
            "10 again": {"services.api.workers": 10},
            "14": {"services.api.workers": 14},
        },
        replications=4,
        executor="inline",
        progress=False,
    )
    table = found.differences
    same = table[table.variant == "10 again"]
    assert (same.difference == 0).all() and not same.significant.any()  # identical streams
    more = table[(table.variant == "14") & (table.metric == "latency_p99")].iloc[0]
    assert more.significant and more.better == "better" and more.ci_high < 0


def test_a_precision_driven_comparison_doubles_every_variant_until_all_are_precise():
    """Alone, the variant at 10 req/s needs 24 replications and the one at 30 req/s 12;
    compared, both run 24, so every difference stays paired, and each variant's results
    are what a run of it with 24 replications gives."""
    model = _auto_mmck()
    variants = {"at 30": {"workload.arrivals.rate": 30}, "at 10": {"workload.arrivals.rate": 10}}
    found = sim.compare(model, variants, executor="inline", progress=False)
    assert [r.replications for r in found.results.values()] == [24, 24]
    for name, changes in variants.items():
        alone = sim.run(build(model, changes), replications=24, executor="inline")
        mine = found.results[name].row("latency_mean", "all")
        assert mine["mean"] == alone.row("latency_mean", "all")["mean"]
    row = found.differences.query("metric == 'latency_p99'").iloc[0]
    paired = found.results["at 10"].values("latency_p99", "all") - found.results["at 30"].values(
        "latency_p99", "all"
    )
    assert row.difference == pytest.approx(paired.mean())
    fixed = sim.compare(model, variants, replications=3, executor="inline", progress=False)
    assert [r.replications for r in fixed.results.values()] == [3, 3]


def test_differences_without_common_seeds_fall_back_to_unpaired():
    a = sim.run(short("default"), replications=3, seed=1, executor="inline", progress=False)
    b = sim.run(short("default"), replications=3, seed=2, executor="inline", progress=False)
    table = differences({"a": a, "b": b}, ["latency_p99"])
    row = table.iloc[0]
    assert row.ci_low < row.difference < row.ci_high


def test_knee_finds_the_bend_and_not_a_straight_line():
    assert knee([5, 6, 7, 8, 10, 12, 15, 20], [9, 5, 2, 1, 0.6, 0.55, 0.52, 0.5]) == 8
    assert knee([1, 2, 3, 4], [1, 2, 3, 4]) is None
    assert knee([1, 2], [3, 1]) is None
    assert knee([50, 60, 70, 80, 90, 100], [0.11, 0.112, 0.115, 0.13, 0.25, 0.9]) == 90
