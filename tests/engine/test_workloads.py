"""Workloads beyond Poisson: rate profiles, bursts, traces, closed-loop users, recovery."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import sim
from sim import analytic
from sim.engine.arrivals import CHUNK, RateProfile, arrival_chunks, arrival_times
from sim.measure.recovery import recovery_time
from sim.model.workload import (
    BurstyArrivals,
    ConstantArrivals,
    PoissonArrivals,
    ProfileArrivals,
    TraceArrivals,
)
from tests.helpers import assert_agrees, exponential


def _times(spec, until: float, seed: int = 1) -> np.ndarray:
    out = []
    for t in arrival_times(spec, np.random.default_rng(seed)):
        if t > until:
            break
        out.append(t)
    return np.asarray(out)


@pytest.mark.parametrize("size", [777, 4096, 10_000, 1 << 17])
@pytest.mark.parametrize(
    "spec",
    [
        PoissonArrivals(rate=90),
        ConstantArrivals(rate=70),
        ProfileArrivals(rate=80, changes=[{"kind": "ramp", "start": 100, "end": 300, "rate": 160}]),
    ],
    ids=["poisson", "constant", "profile"],
)
def test_arrival_chunks_are_the_one_by_one_times_to_the_bit(spec, size):
    """The fast path's chunks hold the very instants the SimPy engine draws one by one,
    whatever the chunk size (several of the engine's draw batches may be drawn at once)."""
    until = 600.0
    chunks = list(arrival_chunks(spec, np.random.default_rng(3), until, size))
    assert all(0 < chunk.size <= size for chunk in chunks)
    expected = _times(spec, until, seed=3)
    expected = expected[expected < until]
    assert np.array_equal(np.concatenate(chunks), expected)


def test_a_trace_of_whole_batches_ends(tmp_path):
    """A trace whose length is a whole number of draw batches ends (its last batch is
    empty, not short)."""
    path = tmp_path / "times.csv"
    path.write_text("\n".join(f"{0.01 * (k + 1):.2f}" for k in range(CHUNK)) + "\n")
    spec = TraceArrivals(file=str(path))
    chunks = list(arrival_chunks(spec, np.random.default_rng(0), 100.0, 1000))
    assert sum(chunk.size for chunk in chunks) == CHUNK


def test_profile_steps_ramps_spikes_and_sines():
    spec = ProfileArrivals(
        rate=100,
        changes=[
            {"kind": "spike", "start": 100, "duration": 50, "factor": 10},
            {"kind": "ramp", "start": 200, "end": 300, "rate": 300},
            {"kind": "step", "at": 400, "rate": 50},
        ],
    )
    profile = RateProfile(spec)
    assert [profile.rate(t) for t in (0, 99.9, 100, 149.9, 150, 250, 300, 399, 400)] == (
        pytest.approx([100, 100, 1000, 1000, 100, 200, 300, 300, 50])
    )
    times = _times(spec, 500)
    windows = [(0, 100, 100), (100, 150, 1000), (150, 200, 100), (300, 400, 300), (400, 500, 50)]
    for lo, hi, rate in windows:
        count = ((times >= lo) & (times < hi)).sum()
        expected = rate * (hi - lo)
        assert abs(count - expected) < 5 * math.sqrt(expected), (lo, hi)
    ramp = ((times >= 200) & (times < 300)).sum()
    assert abs(ramp - 20_000) < 5 * math.sqrt(20_000)  # the mean of a 100 -> 300 ramp


PROFILES = [
    [
        {"kind": "spike", "start": 100, "duration": 50, "factor": 10},
        {"kind": "ramp", "start": 200, "end": 300, "rate": 300},
        {"kind": "step", "at": 400, "rate": 50},
    ],
    [
        {"kind": "step", "at": 50, "rate": 30},
        {"kind": "spike", "start": 40, "duration": 100, "factor": 3.3},
        {"kind": "spike", "start": 60, "duration": 20, "factor": 1.7},
        {"kind": "ramp", "start": 200, "end": 260, "rate": 30},
    ],
    [{"kind": "sine", "period": 90, "amplitude": 0.5}, {"kind": "step", "at": 100, "rate": 7}],
]


def _thinned_by_definition(profile: RateProfile, rng: np.random.Generator, until: float):
    """Lewis and Shedler thinning that computes the rate at every candidate."""
    out = []
    for start, end, bound in profile.pieces():
        t = start
        while bound > 0 and t < min(end, until):
            gaps = rng.exponential(1.0 / bound, CHUNK).tolist()
            for gap, u in zip(gaps, rng.random(CHUNK).tolist(), strict=True):
                t += gap
                if t >= end:
                    break
                if u * bound < profile.rate(t):
                    out.append(t)
        if end >= until:
            break
    return np.asarray(out)


@pytest.mark.parametrize("changes", PROFILES, ids=["spike-ramp-step", "overlaps", "sine"])
def test_constant_pieces_thin_to_the_same_arrivals(changes):
    """Pieces of constant rate compare with the constant instead of the rate at each
    candidate: the very same arrivals, bit for bit, as computing it every time."""
    spec = ProfileArrivals(rate=120, changes=changes)
    profile = RateProfile(spec)
    for start, end, _ in profile.pieces():
        flat = profile.constant_over(start)
        if flat is not None:  # the same float all through the piece
            stop = min(end, 600.0)
            assert {profile.rate(t) for t in np.linspace(start, stop, 101)[:-1]} == {flat}
    got = _times(spec, 600.0, seed=11)
    expected = _thinned_by_definition(profile, np.random.default_rng(11), 600.0)
    assert np.array_equal(got, expected[expected <= 600.0])


def test_sine_profile_averages_its_base():
    spec = ProfileArrivals(rate=50, changes=[{"kind": "sine", "period": 100, "amplitude": 0.8}])
    times = _times(spec, 1000)
    assert abs(len(times) - 50_000) < 5 * math.sqrt(50_000)
    first_half = ((times % 100) < 50).sum()  # sin > 0 in the first half of each period
    assert first_half > 0.7 * len(times)


def test_overlapping_steps_and_ramps_are_refused():
    with pytest.raises(ValueError, match="must not overlap"):
        ProfileArrivals(
            rate=1,
            changes=[
                {"kind": "ramp", "start": 0, "end": 10, "rate": 5},
                {"kind": "step", "at": 5, "rate": 2},
            ],
        )


def test_bursty_arrivals_keep_their_mean_and_bunch_up():
    spec = BurstyArrivals(rate=20, burst_factor=5, burst_duration=2)
    times = _times(spec, 20_000)
    assert len(times) / 20_000 == pytest.approx(20, rel=0.05)
    counts = np.histogram(times, np.arange(0, 20_001, 1.0))[0]
    assert counts.var() / counts.mean() > 5  # Poisson would give 1


def test_trace_replay(tmp_path: Path):
    trace = tmp_path / "arrivals.csv"
    trace.write_text("time,path\n10.0,/a\n10.5,/b\n12.0,/c\n")
    # shifted to start at 0, stretched x2: 0, 1, 4; looping after the mean gap (2 s)
    spec = TraceArrivals(file=str(trace), time_scale=2.0, loop=True)
    assert _times(spec, 9.5).tolist() == [0.0, 1.0, 4.0, 6.0, 7.0]
    once = TraceArrivals(file=str(trace))
    assert _times(once, 100).tolist() == [0.0, 0.5, 2.0]
    plain = tmp_path / "plain.csv"
    plain.write_text("3\n1\n2\n")
    model_file = tmp_path / "m.yaml"
    model_file.write_text(
        "horizon: 10\nreplications: 1\nworkload: {arrivals: {process: trace, file: plain.csv}}\n"
        "services: {api: {workers: 5, work: {distribution: constant, value: 0.1}}}\n"
    )
    res = sim.run(sim.load(model_file))
    assert res.get("arrivals") == 3  # read relative to the model file


@pytest.mark.slow
def test_closed_loop_users_match_the_machine_repairman_model():
    users, think, mean = 30, 2.0, 0.05
    model = sim.from_dict(
        {
            "horizon": 3000,
            "warmup": 200,
            "replications": 8,
            "seed": 4,
            "workload": {"users": users, "think_time": exponential(think)},
            "services": {"api": {"workers": 1, "queue": "unbounded", "work": exponential(mean)}},
        }
    )
    res = sim.run(model)
    theory = analytic.machine_repairman(users, think, mean, 1)
    assert_agrees(res, "throughput", theory.throughput)
    assert_agrees(res, "latency_mean", theory.W)
    assert_agrees(res, "utilization", theory.utilization)
    est = analytic.estimate(model)
    assert est.exact and est.metrics["throughput"] == pytest.approx(theory.throughput)


def test_recovery_time_from_a_band():
    time = np.arange(0, 100, 1.0)
    queue = np.full(100, 2.0)
    goodput = np.full(100, 50.0)
    queue[40:60] = 500
    goodput[40:60] = 0
    assert recovery_time(time, queue, goodput, 10, (40, 50), 1.0) == pytest.approx(10)
    queue[60:] = 400  # stays up: never
    assert recovery_time(time, queue, goodput, 10, (40, 50), 1.0) == math.inf
