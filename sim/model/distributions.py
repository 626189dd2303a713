"""Distribution specs as written in a model, each with its mean and squared CV (scv).

Sampling lives in :mod:`sim.distributions`; these classes are only the validated description.
All values are durations in seconds unless a field says otherwise.
"""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, field_validator, model_serializer, model_validator
from pydantic_core import PydanticCustomError

from sim.model.base import Duration, PositiveDuration, Strict, tagged_union

Z99 = 2.3263478740408408  # standard normal quantile of 0.99
MAX_P99_OVER_P50 = 10_000
"""A lognormal's widest spread: sigma at most about 4, so samples and moments stay finite."""


class Exponential(Strict):
    """Memoryless times with the given mean (M in Kendall's notation)."""

    distribution: Literal["exponential"] = "exponential"
    mean: PositiveDuration = Field(description="mean, seconds")

    @property
    def scv(self) -> float:
        """Squared coefficient of variation: 1 for the exponential."""
        return 1.0


class Constant(Strict):
    """Always the same value (D in Kendall's notation)."""

    distribution: Literal["constant"] = "constant"
    value: Duration = Field(description="the value, seconds")

    @property
    def mean(self) -> float:
        """The value itself."""
        return self.value

    @property
    def scv(self) -> float:
        """Zero: no variation."""
        return 0.0


class Uniform(Strict):
    """Uniform between ``low`` and ``high``."""

    distribution: Literal["uniform"] = "uniform"
    low: Duration = Field(description="lower bound, seconds")
    high: Duration = Field(description="upper bound, seconds")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("high must be >= low")
        return self

    @property
    def mean(self) -> float:
        """Midpoint of the interval."""
        return (self.low + self.high) / 2

    @property
    def scv(self) -> float:
        """Variance over squared mean."""
        if self.mean == 0:
            return 0.0
        return (self.high - self.low) ** 2 / 12 / self.mean**2


class Lognormal(Strict):
    """Lognormal from ``mean`` and ``cv``, or from the percentiles ``p50`` and ``p99``."""

    distribution: Literal["lognormal"] = "lognormal"
    mean: PositiveDuration | None = Field(None, description="mean, seconds (with cv)")
    cv: float | None = Field(
        None, gt=0, le=1000, description="coefficient of variation (with mean), at most 1000"
    )
    p50: PositiveDuration | None = Field(None, description="median, seconds (with p99)")
    p99: PositiveDuration | None = Field(None, description="99th percentile, seconds (with p50)")

    @model_validator(mode="after")
    def _one_form(self) -> Lognormal:
        by_moments = self.mean is not None and self.cv is not None
        by_percentiles = self.p50 is not None and self.p99 is not None
        given = [k for k in ("mean", "cv", "p50", "p99") if getattr(self, k) is not None]
        if by_moments == by_percentiles or len(given) != 2:
            raise ValueError("give either mean and cv, or p50 and p99")
        p50, p99 = self.p50, self.p99
        if p50 is None or p99 is None:
            return self
        if p99 <= p50:
            raise ValueError("p99 must be greater than p50")
        if p99 > MAX_P99_OVER_P50 * p50:
            raise PydanticCustomError(
                "spread",
                "must be at most {limit} x p50: no sampler keeps its tail finite beyond",
                {"path": "p99", "limit": f"{MAX_P99_OVER_P50:,}"},
            )
        return self

    @property
    def mu_sigma(self) -> tuple[float, float]:
        """Parameters of the underlying normal: (mu, sigma)."""
        if self.p50 is not None and self.p99 is not None:
            sigma = (math.log(self.p99) - math.log(self.p50)) / Z99
            return math.log(self.p50), sigma
        assert self.mean is not None and self.cv is not None  # the validator saw to it
        sigma2 = math.log1p(self.cv**2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)

    @property
    def expected(self) -> float:
        """The mean, whichever form the spec was given in."""
        mu, sigma = self.mu_sigma
        return math.exp(mu + sigma**2 / 2)

    @property
    def scv(self) -> float:
        """exp(sigma^2) - 1."""
        return math.expm1(self.mu_sigma[1] ** 2)


class Gamma(Strict):
    """Gamma from ``mean`` and ``cv`` (cv < 1 is more regular than exponential, > 1 burstier)."""

    distribution: Literal["gamma"] = "gamma"
    mean: PositiveDuration = Field(description="mean, seconds")
    cv: float = Field(ge=1e-3, le=100, description="coefficient of variation, 0.001 to 100")

    @property
    def scv(self) -> float:
        """cv squared."""
        return self.cv**2


class Empirical(Strict):
    """Resample uniformly from measured values (e.g. latencies from production logs)."""

    distribution: Literal["empirical"] = "empirical"
    samples: list[Duration] = Field(
        min_length=1, max_length=1_000_000, description="measured values, seconds"
    )

    @property
    def mean(self) -> float:
        """Mean of the samples."""
        return sum(self.samples) / len(self.samples)

    @property
    def scv(self) -> float:
        """Population variance of the samples over their squared mean."""
        m = self.mean
        if m == 0:
            return 0.0
        return sum((x - m) ** 2 for x in self.samples) / len(self.samples) / m**2


class MixtureComponent(Strict):
    """One branch of a mixture: a weight and a distribution, written side by side."""

    weight: float = Field(gt=0, description="relative weight; weights need not sum to 1")
    spec: Any = Field(alias="~spec", description="the component's distribution")

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        # Overrides Strict's check: everything but the weight belongs to the distribution.
        if isinstance(data, dict) and "~spec" not in data:
            split = {"~spec": {k: v for k, v in data.items() if k != "weight"}}
            if "weight" in data:
                split["weight"] = data["weight"]
            return split
        return data

    @model_serializer
    def _flat(self) -> dict[str, Any]:
        return {"weight": self.weight, **self.spec.model_dump(exclude_none=True)}

    @field_validator("spec", mode="before")
    @classmethod
    def _spec(cls, value: Any) -> Any:
        return _distribution_adapter().validate_python(value)


class Mixture(Strict):
    """A weighted mix of distributions: e.g. 95 % cache hits at 2 ms, 5 % misses at 80 ms."""

    distribution: Literal["mixture"] = "mixture"
    components: list[MixtureComponent] = Field(
        min_length=1, description="distributions with weights, e.g. cache hits and misses"
    )

    @property
    def probabilities(self) -> list[float]:
        """Weights normalised to sum to one."""
        total = sum(c.weight for c in self.components)
        return [c.weight / total for c in self.components]

    @property
    def mean(self) -> float:
        """Weighted mean of the component means."""
        return sum(
            p * mean_of(c.spec) for p, c in zip(self.probabilities, self.components, strict=True)
        )

    @property
    def scv(self) -> float:
        """From the mixture's second moment."""
        m = self.mean
        if m == 0:
            return 0.0
        second = sum(
            p * (c.spec.scv + 1) * mean_of(c.spec) ** 2
            for p, c in zip(self.probabilities, self.components, strict=True)
        )
        return float(second / m**2 - 1)


if TYPE_CHECKING:  # what a type checker sees: the plain union
    Distribution = Exponential | Constant | Uniform | Lognormal | Gamma | Empirical | Mixture
else:
    Distribution = tagged_union(
        "distribution", Exponential, Constant, Uniform, Lognormal, Gamma, Empirical, Mixture
    )
"""Any distribution spec, chosen by its ``distribution`` key."""

DistributionSpec = Exponential | Constant | Uniform | Lognormal | Gamma | Empirical | Mixture


def mean_of(spec: DistributionSpec) -> float:
    """The mean of any distribution spec, in its unit (seconds for durations)."""
    return float(spec.expected if isinstance(spec, Lognormal) else spec.mean)


DistributionField = Annotated[Distribution, Field(description="a distribution spec")]


@cache
def _distribution_adapter() -> Any:
    """The validator of a component's distribution, built once: building one takes
    milliseconds, and a mixture validates a distribution per component."""
    from pydantic import TypeAdapter

    return TypeAdapter(Distribution)
