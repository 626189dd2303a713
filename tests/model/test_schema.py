"""The model schema: defaults, durations, overrides, and an actionable error for every mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sim
from sim.model import json_schema, parse_assignment
from sim.model.durations import parse_duration

BASE = {
    "horizon": 100,
    "workload": {"arrivals": {"process": "poisson", "rate": 9}},
    "services": {
        "api": {"workers": 2, "queue": 3, "work": {"distribution": "exponential", "mean": "100ms"}}
    },
}


def errors_for(overrides: dict) -> list[str]:
    with pytest.raises(sim.ModelError) as info:
        sim.from_dict(sim.apply_overrides(BASE, overrides))
    return info.value.lines


def test_minimal_model_and_defaults():
    model = sim.from_dict(BASE)
    api = model.services["api"]
    assert api.initial_replicas == 1 and api.work.mean == pytest.approx(0.1)
    assert model.warmup == 0 and model.replications == 8 and model.seed == 0
    assert model.entry == "api" and model.bin_width == 1.0
    assert (
        sim.from_dict({**BASE, "services": {"api": {"work": BASE["services"]["api"]["work"]}}})
        .services["api"]
        .queue
        == 100
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (0.25, 0.25),
        (3, 3.0),
        ("250ms", 0.25),
        ("2s", 2.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1.5min", 90.0),
        ("40us", 4e-5),
        (" 7 ", 7.0),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["fast", "2 parsecs", "", True, None, [1]])
def test_bad_durations(bad):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"services.api.workers": 0}, "services.api.workers: must be >= 1"),
        ({"services.api.replicas": 1.5}, "services.api.replicas: must be a whole number"),
        (
            {"services.api.wrokers": 3},
            "services.api.wrokers: unknown key (did you mean 'workers'?); allowed here: "
            "replicas, autoscaling, workers, queue, work",
        ),
        ({"colour": "red"}, "colour: unknown key"),
        (
            {"services.api.queue": -1},
            "services.api.queue: must be a whole number >= 0, or 'unbounded'",
        ),
        ({"services.api.queue": "lots"}, "services.api.queue: must be a whole number >= 0"),
        (
            {"services.api.work": {"distribution": "expo", "mean": 1}},
            "services.api.work: 'distribution' must be one of: exponential, constant, uniform, "
            "lognormal, gamma, empirical, mixture",
        ),
        ({"services.api.work": {"mean": 1}}, "services.api.work: 'distribution' must be one of"),
        ({"services.api.work.mean": -1}, "services.api.work.mean: must be > 0"),
        ({"services.api.work.mean": "slow"}, "services.api.work.mean: 'slow' is not a duration"),
        ({"services.api.work.sd": 1}, "services.api.work.sd: unknown key"),
        (
            {"services.api.work": {"distribution": "lognormal", "mean": 1}},
            "services.api.work: give either mean and cv, or p50 and p99",
        ),
        (
            {"services.api.work": {"distribution": "lognormal", "mean": 1, "cv": 1, "p50": 1}},
            "services.api.work: give either mean and cv, or p50 and p99",
        ),
        (
            {"services.api.work": {"distribution": "lognormal", "p50": 1, "p99": 0.5}},
            "services.api.work: p99 must be greater than p50",
        ),
        (
            {"services.api.work": {"distribution": "uniform", "low": 2, "high": 1}},
            "services.api.work: high must be >= low",
        ),
        (
            {"services.api.work": {"distribution": "gamma", "mean": 1, "cv": 0}},
            "services.api.work.cv: must be >= 0.001",
        ),
        (
            {"services.api.work": {"distribution": "empirical", "samples": []}},
            "services.api.work.samples: must have at least 1 item(s)",
        ),
        (
            {
                "services.api.work": {
                    "distribution": "mixture",
                    "components": [{"weight": 0, "distribution": "constant", "value": 1}],
                }
            },
            "services.api.work.components.0.weight: must be > 0",
        ),
        (
            {
                "services.api.work": {
                    "distribution": "mixture",
                    "components": [
                        {"weight": 1, "distribution": "constant", "value": 1, "mean": 2}
                    ],
                }
            },
            "services.api.work.components.0.mean: unknown key",
        ),
        (
            {
                "services.api.work": {
                    "distribution": "mixture",
                    "components": [{"weight": 1, "distribution": "exponential", "mean": "x"}],
                }
            },
            "services.api.work.components.0.mean: 'x' is not a duration",
        ),
        ({"horizon": 0}, "horizon: must be > 0"),
        ({"horizon": "ten"}, "horizon: 'ten' is not a duration"),
        ({"warmup": 100}, "warmup: must be shorter than horizon (100s)"),
        ({"replications": 0}, "replications: must be >= 1"),
        ({"seed": -1}, "seed: must be >= 0"),
        ({"workload.target": "db"}, "workload.target: 'db' is not a service; services: api"),
        ({"workload.arrivals": {"process": "poisson"}}, "workload.arrivals.rate: is required"),
        (
            {"workload.arrivals": {"process": "burst", "rate": 1}},
            "workload.arrivals: 'process' must be one of: poisson, constant",
        ),
        ({"workload.arrivals.rate": 0}, "workload.arrivals.rate: must be > 0"),
        ({"services": {}}, "services: must have at least 1 item(s)"),
        ({"services.api": 5}, "services.api: must be a mapping (key: value)"),
    ],
)
def test_every_error_names_its_path(overrides, expected):
    lines = errors_for(overrides)
    assert any(line.startswith(expected) for line in lines), lines


def test_missing_top_level_fields_are_all_reported():
    with pytest.raises(sim.ModelError) as info:
        sim.from_dict({"services": BASE["services"]})
    assert set(info.value.lines) == {"horizon: is required"}
    with pytest.raises(sim.ModelError) as info:
        sim.from_dict({"horizon": 10, "services": BASE["services"]})
    assert info.value.lines == [
        "workload: give workload, or scenarios (several workloads), not both"
    ]


def test_not_a_mapping():
    with pytest.raises(sim.ModelError, match="a model must be a mapping"):
        sim.from_dict([1, 2])  # type: ignore[arg-type]


def test_file_errors_name_the_file(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("horizon: [1,\n")
    with pytest.raises(sim.ModelError, match=r"bad\.yaml: line \d+, column \d+: not valid YAML"):
        sim.load(bad)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(json.dumps({**BASE, "horizon": -5}))
    with pytest.raises(sim.ModelError, match=r"wrong\.yaml: horizon: must be > 0"):
        sim.load(wrong)
    with pytest.raises(sim.ModelError, match="cannot read the file"):
        sim.load(tmp_path / "missing.yaml")


def test_overrides_by_dotted_path():
    data = sim.apply_overrides(BASE, {"services.api.workers": 12, "workload.arrivals.rate": 50})
    model = sim.from_dict(data)
    assert model.services["api"].workers == 12
    assert model.workload.arrivals.rate == 50
    assert BASE["services"]["api"]["workers"] == 2  # the original is untouched


def test_list_items_by_dotted_or_bracketed_index():
    with_calls = sim.apply_overrides(
        BASE,
        {
            "services.db": {"workers": 1, "work": {"distribution": "constant", "value": "1ms"}},
            "services.api.calls": [{"to": "db", "timeout": "1s"}, {"to": "db"}],
        },
    )
    for path in ("services.api.calls.1.timeout", "services.api.calls[1].timeout"):
        model = sim.from_dict(sim.apply_overrides(with_calls, {path: "250ms"}))
        assert [c.timeout for c in model.services["api"].calls] == [1.0, 0.25]
    with pytest.raises(sim.ModelError, match=r"services.api.calls.5: no list item 5"):
        sim.apply_overrides(with_calls, {"services.api.calls[5].timeout": "1s"})


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        ("services.api.workers=12", "services.api.workers", 12),
        ("services.api.queue=unbounded", "services.api.queue", "unbounded"),
        (
            "services.api.work={distribution: constant, value: 1s}",
            "services.api.work",
            {"distribution": "constant", "value": "1s"},
        ),
        ("horizon=5m", "horizon", "5m"),
    ],
)
def test_parse_assignment(text, path, value):
    assert parse_assignment(text) == (path, value)


def test_parse_assignment_needs_an_equals_sign():
    with pytest.raises(sim.ModelError, match="expected PATH=VALUE"):
        parse_assignment("services.api.workers")


def test_distribution_moments():
    def spec(**kw):
        return (
            sim.from_dict(sim.apply_overrides(BASE, {"services.api.work": kw})).services["api"].work
        )

    ln = spec(distribution="lognormal", p50=0.1, p99=1.0)
    assert sim.model.mean_of(ln) > 0.1  # right-skewed: mean above median
    assert spec(distribution="gamma", mean=2, cv=0.5).scv == pytest.approx(0.25)
    assert spec(distribution="uniform", low=0, high=2).scv == pytest.approx(1 / 3)
    mix = spec(
        distribution="mixture",
        components=[
            {"weight": 1, "distribution": "constant", "value": 1},
            {"weight": 3, "distribution": "exponential", "mean": 2},
        ],
    )
    assert mix.mean == pytest.approx(1.75)
    second = 0.25 * 1 + 0.75 * 2 * 4
    assert mix.scv == pytest.approx(second / 1.75**2 - 1)


def test_json_schema_describes_the_file():
    schema = json_schema()
    assert schema["additionalProperties"] is False
    assert {"horizon", "services"} <= set(schema["required"])
    assert {"workload", "scenarios"} <= set(schema["properties"])
    service = schema["$defs"]["Service"]
    assert service["properties"]["queue"]
    assert "exponential" in json.dumps(schema)


def test_round_trip_through_plain_data():
    mixture = {
        "distribution": "mixture",
        "components": [
            {"weight": 1, "distribution": "lognormal", "p50": 0.1, "p99": 1.0},
            {"weight": 2, "distribution": "constant", "value": 0.5},
        ],
    }
    model = sim.from_dict(sim.apply_overrides(BASE, {"services.api.work": mixture}))
    again = sim.from_dict(model.model_dump(mode="json", exclude_none=True))
    assert again == model
