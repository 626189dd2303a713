"""Samplers draw what their specs say: sample means and variances within their CIs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.distributions import CHUNK, Sampler
from sim.model import Service
from sim.model.distributions import mean_of

N = 200_000
# Bound for a standardised sample mean at the 99.999 % level: fixed seeds, never flaky.
Z = float(stats.norm.ppf(1 - 0.5e-5))

SPECS = [
    {"distribution": "exponential", "mean": 0.2},
    {"distribution": "constant", "value": 0.3},
    {"distribution": "uniform", "low": 0.1, "high": 0.5},
    {"distribution": "lognormal", "mean": 0.1, "cv": 1.5},
    {"distribution": "lognormal", "p50": 0.05, "p99": 0.4},
    {"distribution": "gamma", "mean": 0.1, "cv": 0.5},
    {"distribution": "empirical", "samples": [0.01, 0.02, 0.02, 0.5]},
    {
        "distribution": "mixture",
        "components": [
            {"weight": 9, "distribution": "constant", "value": 0.002},
            {"weight": 1, "distribution": "exponential", "mean": 0.08},
        ],
    },
]


def _spec(raw):
    return Service(work=raw).work


@pytest.mark.parametrize("raw", SPECS, ids=lambda r: r["distribution"])
def test_sample_mean_and_scv(raw):
    spec = _spec(raw)
    draws = Sampler(spec, np.random.default_rng(3)).many(N)
    mean, scv = mean_of(spec), spec.scv
    sd = mean * np.sqrt(scv)
    assert abs(draws.mean() - mean) <= Z * sd / np.sqrt(N) + 1e-12
    if scv > 0 and raw["distribution"] != "lognormal":  # lognormal variance converges slowly
        assert draws.var() / draws.mean() ** 2 == pytest.approx(scv, rel=0.05)
    assert (draws >= 0).all()


def test_lognormal_percentiles_form():
    spec = _spec({"distribution": "lognormal", "p50": 0.05, "p99": 0.4})
    draws = Sampler(spec, np.random.default_rng(5)).many(N)
    assert np.percentile(draws, 50) == pytest.approx(0.05, rel=0.02)
    assert np.percentile(draws, 99) == pytest.approx(0.4, rel=0.05)


def test_single_draws_follow_the_same_stream_across_chunks():
    spec = _spec({"distribution": "exponential", "mean": 1.0})
    one = Sampler(spec, np.random.default_rng(9))
    singles = [one() for _ in range(CHUNK + 10)]
    batch = Sampler(spec, np.random.default_rng(9)).many(CHUNK)
    assert singles[:CHUNK] == batch.tolist()
    assert len(set(singles)) == len(singles)


def test_categorical_draws_follow_their_weights():
    from sim.distributions import Categorical, Uniforms

    draw = Categorical([1, 2, 7], Uniforms(np.random.default_rng(4)))
    counts = np.bincount([draw() for _ in range(N)], minlength=3) / N
    for share, expected in zip(counts, (0.1, 0.2, 0.7), strict=True):
        assert abs(share - expected) <= Z * np.sqrt(expected * (1 - expected) / N)
    assert Categorical([5.0], lambda: 0.99)() == 0
    assert Categorical([1, 1], lambda: 1.0)() == 1  # a draw past the last edge stays in range


def test_mixtures_share_one_component_validator():
    """Building pydantic's validator of a distribution takes milliseconds: a sweep or a
    property test validates thousands of mixtures, so it is built once, not per component."""
    from sim.model import distributions

    mixture = next(spec for spec in SPECS if spec["distribution"] == "mixture")
    before = distributions._distribution_adapter.cache_info()
    for _ in range(3):
        Service.model_validate({"workers": 1, "work": mixture})
    after = distributions._distribution_adapter.cache_info()
    components = 3 * len(mixture["components"])
    assert (after.hits + after.misses) - (before.hits + before.misses) == components
    assert after.misses <= 1
