"""The schema of overload controls: rate and concurrency limits, breakers, retries, queues.

Each control uses the real system's names (see the README's "Overload controls"), so a
value copied from production behaves as it does there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from sim.model.base import Duration, PositiveDuration, Strict, tagged_union, unit, word_or
from sim.model.distributions import Distribution
from sim.policies.circuit_breaker import BreakerConfig, CircuitBreaker
from sim.policies.concurrency import AIMDLimit, Gradient2Limit, StaticLimit
from sim.policies.ratelimit import (
    NODELAY,
    FixedWindow,
    LimitReq,
    SlidingLog,
    SlidingWindowCounter,
    TokenBucket,
)
from sim.policies.retry import Backoff, RetryBudget, RetryThrottle

SIZE = "size"
"""A rate limit's ``cost`` that charges each request its class's size (see RequestClass)."""

if TYPE_CHECKING:
    TokenCost = Distribution | Literal["size"]
else:
    TokenCost = word_or(SIZE, Distribution, "a distribution of tokens")

# --- rate limits --------------------------------------------------------------------------


class _Scoped(Strict):
    """An admission limit that applies to the whole service or to each replica."""

    scope: Literal["service", "replica"] = Field(
        "service",
        description="service: one limit for all replicas (a gateway, a global limiter); "
        "replica: each replica has its own, so the total grows with replicas",
    )


class TokenBucketSpec(_Scoped):
    """Envoy local_ratelimit's token bucket, or the shorthand ``rate`` + ``burst``."""

    kind: Literal["token_bucket"] = "token_bucket"
    max_tokens: float | None = Field(None, gt=0, description="bucket size; it starts full")
    tokens_per_fill: float = Field(1.0, gt=0, description="tokens added per fill_interval")
    fill_interval: PositiveDuration | None = Field(None, description="seconds per fill")
    rate: float | None = Field(None, gt=0, description="shorthand: tokens per second")
    burst: float | None = Field(None, gt=0, description="shorthand: bucket size (max_tokens)")
    cost: TokenCost | None = Field(
        None,
        description="tokens a request takes (e.g. LLM tokens), or 'size': its class's size, "
        "reserved at admission and reconciled after the response; default 1",
    )
    per_client: bool = Field(False, description="one bucket per client key")

    @model_validator(mode="after")
    def _one_form(self) -> TokenBucketSpec:
        envoy = self.max_tokens is not None or self.fill_interval is not None
        short = self.rate is not None or self.burst is not None
        if envoy == short:
            raise ValueError("give max_tokens and fill_interval (Envoy), or rate and burst")
        if envoy and (self.max_tokens is None or self.fill_interval is None):
            raise ValueError("Envoy's form needs both max_tokens and fill_interval")
        if short and self.rate is None:
            raise PydanticCustomError("rate", "is required with burst", {"path": "rate"})
        return self

    @property
    def capacity(self) -> float:
        """Bucket size in tokens."""
        if self.max_tokens is not None:
            return self.max_tokens
        if self.burst is not None:
            return self.burst
        assert self.rate is not None  # the validator saw to it
        return max(self.rate, 1.0)

    @property
    def refill_rate(self) -> float:
        """Tokens per second."""
        if self.rate is not None:
            return self.rate
        assert self.fill_interval is not None  # the validator saw to it
        return self.tokens_per_fill / self.fill_interval

    def build(self) -> TokenBucket:
        """A fresh bucket (one per service, or per client key)."""
        return TokenBucket(self.capacity, self.refill_rate, 1.0)


class LimitReqSpec(_Scoped):
    """nginx limit_req: ``rate`` per second, ``burst``, ``delay`` (or ``nodelay``)."""

    kind: Literal["limit_req"] = "limit_req"
    rate: float = Field(gt=0, description="requests per second")
    burst: float = Field(0.0, ge=0, description="excess requests allowed")
    delay: float = Field(0.0, ge=0, description="excess passed at once; beyond it, delayed")
    nodelay: bool = Field(False, description="pass the whole burst at once")
    per_client: bool = Field(False, description="one limit per client key")

    @property
    def cost(self) -> None:
        """nginx counts requests: a request has no token cost."""
        return None

    @property
    def refill_rate(self) -> float:
        """The sustained rate it lets through: requests per second."""
        return self.rate

    def build(self) -> LimitReq:
        """A fresh leaky bucket (one per service, or per client key)."""
        return LimitReq(self.rate, self.burst, NODELAY if self.nodelay else self.delay)


class _WindowSpec(_Scoped):
    """A windowed limit: at most ``limit`` units (requests, or their ``cost``) per
    ``window``, as gateways and model providers state it ("600 requests per minute")."""

    limit: float = Field(gt=0, description="units per window: requests, or tokens with cost")
    window: PositiveDuration = Field(description="seconds: 60 for per minute")
    cost: TokenCost | None = Field(
        None,
        description="units a request counts for (e.g. LLM tokens), or 'size': its class's "
        "size, reserved at admission and reconciled after the response; default 1",
    )
    per_client: bool = Field(False, description="one limit per client key")

    @property
    def refill_rate(self) -> float:
        """The sustained rate it lets through: units per second."""
        return self.limit / self.window


class FixedWindowSpec(_WindowSpec):
    """A counter per window aligned to multiples of ``window``, reset at each boundary
    (Kong rate-limiting, Redis INCR + EXPIRE): up to twice the limit across a boundary."""

    kind: Literal["fixed_window"] = "fixed_window"

    def build(self) -> FixedWindow:
        """A fresh counter (one per service, or per client key)."""
        return FixedWindow(self.limit, self.window)


class SlidingLogSpec(_WindowSpec):
    """Every admitted request's time kept for ``window``: at most ``limit`` in any window."""

    kind: Literal["sliding_log"] = "sliding_log"

    def build(self) -> SlidingLog:
        """A fresh log (one per service, or per client key)."""
        return SlidingLog(self.limit, self.window)


class SlidingWindowSpec(_WindowSpec):
    """Cloudflare's sliding window counter: the previous window's count, weighted by how
    much of it the sliding window still covers, plus the current window's."""

    kind: Literal["sliding_window"] = "sliding_window"

    def build(self) -> SlidingWindowCounter:
        """Fresh counters (one per service, or per client key)."""
        return SlidingWindowCounter(self.limit, self.window)


if TYPE_CHECKING:
    RateLimit = (
        TokenBucketSpec | LimitReqSpec | FixedWindowSpec | SlidingLogSpec | SlidingWindowSpec
    )
else:
    RateLimit = tagged_union(
        "kind", TokenBucketSpec, LimitReqSpec, FixedWindowSpec, SlidingLogSpec, SlidingWindowSpec
    )

# --- concurrency limits -------------------------------------------------------------------


class StaticConcurrency(_Scoped):
    """A fixed limit on requests in progress at the service."""

    kind: Literal["static"] = "static"
    max_concurrency: int = Field(
        ge=1, description="requests served at once; the rest are refused (503)"
    )

    def build(self) -> StaticLimit:
        """The pure policy."""
        return StaticLimit(self.max_concurrency)


class AdaptiveLimitSpec(_Scoped):
    """The bounds every Netflix concurrency-limits algorithm shares."""

    initial_limit: int = Field(20, ge=1, description="the limit at start")
    min_limit: int = Field(20, ge=1, description="the limit never goes below this")
    max_limit: int = Field(200, ge=1, description="the limit never goes above this")


class AIMDConcurrency(AdaptiveLimitSpec):
    """Netflix concurrency-limits' AIMDLimit."""

    kind: Literal["aimd"] = "aimd"
    backoff_ratio: float = Field(
        0.9, gt=0, lt=1, description="on a drop the limit is multiplied by this"
    )
    timeout: PositiveDuration = Field(5.0, description="an rtt above this counts as a drop")

    def build(self) -> AIMDLimit:
        """The pure policy."""
        return AIMDLimit(
            self.initial_limit, self.min_limit, self.max_limit, self.backoff_ratio, self.timeout
        )


class Gradient2Concurrency(AdaptiveLimitSpec):
    """Netflix concurrency-limits' Gradient2Limit."""

    kind: Literal["gradient2"] = "gradient2"
    smoothing: float = Field(0.2, gt=0, le=1, description="weight of each new limit estimate")
    rtt_tolerance: float = Field(
        1.5, ge=1, description="long-term rtt over short-term rtt tolerated before backing off"
    )
    long_window: int = Field(600, ge=1, description="samples in the long-term rtt average")
    queue_size: int = Field(
        4, ge=0, description="headroom added to the gradient's limit (Gradient2's queueSize)"
    )

    def build(self) -> Gradient2Limit:
        """The pure policy."""
        return Gradient2Limit(
            self.initial_limit,
            self.min_limit,
            self.max_limit,
            self.smoothing,
            self.rtt_tolerance,
            self.long_window,
            self.queue_size,
        )


if TYPE_CHECKING:
    ConcurrencyLimit = StaticConcurrency | AIMDConcurrency | Gradient2Concurrency
else:
    ConcurrencyLimit = tagged_union(
        "kind", StaticConcurrency, AIMDConcurrency, Gradient2Concurrency
    )

# --- circuit breakers ---------------------------------------------------------------------


class CircuitBreakerSpec(Strict):
    """Resilience4j's CircuitBreakerConfig, in snake_case, with its defaults."""

    failure_rate_threshold: float = Field(
        50.0, gt=0, le=100, description="failure rate that opens it", json_schema_extra=unit("%")
    )
    slow_call_rate_threshold: float = Field(
        100.0, gt=0, le=100, description="slow-call rate that opens it", json_schema_extra=unit("%")
    )
    slow_call_duration_threshold: PositiveDuration = Field(
        60.0, description="a call slower than this counts as slow"
    )
    sliding_window_type: Literal["COUNT_BASED", "TIME_BASED"] = Field(
        "COUNT_BASED", description="window of the last N calls, or of the last N seconds"
    )
    sliding_window_size: int = Field(
        100, ge=1, le=100_000, description="calls, or seconds if TIME_BASED"
    )
    minimum_number_of_calls: int = Field(
        100, ge=1, description="calls in the window before rates are judged"
    )
    wait_duration_in_open_state: PositiveDuration = Field(
        60.0, description="time open before half-open"
    )
    permitted_number_of_calls_in_half_open_state: int = Field(
        10, ge=1, description="trial calls while half-open"
    )
    automatic_transition_from_open_to_half_open_enabled: bool = Field(
        False, description="go half-open when the wait ends, not on the next call"
    )
    max_wait_duration_in_half_open_state: Duration = Field(0.0, description="0 = off")
    initial_state: Literal["CLOSED", "OPEN"] = Field(
        "CLOSED", description="OPEN: the run starts with the breaker open (opened at t=0)"
    )
    fallback: Distribution | None = Field(
        None, description="while open, answer from a fallback taking this long (else fail fast)"
    )

    def build(self) -> CircuitBreaker:
        """A fresh breaker (one per caller replica and call), open since t=0 if the run
        starts that way."""
        breaker = CircuitBreaker(
            BreakerConfig(
                failure_rate_threshold=self.failure_rate_threshold,
                slow_call_rate_threshold=self.slow_call_rate_threshold,
                slow_call_duration_threshold=self.slow_call_duration_threshold,
                sliding_window_type=self.sliding_window_type,
                sliding_window_size=self.sliding_window_size,
                minimum_number_of_calls=self.minimum_number_of_calls,
                wait_duration_in_open_state=self.wait_duration_in_open_state,
                permitted_number_of_calls_in_half_open_state=(
                    self.permitted_number_of_calls_in_half_open_state
                ),
                automatic_transition_from_open_to_half_open_enabled=(
                    self.automatic_transition_from_open_to_half_open_enabled
                ),
                max_wait_duration_in_half_open_state=self.max_wait_duration_in_half_open_state,
            )
        )
        if self.initial_state == "OPEN":
            breaker.open_at(0.0)
        return breaker


# --- retries ------------------------------------------------------------------------------

Retryable = Literal[
    "timeout",
    "error",
    "queue_full",
    "pool_full",
    "rate_limited",
    "concurrency_limited",
    "circuit_open",
    "queue_timeout",
    "codel",
]
RETRYABLE: tuple[Retryable, ...] = get_args(Retryable)
"""Every failure outcome: what is retried unless ``retry_on`` says otherwise."""


class RetryBudgetSpec(Strict):
    """Envoy's retry budget."""

    budget_percent: float = Field(
        20.0,
        ge=0,
        le=100,
        json_schema_extra=unit("%"),
        description="retries in flight as a share of requests in flight",
    )
    min_retry_concurrency: int = Field(
        3, ge=0, description="retries always allowed in flight, whatever the budget"
    )

    def build(self) -> RetryBudget:
        """Envoy's budget with these limits."""
        return RetryBudget(self.budget_percent, self.min_retry_concurrency)


class RetryThrottlingSpec(Strict):
    """gRPC's retryThrottling."""

    max_tokens: float = Field(
        10.0, gt=0, description="token bucket size; retries stop below half of it"
    )
    token_ratio: float = Field(
        0.1, gt=0, description="tokens a success adds back (a failure takes 1)"
    )

    def build(self) -> RetryThrottle:
        """gRPC's token counter, full at the start."""
        return RetryThrottle(self.max_tokens, self.token_ratio)


class RetryPolicy(Strict):
    """Retries with backoff and jitter (AWS), a budget (Envoy) or throttling (gRPC), hedging.

    ``base``/``cap``/``multiplier`` are AWS's base/cap and gRPC's initial_backoff /
    max_backoff / backoff_multiplier.
    """

    max_attempts: int = Field(3, ge=1, description="attempts in all, the first included")
    base: Duration = Field(0.1, description="first backoff, seconds")
    cap: Duration = Field(20.0, description="longest backoff, seconds")
    multiplier: float = Field(2.0, ge=1, description="each backoff is this many times the last")
    jitter: Literal["none", "full", "equal", "decorrelated"] = Field(
        "full", description="randomness in each backoff (AWS)"
    )
    retry_on: list[Retryable] = Field(
        default_factory=lambda: list(RETRYABLE), description="outcomes that are retried"
    )
    budget: RetryBudgetSpec | None = Field(None, description="Envoy's retry budget")
    throttling: RetryThrottlingSpec | None = Field(None, description="gRPC's retry throttling")
    respect_retry_after: bool = Field(False, description="wait as Retry-After says on 429/503")
    hedging_delay: PositiveDuration | None = Field(
        None, description="gRPC hedging: send another copy every hedging_delay; first success wins"
    )

    def build_backoff(self) -> Backoff:
        """The sleep rule between attempts."""
        return Backoff(self.base, self.cap, self.jitter, self.multiplier)


# --- queues -------------------------------------------------------------------------------


def _patience(value: Any) -> Any:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return {"distribution": "constant", "value": value}
    return value


Patience = Annotated[Distribution, BeforeValidator(_patience)]
"""A duration, or a distribution of durations (e.g. exponential patience)."""


class QueueTimeout(Strict):
    """How long a request may wait for a worker, and when one that waited too long goes.

    ``drop: lazy`` (the default): it is dropped when a worker dequeues it, keeping its
    waiting place until then, as a server's own queue does (a thread pool or a servlet
    container checks a request's age when it picks it up). ``drop: eager``: it leaves the
    queue the moment its time is up, as HAProxy's ``timeout queue``, a Resilience4j
    bulkhead's ``maxWaitDuration`` or an impatient caller does (Erlang A's abandonment).
    """

    after: Patience = Field(description="a duration, or a distribution of patience")
    drop: Literal["lazy", "eager"] = Field(
        "lazy", description="lazy: when dequeued; eager: the moment the time is up"
    )


def _queue_timeout(value: Any) -> Any:
    if isinstance(value, dict) and ("after" in value or "drop" in value):
        return value
    return value if value is None or isinstance(value, QueueTimeout) else {"after": value}


QueueTimeoutField = Annotated[QueueTimeout, BeforeValidator(_queue_timeout)]
"""``queue_timeout: 2s`` (lazy), a distribution, or ``{after: 2s, drop: eager}``."""


class CodelSpec(Strict):
    """CoDel for request queues (folly)."""

    target: PositiveDuration = Field(0.005, description="acceptable standing queue delay")
    interval: PositiveDuration = Field(
        0.1, description="window in which the delay must dip under target"
    )


Discipline = Literal["fifo", "lifo", "adaptive_lifo"]
