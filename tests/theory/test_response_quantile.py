"""The M/M/c/K response-time quantile in closed form, against direct numerical integration
of the same mixture (Erlang wait plus exponential service)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from sim.analytic import mmck_response_quantile


def integrated_quantile(lam: float, mean: float, c: int, k: int, q: float) -> float:
    mu = 1 / mean
    p = np.array([math.prod(lam / (min(i, c) * mu) for i in range(1, n + 1)) for n in range(k + 1)])
    p /= p.sum()
    admitted = p[:k] / (1 - p[k])

    def survival(t: float) -> float:
        total = admitted[: min(c, k)].sum() * math.exp(-mu * t)
        for n in range(c, k):
            wait = stats.gamma(a=n - c + 1, scale=1 / (c * mu))
            inside, _ = integrate.quad(lambda w, d=wait: d.pdf(w) * math.exp(-mu * (t - w)), 0, t)
            total += admitted[n] * (wait.sf(t) + inside)
        return total

    upper = mean
    while survival(upper) > 1 - q:
        upper *= 2
    return optimize.brentq(lambda t: survival(t) - (1 - q), 0.0, upper, xtol=1e-12)


@pytest.mark.parametrize(
    "args",
    [
        (90, 0.1, 10, 30, 0.99),  # the default model
        (9, 0.1, 1, 20, 0.99),  # one server: the Erlang(m + 1) branch
        (95, 0.1, 10, 12, 0.9),
        (50, 0.2, 2, 40, 0.999),
        (5, 0.1, 3, 3, 0.99),  # no waiting room: service time only
        (300, 0.05, 4, 60, 0.5),  # overloaded
    ],
)
def test_closed_form_matches_the_integral(args):
    assert mmck_response_quantile(*args) == pytest.approx(integrated_quantile(*args), rel=1e-7)


def test_no_waiting_room_is_the_exponential_quantile():
    assert mmck_response_quantile(5, 0.1, 3, 3, 0.99) == pytest.approx(-0.1 * math.log(0.01))
