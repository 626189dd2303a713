"""Admission rate limits: Envoy's token bucket and nginx's limit_req leaky bucket.

Both answer the one question the engine asks, :meth:`RateLimitPolicy.admit`, so the
engine never needs to know which kind of limiter a service has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Admission:
    """A limiter's answer: admitted (after ``delay`` seconds), or refused with a
    Retry-After of ``retry_after`` seconds."""

    admitted: bool
    delay: float = 0.0
    retry_after: float = 0.0


class RateLimitPolicy(Protocol):
    """What every rate limiter offers the engine."""

    def admit(self, now: float, cost: float) -> Admission:
        """Decide on a request of ``cost`` (tokens) arriving at ``now``."""
        ...


class TokenBucket:
    """Envoy local_ratelimit: starts full with ``max_tokens``, refills continuously at
    ``tokens_per_fill / fill_interval`` per second; a request takes its cost or is refused."""

    def __init__(self, max_tokens: float, tokens_per_fill: float, fill_interval: float) -> None:
        if max_tokens <= 0 or tokens_per_fill <= 0 or fill_interval <= 0:
            raise ValueError("max_tokens, tokens_per_fill and fill_interval must be > 0")
        self.capacity = float(max_tokens)
        self.rate = tokens_per_fill / fill_interval
        self.tokens = float(max_tokens)
        self.last = 0.0

    def _refill(self, now: float) -> None:
        if now > self.last:
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
            self.last = now

    def try_take(self, now: float, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens at ``now`` if there are enough; False means 429."""
        self._refill(now)
        if self.tokens >= cost - 1e-9:  # float rounding must not refuse a due token
            self.tokens = max(0.0, self.tokens - cost)
            return True
        return False

    def retry_after(self, now: float, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens will be there (what a Retry-After header says)."""
        self._refill(now)
        missing = cost - self.tokens
        return 0.0 if missing <= 0 else missing / self.rate

    def admit(self, now: float, cost: float) -> Admission:
        """Take ``cost`` tokens, or refuse with the time until they are there."""
        if self.try_take(now, cost):
            return Admission(True)
        return Admission(False, retry_after=self.retry_after(now, cost))


@dataclass(frozen=True)
class LimitReqDecision:
    """nginx's answer for one request."""

    admitted: bool
    delay: float = 0.0  # seconds the request is held before it is passed on


class LimitReq:
    """nginx limit_req (ngx_http_limit_req_module.c): a leaky bucket of ``excess`` requests.

    The first request of a key starts at excess 0; after it, excess = max(0, excess -
    rate x elapsed + 1); over ``burst`` -> reject (the state is not changed); else at most
    ``delay`` -> pass at once; else wait (excess - delay) / rate. ``nodelay`` is
    delay = infinity.
    """

    def __init__(self, rate: float, burst: float, delay: float) -> None:
        if rate <= 0 or burst < 0 or delay < 0:
            raise ValueError("rate must be > 0, burst and delay >= 0")
        self.rate = rate
        self.burst = burst
        self.delay = delay
        self.excess = 0.0
        self.last: float | None = None

    def decide(self, now: float) -> LimitReqDecision:
        """Admit (maybe after a delay) or reject a request arriving at ``now``."""
        if self.last is None:
            excess = 0.0  # a new key: nginx creates its node with no excess
        else:
            excess = max(0.0, self.excess - self.rate * (now - self.last) + 1)
        if excess > self.burst + 1e-12:
            return LimitReqDecision(False)
        self.excess, self.last = excess, now
        if excess <= self.delay:
            return LimitReqDecision(True)
        return LimitReqDecision(True, (excess - self.delay) / self.rate)

    def retry_after(self, now: float) -> float:
        """Seconds until a request would be admitted again."""
        elapsed = 0.0 if self.last is None else now - self.last
        excess = max(0.0, self.excess - self.rate * elapsed + 1)
        return max(0.0, (excess - self.burst) / self.rate)

    def admit(self, now: float, cost: float) -> Admission:
        """nginx counts requests, not tokens: ``cost`` is ignored."""
        decision = self.decide(now)
        if decision.admitted:
            return Admission(True, decision.delay)
        return Admission(False, retry_after=self.retry_after(now))


NODELAY = math.inf
