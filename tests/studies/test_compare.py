"""Comparisons on common random numbers, and the knee of a swept curve."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.studies.compare import differences
from sim.studies.sweep import knee

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
