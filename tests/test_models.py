"""The shipped models tell the stories their headers promise."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim

MODELS = sorted(Path("models").glob("*.yaml"))


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_every_model_validates_and_has_a_header(path: Path):
    sim.load(path)
    assert path.read_text().startswith("# "), "each model opens with a comment saying what it shows"


def _bins(res: sim.Results, service: str, start: float, stop: float):
    ts = res.timeseries[res.timeseries.service == service]
    return ts[(ts.time >= start) & (ts.time < stop)]


def test_gc_storm_never_recovers_but_would_without_memory_pressure():
    storm = sim.run(sim.load("models/gc_storm.yaml", {"replications": 3}))
    assert _bins(storm, "api", 60, 300).rejections.max() == 0
    after = _bins(storm, "api", 450, 900)
    assert after.rejections.mean() > 10  # still shedding long after the slowdown ended
    assert after.gc_paused.mean() > 0.2
    calm = sim.run(
        sim.load(
            "models/gc_storm.yaml", {"replications": 3, "services.api.gc.pause_per_held_request": 0}
        )
    )
    assert calm.get("rejection_rate", "api") == 0
    assert calm.get("gc_paused_fraction", "api") < 0.02
