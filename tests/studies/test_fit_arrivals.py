"""Arrivals from logs: Poisson, bursts and a changing rate told apart, and fitted."""

from __future__ import annotations

import numpy as np
import pytest

from sim.calibrate.arrivals import arrivals_yaml, fit_arrivals, parse_timestamps
from sim.calibrate.observed import ObservationError
from sim.engine.arrivals import arrival_times
from sim.model import from_dict
from sim.model.workload import BurstyArrivals, PoissonArrivals, ProfileArrivals
from sim.model.yamlio import parse_yaml


def _times(spec, until: float = 3600.0, seed: int = 1) -> np.ndarray:
    out = []
    for t in arrival_times(spec, np.random.default_rng(seed)):
        if t > until:
            break
        out.append(t)
    return np.asarray(out)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_poisson_arrivals_are_called_poisson_at_their_rate(seed: int):
    fit = fit_arrivals(_times(PoissonArrivals(rate=20), seed=seed))
    assert fit.spec["process"] == "poisson"
    assert fit.spec["rate"] == pytest.approx(20, rel=0.02)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_on_off_bursts_are_recovered_from_the_dispersion_of_counts(seed: int):
    """An hour of bursts at 4x the mean rate lasting 5 s: the burst factor within 25 %,
    the burst length within 35 % (an hour holds only a few hundred bursts)."""
    fit = fit_arrivals(_times(BurstyArrivals(rate=20, burst_factor=4, burst_duration=5), seed=seed))
    assert fit.spec["process"] == "mmpp"
    assert fit.spec["burst_factor"] == pytest.approx(4, rel=0.25)
    assert fit.spec["burst_duration"] == pytest.approx(5, rel=0.35)
    assert fit.spec["rate"] == pytest.approx(20, rel=0.15)


def test_a_changing_rate_becomes_steps_where_it_changes():
    profile = ProfileArrivals(
        rate=20,
        changes=[
            {"kind": "step", "at": 1200, "rate": 50},
            {"kind": "step", "at": 2400, "rate": 10},
        ],
    )
    fit = fit_arrivals(_times(profile))
    assert fit.spec["process"] == "profile"
    assert fit.spec["rate"] == pytest.approx(20, rel=0.05)
    steps = [(c["at"], c["rate"]) for c in fit.spec["changes"]]
    assert [at for at, _ in steps] == [1200, 2400]
    assert [rate for _, rate in steps] == pytest.approx([50, 10], rel=0.05)
    text = arrivals_yaml(fit.spec)  # pastes into a model
    model = from_dict(
        {
            "horizon": 10,
            **parse_yaml(text),
            "services": {"api": {"work": {"distribution": "exponential", "mean": 0.01}}},
        }
    )
    assert model.workload.arrivals.process == "profile"


def test_timestamps_as_numbers_in_any_unit_or_iso_8601():
    millis = "\n".join(str(1_700_000_000_000 + 250 * i) for i in range(20))
    assert parse_timestamps(millis, unit="ms")[:3].tolist() == [0.0, 0.25, 0.5]
    iso = "timestamp,path\n" + "\n".join(f"2026-12-05T10:00:{i:02d}.500Z,/a" for i in range(20))
    assert parse_timestamps(iso)[:2].tolist() == [0.0, 1.0]
    with pytest.raises(ObservationError, match="at least ten"):
        parse_timestamps("1\n2\n3\n")
