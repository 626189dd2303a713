"""The schema of the workload: arrival processes, closed-loop users, classes, clients, retries."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from sim.model.base import Duration, PositiveDuration, Strict, tagged_union, unit
from sim.model.controls import RetryPolicy
from sim.model.distributions import Distribution, mean_of

# --- open-loop arrival processes ----------------------------------------------------------


class PoissonArrivals(Strict):
    """Open-loop Poisson arrivals: independent, exponential gaps with mean 1/rate."""

    process: Literal["poisson"] = "poisson"
    rate: float = Field(gt=0, description="requests per second", json_schema_extra=unit("req/s"))

    @property
    def mean_rate(self) -> float:
        """Long-run requests per second."""
        return self.rate


class ConstantArrivals(Strict):
    """Open-loop arrivals exactly 1/rate seconds apart (a load generator's fixed pacing)."""

    process: Literal["constant"] = "constant"
    rate: float = Field(gt=0, description="requests per second", json_schema_extra=unit("req/s"))

    @property
    def mean_rate(self) -> float:
        """Long-run requests per second."""
        return self.rate


class Step(Strict):
    """From ``at`` on, the base rate is ``rate``."""

    kind: Literal["step"] = "step"
    at: Duration = Field(description="seconds from the start of the run")
    rate: float = Field(ge=0, description="the new rate, requests per second")


class Ramp(Strict):
    """The base rate moves linearly to ``rate`` between ``start`` and ``end``, then stays."""

    kind: Literal["ramp"] = "ramp"
    start: Duration = Field(description="the ramp starts, seconds")
    end: Duration = Field(description="the ramp reaches rate, seconds")
    rate: float = Field(ge=0, description="the rate at end, requests per second")

    @model_validator(mode="after")
    def _order(self) -> Ramp:
        if self.end <= self.start:
            raise PydanticCustomError("ramp", "must be after start", {"path": "end"})
        return self


class Spike(Strict):
    """The rate is multiplied by ``factor`` for ``duration`` from ``start`` (a flash sale)."""

    kind: Literal["spike"] = "spike"
    start: Duration = Field(description="the spike starts, seconds")
    duration: PositiveDuration = Field(description="how long it lasts, seconds")
    factor: float = Field(gt=0, description="the rate is multiplied by this meanwhile")

    @property
    def stop(self) -> float:
        """End of the spike."""
        return self.start + self.duration


class Sine(Strict):
    """The rate is multiplied by 1 + amplitude x sin(2 pi (t + phase) / period) (a daily cycle)."""

    kind: Literal["sine"] = "sine"
    period: PositiveDuration = Field(description="one cycle, seconds (86400: a day)")
    amplitude: float = Field(gt=0, le=1, description="swing as a fraction of the rate")
    phase: Duration = Field(0.0, description="shift of the cycle, seconds")


if TYPE_CHECKING:
    Change = Step | Ramp | Spike | Sine
else:
    Change = tagged_union("kind", Step, Ramp, Spike, Sine)


class ProfileArrivals(Strict):
    """A non-homogeneous Poisson process: a base ``rate`` shaped by steps, ramps, spikes, sines."""

    process: Literal["profile"] = "profile"
    rate: float = Field(ge=0, description="base requests per second at t=0")
    changes: list[Change] = Field(default_factory=list, description="in any order")

    @model_validator(mode="after")
    def _no_overlap(self) -> ProfileArrivals:
        end = 0.0
        for change in self.level_changes:
            start = change.at if isinstance(change, Step) else change.start
            if start < end:
                raise PydanticCustomError(
                    "overlap", "steps and ramps must not overlap in time", {"path": "changes"}
                )
            end = change.at if isinstance(change, Step) else change.end
        return self

    @property
    def level_changes(self) -> list[Step | Ramp]:
        """Steps and ramps in time order."""
        changes = [c for c in self.changes if isinstance(c, Step | Ramp)]
        return sorted(changes, key=lambda c: c.at if isinstance(c, Step) else c.start)

    @property
    def mean_rate(self) -> float:
        """Largest base rate the profile reaches (for load checks): a conservative figure."""
        levels = [self.rate] + [c.rate for c in self.level_changes]
        return max(levels)


class BurstyArrivals(Strict):
    """On/off Markov-modulated Poisson arrivals: bursts at ``burst_factor`` x the mean rate,
    lasting ``burst_duration`` on average, silence between, ``rate`` on average."""

    process: Literal["mmpp"] = "mmpp"
    rate: float = Field(gt=0, description="mean requests per second")
    burst_factor: float = Field(gt=1, description="rate during a burst / mean rate")
    burst_duration: PositiveDuration = Field(description="mean length of a burst, seconds")

    @property
    def mean_rate(self) -> float:
        """Long-run requests per second."""
        return self.rate


class TraceArrivals(Strict):
    """Replay of recorded arrival times: a CSV file with one timestamp (seconds) per line,
    or a column named ``time``; relative paths are read from the model file's folder."""

    process: Literal["trace"] = "trace"
    file: str = Field(min_length=1, description="timestamps, relative to the model file")
    time_scale: float = Field(1.0, gt=0, description="0.5 replays twice as fast")
    loop: bool = Field(False, description="start again when the trace ends")

    @property
    def mean_rate(self) -> float:
        """Unknown until the file is read: NaN."""
        return math.nan


if TYPE_CHECKING:
    Arrivals = PoissonArrivals | ConstantArrivals | ProfileArrivals | BurstyArrivals | TraceArrivals
else:
    Arrivals = tagged_union(
        "process", PoissonArrivals, ConstantArrivals, ProfileArrivals, BurstyArrivals, TraceArrivals
    )
ArrivalSpec = PoissonArrivals | ConstantArrivals | ProfileArrivals | BurstyArrivals | TraceArrivals

# --- the rest of the workload -------------------------------------------------------------


class RequestClass(Strict):
    """One kind of request in the workload's mix (e.g. cheap reads, expensive writes)."""

    name: str = Field(min_length=1, description="referred to by services' classes")
    weight: float = Field(gt=0, description="relative share of arrivals")
    priority: int = Field(0, description="higher is served first and shed last")
    size: Distribution | None = Field(
        None,
        description="units a request carries (an LLM request's tokens), drawn once per "
        "request: its token cost, its work per unit, its hold on a budget of units",
    )
    max_size: float | None = Field(
        None,
        gt=0,
        description="units reserved at admission (max_tokens); the size is capped at it",
        json_schema_extra=unit("units"),
    )

    @model_validator(mode="after")
    def _sized(self) -> RequestClass:
        if self.max_size is not None and self.size is None:
            raise PydanticCustomError("size", "goes with size", {"path": "max_size"})
        return self

    @property
    def mean_size(self) -> float:
        """Mean units a request of this class carries (0 without a size)."""
        if self.size is None:
            return 0.0
        mean = mean_of(self.size)
        return mean if self.max_size is None else min(mean, self.max_size)


class Clients(Strict):
    """A client population with skewed shares: client k sends a share proportional to
    1 / k^zipf_exponent (a few heavy hitters, a long tail). Keys for per-client limits."""

    count: int = Field(ge=1, le=1_000_000, description="client keys, at most a million")
    zipf_exponent: float = Field(1.0, ge=0, description="0 = all equal")


DEFAULT_CLASS = "default"


class Workload(Strict):
    """What the clients send, to which service, and how they wait and retry."""

    arrivals: Arrivals | None = Field(None, description="open loop: the arrival process")
    users: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="closed loop: users who wait, then think",
        json_schema_extra=unit("users"),
    )
    think_time: Distribution | None = Field(None, description="closed loop: pause between requests")
    target: str | None = Field(
        None, description="service that receives requests; default the first"
    )
    classes: list[RequestClass] = Field(
        default_factory=list, description="the request mix; default one class 'default'"
    )
    clients: Clients | None = Field(None, description="client keys for per-client limits")
    timeout: PositiveDuration | None = Field(None, description="per attempt: the client gives up")
    retries: RetryPolicy | None = Field(None, description="the client's retries")

    @model_validator(mode="after")
    def _consistent(self) -> Workload:
        names = [c.name for c in self.classes]
        if len(set(names)) != len(names):
            raise PydanticCustomError("classes", "class names must be unique", {"path": "classes"})
        if (self.arrivals is None) == (self.users is None):
            raise ValueError("give arrivals (open loop) or users and think_time (closed loop)")
        if self.users is not None and self.think_time is None:
            raise PydanticCustomError("think", "is required with users", {"path": "think_time"})
        if self.arrivals is not None and self.think_time is not None:
            raise PydanticCustomError(
                "think", "goes with users, not arrivals", {"path": "think_time"}
            )
        return self

    @property
    def closed(self) -> bool:
        """True for closed-loop users."""
        return self.users is not None

    @property
    def class_names(self) -> list[str]:
        """Names of the request classes, in order."""
        return [c.name for c in self.classes] or [DEFAULT_CLASS]

    @property
    def class_shares(self) -> list[float]:
        """Share of requests per class, summing to one."""
        if not self.classes:
            return [1.0]
        total = sum(c.weight for c in self.classes)
        return [c.weight / total for c in self.classes]

    @property
    def priorities(self) -> list[int]:
        """Priority per class."""
        return [c.priority for c in self.classes] or [0]
