"""Calibration: fitting recovers known distributions from samples, percentiles and
Prometheus histograms, chooses by the tail, and infers work by the operational laws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import sim
from sim.calibrate.fit import fit_histogram, fit_percentiles, fit_samples
from sim.calibrate.laws import infer_work
from sim.calibrate.observed import (
    ObservationError,
    parse_percentiles,
    parse_prometheus,
    parse_samples,
)
from sim.calibrate.report import render_fit, snippet
from sim.engine.replication import run_replication


def _rng() -> np.random.Generator:
    """The same draws for every test, whichever tests ran before it in this process."""
    return np.random.default_rng(2026)


def test_a_lognormal_is_recovered_from_its_samples_and_chosen():
    x = _rng().lognormal(math.log(0.12), 0.8, 20_000)
    fit = fit_samples(x)
    assert fit.chosen.family == "lognormal"
    spec = fit.spec
    assert spec["p50"] == pytest.approx(0.12, rel=0.02)
    assert spec["p99"] == pytest.approx(0.12 * math.exp(2.326 * 0.8), rel=0.03)
    assert fit.ks < 0.02


def test_a_gamma_is_recovered_from_its_samples_and_chosen():
    x = _rng().gamma(shape=4.0, scale=0.025, size=20_000)  # mean 100 ms, cv 0.5
    fit = fit_samples(x)
    assert fit.chosen.family == "gamma"
    assert fit.spec["mean"] == pytest.approx(0.1, rel=0.02)
    assert fit.spec["cv"] == pytest.approx(0.5, rel=0.03)


def test_a_fast_path_and_a_slow_path_make_a_mixture():
    """90 % cache hits around 5 ms, 10 % misses around 200 ms: no single family fits the
    tail; the mixture finds both paths and their shares."""
    rng = _rng()
    hits = rng.lognormal(math.log(0.005), 0.3, 18_000)
    misses = rng.lognormal(math.log(0.2), 0.3, 2_000)
    fit = fit_samples(np.concatenate([hits, misses]))
    assert fit.chosen.family == "mixture"
    fast, slow = fit.spec["components"]
    assert fast["weight"] == pytest.approx(0.9, abs=0.01)
    assert fast["p50"] == pytest.approx(0.005, rel=0.03)
    assert slow["p50"] == pytest.approx(0.2, rel=0.03)
    assert fit.chosen.worst < 0.1


def test_two_percentiles_determine_a_lognormal_exactly():
    fit = fit_percentiles(parse_percentiles({"p50": "120ms", "p99": "900ms"}))
    assert fit.chosen.family == "lognormal"
    assert fit.spec == {"distribution": "lognormal", "p50": 0.12, "p99": 0.9}
    assert fit.chosen.worst < 1e-6
    # four percentiles of a true lognormal: recovered, and the gamma is worse in the tail
    law = stats.lognorm(s=1.0, scale=0.05)
    given = {
        f"p{n}": law.ppf(q) for n, q in (("50", 0.5), ("90", 0.9), ("99", 0.99), ("999", 0.999))
    }
    fit = fit_percentiles(parse_percentiles(given))
    assert fit.chosen.family == "lognormal" and fit.spec["p50"] == pytest.approx(0.05, rel=1e-3)
    gamma = next(c for c in fit.candidates if c.family == "gamma")
    assert gamma.worst > fit.chosen.worst


PROMETHEUS = """
# HELP http_server_request_duration_seconds Duration of HTTP server requests.
# TYPE http_server_request_duration_seconds histogram
{lines}
http_server_request_duration_seconds_sum{{route="/a"}} 123.4
http_server_request_duration_seconds_count{{route="/a"}} 1000
"""


def _prometheus(x: np.ndarray, bounds: list[float]) -> str:
    lines = []
    for route, part in (("/a", x[::2]), ("/b", x[1::2])):  # two label sets, summed
        for bound in bounds:
            le = "+Inf" if math.isinf(bound) else f"{bound:g}"
            count = int(np.sum(part <= bound))
            lines.append(
                f'http_server_request_duration_seconds_bucket{{route="{route}",le="{le}"}} {count}'
            )
    return PROMETHEUS.format(lines="\n".join(lines))


OTEL_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, math.inf]


def test_a_prometheus_histogram_is_read_and_fitted():
    x = _rng().lognormal(math.log(0.08), 0.7, 50_000)
    histogram = parse_prometheus(_prometheus(x, OTEL_BOUNDS))
    assert histogram.total == 50_000
    fit = fit_histogram(histogram)
    lognormal = next(c for c in fit.candidates if c.family == "lognormal").fitted.spec
    assert lognormal["p50"] == pytest.approx(0.08, rel=0.03)
    assert lognormal["p99"] == pytest.approx(0.08 * math.exp(2.326 * 0.7), rel=0.05)
    assert fit.chosen.worst < 0.05


def test_a_simulated_histogram_fits_back_to_the_work_distribution():
    """Round trip: simulate a station with no queueing (its latency is its work), write its
    latency histogram as Prometheus buckets, fit: the work distribution comes back."""
    model = sim.from_dict(
        {
            "horizon": 600,
            "warmup": 60,
            "replications": 2,
            "workload": {"arrivals": {"process": "poisson", "rate": 50}},
            "services": {
                "api": {
                    "workers": 200,
                    "queue": 0,
                    "work": {"distribution": "lognormal", "p50": "40ms", "p99": "400ms"},
                }
            },
        }
    )
    _, counts, low, high = run_replication(model, 0, 1).histograms["api"][""]
    x = np.repeat((low + high) / 2, counts)  # each bucket of the engine's histogram
    fit = fit_histogram(parse_prometheus(_prometheus(x, OTEL_BOUNDS)))
    lognormal = next(c for c in fit.candidates if c.family == "lognormal").fitted.spec
    assert lognormal["p50"] == pytest.approx(0.04, rel=0.05)
    assert lognormal["p99"] == pytest.approx(0.4, rel=0.1)


def test_samples_are_read_in_any_unit_and_from_a_named_column():
    assert parse_samples("120\n80\n", unit="ms").tolist() == pytest.approx([0.12, 0.08])
    csv_text = "id,latency_ms,latency\n1,5,250ms\n2,6,1s\n"
    assert parse_samples(csv_text).tolist() == [0.25, 1.0]
    with pytest.raises(ObservationError, match="line 3: 'slow' is not a number"):
        parse_samples("latency\n0.1\nslow\n")


def test_percentile_names_and_bad_percentiles():
    assert parse_percentiles({"p50": 0.1, "p99.9": "2s"}) == {0.5: 0.1, 0.999: 2.0}
    assert parse_percentiles({"p50": 0.1, "p999": "2s", "p9999": "3s"})[0.9999] == 3.0
    assert list(parse_percentiles({"p90": 0.2, "p50": 0.1})) == [0.5, 0.9]
    with pytest.raises(ObservationError, match="grow with the percentile"):
        parse_percentiles({"p50": "200ms", "p99": "100ms"})
    with pytest.raises(ObservationError, match="median: name a percentile"):
        parse_percentiles({"median": 0.1, "p99": 1})


def test_the_report_names_the_choice_and_the_yaml_pastes_into_a_model():
    fit = fit_percentiles(parse_percentiles({"p50": "120ms", "p99": "900ms"}))
    text = render_fit(fit, "services.api.work")
    assert "chosen: lognormal" in text
    yaml = snippet(fit.spec, "services.api.work")
    assert yaml.endswith("work: {distribution: lognormal, p50: 120ms, p99: 900ms}")
    model = sim.model.parse_model_text(
        "horizon: 10\nworkload: {arrivals: {process: poisson, rate: 1}}\n" + yaml
    )
    assert sim.from_dict(model).services["api"].work.p99 == pytest.approx(0.9)


def test_work_from_the_utilisation_law_and_littles_law():
    inferred = infer_work(throughput=200, utilization=0.6, workers=10, latency=0.05)
    assert inferred.mean_work == pytest.approx(0.03) and not inferred.warnings
    bound = infer_work(throughput=200, concurrency=8, latency=0.04)
    assert bound.mean_work == pytest.approx(0.04) and not bound.warnings
    wrong = infer_work(throughput=200, concurrency=20, latency=0.04, utilization=0.9, workers=10)
    assert any("Little's law" in w for w in wrong.warnings)
    assert any("exceeds the latency" in w for w in wrong.warnings)


def test_queuefull_fit_prints_the_snippet_and_refuses_what_it_cannot_use(tmp_path, capsys):
    from sim.cli import main

    samples = tmp_path / "latency.txt"
    samples.write_text("\n".join(f"{v:.4f}" for v in _rng().lognormal(math.log(30), 0.5, 3000)))
    out_json, plot = tmp_path / "fit.json", tmp_path / "fit.png"
    argv = [str(samples), "--unit", "ms", "--field", "services.db.work"]
    assert main(["fit", *argv, "--json", str(out_json), "--plot", str(plot)]) == 0
    text = capsys.readouterr().out
    assert "chosen: lognormal" in text and "  db:\n    work: {distribution: lognormal" in text
    assert plot.stat().st_size > 10_000
    assert '"chosen": "lognormal"' in out_json.read_text()
    assert main(["fit", "--throughput", "100", "--utilization", "0.5", "--workers", "4"]) == 0
    assert "work: {distribution: exponential, mean: 20ms}" in capsys.readouterr().out
    assert main(["fit"]) == 2
    assert main(["fit", "--percentiles", "p50=1s,p99=100ms"]) == 1
    assert "grow with the percentile" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "missing.csv")]) == 1


def test_the_openmetrics_export_fits_back_to_the_work_distribution():
    """The round trip through the product's own files: simulate, export the latency
    histogram as OpenMetrics (many timestamps), fit it as a Prometheus histogram."""
    from sim.report.openmetrics import openmetrics

    model = sim.from_dict(
        {
            "horizon": 600,
            "warmup": 60,
            "workload": {"arrivals": {"process": "poisson", "rate": 50}},
            "services": {
                "api": {
                    "workers": 200,
                    "queue": 0,
                    "work": {"distribution": "lognormal", "p50": "40ms", "p99": "400ms"},
                }
            },
        }
    )
    text = openmetrics(model)
    histogram = parse_prometheus(text, "http_server_request_duration_seconds")
    assert histogram.total == pytest.approx(50 * 600, rel=0.03)  # the last sample, not a sum
    fit = fit_histogram(histogram)
    lognormal = next(c for c in fit.candidates if c.family == "lognormal").fitted.spec
    assert lognormal["p50"] == pytest.approx(0.04, rel=0.05)
    assert lognormal["p99"] == pytest.approx(0.4, rel=0.1)


def test_a_model_fitted_to_percentiles_reproduces_them_when_simulated():
    """A dashboard's p50, p90, p99 of a lognormal service: fitted, pasted into a station
    that never queues, simulated: each percentile comes back inside its interval."""
    law = stats.lognorm(s=0.9, scale=0.05)
    given = {"p50": law.ppf(0.5), "p90": law.ppf(0.9), "p99": law.ppf(0.99)}
    fit = fit_percentiles(parse_percentiles(given))
    text = snippet(fit.spec, "services.api.work")
    model = sim.from_dict(  # the pasted YAML, with workers enough that nothing queues
        sim.model.parse_model_text(
            "horizon: 600\nwarmup: 60\nreplications: 6\nseed: 4\n"
            "workload: {arrivals: {process: poisson, rate: 40}}\n"
            + text
            + "\n    workers: 400\n    queue: 0\n"
        )
    )
    results = sim.run(model, executor="inline", progress=False)
    for name, value in given.items():
        row = results.row(f"latency_{name}", "api")
        assert row["ci_low"] * 0.99 <= value <= row["ci_high"] * 1.01, (name, value, row)
