"""A service's admission controls wired to time: rate limits and concurrency limits."""

from __future__ import annotations

import math

from sim.distributions import Sampler
from sim.engine.streams import Streams
from sim.measure.recorders import Gauge
from sim.model.controls import (
    AIMDConcurrency,
    Gradient2Concurrency,
    LimitReqSpec,
    StaticConcurrency,
    TokenBucketSpec,
)
from sim.policies.concurrency import AIMDLimit, Gradient2Limit, StaticLimit
from sim.policies.ratelimit import LimitReq, TokenBucket


class RateLimiter:
    """One limiter for the service, or one per client key."""

    def __init__(self, spec: TokenBucketSpec | LimitReqSpec, streams: Streams, service: str):
        self.spec = spec
        self.per_client = spec.per_client
        self._limiters: dict[int, TokenBucket | LimitReq] = {}
        self.cost = None
        if isinstance(spec, TokenBucketSpec) and spec.cost is not None:
            self.cost = Sampler(spec.cost, streams.rng("service", service, "rate_limit", "cost"))

    def _limiter(self, client: int) -> TokenBucket | LimitReq:
        key = client if self.per_client else 0
        limiter = self._limiters.get(key)
        if limiter is None:
            spec = self.spec
            if isinstance(spec, TokenBucketSpec):
                limiter = TokenBucket(spec.capacity, spec.refill_rate, 1.0)
            else:
                delay = math.inf if spec.nodelay else spec.delay
                limiter = LimitReq(spec.rate, spec.burst, delay)
            self._limiters[key] = limiter
        return limiter

    def admit(self, now: float, client: int) -> tuple[bool, float, float]:
        """(admitted, delay before passing on, Retry-After if refused)."""
        limiter = self._limiter(client)
        if isinstance(limiter, TokenBucket):
            cost = self.cost() if self.cost is not None else 1.0
            if limiter.try_take(now, cost):
                return True, 0.0, 0.0
            return False, 0.0, limiter.retry_after(now, cost)
        decision = limiter.decide(now)
        if decision.admitted:
            return True, decision.delay, 0.0
        return False, 0.0, limiter.retry_after(now)


class ConcurrencyLimiter:
    """Requests in progress at the service against a static or adaptive limit."""

    def __init__(
        self, spec: StaticConcurrency | AIMDConcurrency | Gradient2Concurrency, gauge: Gauge
    ) -> None:
        if isinstance(spec, StaticConcurrency):
            self.policy = StaticLimit(spec.max_concurrency)
        elif isinstance(spec, AIMDConcurrency):
            self.policy = AIMDLimit(
                spec.initial_limit, spec.min_limit, spec.max_limit, spec.backoff_ratio, spec.timeout
            )
        else:
            self.policy = Gradient2Limit(
                spec.initial_limit,
                spec.min_limit,
                spec.max_limit,
                spec.smoothing,
                spec.rtt_tolerance,
                spec.long_window,
                spec.queue_size,
            )
        self.inflight = 0
        self.gauge = gauge  # the limit over time
        self.limit = self.policy.limit
        gauge.add(0.0, self.limit)

    def try_enter(self) -> bool:
        """Admit one more request if below the limit."""
        if self.inflight >= self.limit:
            return False
        self.inflight += 1
        return True

    def leave(self, now: float, rtt: float, dropped: bool) -> None:
        """A request admitted earlier finished after ``rtt`` seconds."""
        new = self.policy.on_sample(rtt, self.inflight, dropped)
        self.inflight -= 1
        if new != self.limit:
            self.gauge.add(now, new - self.limit)
            self.limit = new
