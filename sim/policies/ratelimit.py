"""Admission rate limits: Envoy's token bucket, nginx's limit_req leaky bucket, and the
windowed counts of API gateways and model providers (fixed window, sliding log, sliding
window counter).

All answer the one question the engine asks, :meth:`RateLimitPolicy.admit`, so the
engine never needs to know which kind of limiter a service has.
"""

from __future__ import annotations

import math
from collections import deque
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

    def refund(self, now: float, admitted: float, units: float) -> None:
        """Give back ``units`` of a charge made at ``admitted``: a reservation reconciled
        with the actual cost once the response is known."""
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

    def refund(self, now: float, admitted: float, units: float) -> None:
        """Put ``units`` back in the bucket (never above its size)."""
        self._refill(now)
        self.tokens = min(self.capacity, self.tokens + units)


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

    def refund(self, now: float, admitted: float, units: float) -> None:
        """nginx counts requests: nothing to give back."""


NODELAY = math.inf


# --- windowed limits: "N per minute" as API gateways and model providers count them -----

_SLACK = 1e-9  # float rounding must not refuse the last unit of a window


class FixedWindow:
    """At most ``limit`` units in each window ``[k x window, (k + 1) x window)``, counted
    from zero at every boundary (Kong's rate-limiting plugin, Redis INCR + EXPIRE, most
    providers' "per minute"). Up to twice the limit can pass across one boundary."""

    def __init__(self, limit: float, window: float) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError("limit and window must be > 0")
        self.limit, self.window = limit, window
        self.start, self.used = 0.0, 0.0

    def admit(self, now: float, cost: float) -> Admission:
        """Count ``cost`` in the current window, or refuse until the window ends."""
        start = math.floor(now / self.window) * self.window
        if start != self.start:
            self.start, self.used = start, 0.0
        if self.used + cost <= self.limit + _SLACK:
            self.used += cost
            return Admission(True)
        return Admission(False, retry_after=self.start + self.window - now)

    def refund(self, now: float, admitted: float, units: float) -> None:
        """Take ``units`` off the count, if the window it was counted in is still open."""
        if math.floor(admitted / self.window) * self.window == self.start:
            self.used = max(0.0, self.used - units)


class SlidingLog:
    """Every admitted request's time and cost, kept for ``window`` seconds: at most
    ``limit`` units in any window ``(now - window, now]`` (the sliding log: exact, and
    costly for a real gateway to keep, which is why the counter below exists)."""

    def __init__(self, limit: float, window: float) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError("limit and window must be > 0")
        self.limit, self.window = limit, window
        self.log: deque[tuple[float, float]] = deque()
        self.used = 0.0

    def admit(self, now: float, cost: float) -> Admission:
        """Admit if the last window's units plus ``cost`` fit; else refuse until enough
        of them have aged out."""
        self._age(now)
        log = self.log
        if self.used + cost <= self.limit + _SLACK:
            log.append((now, cost))
            self.used += cost
            return Admission(True)
        freed = 0.0
        for at, units in log:  # the oldest leave first
            freed += units
            if self.used - freed + cost <= self.limit + _SLACK:
                return Admission(False, retry_after=at + self.window - now)
        return Admission(False, retry_after=self.window)  # a cost above the limit

    def _age(self, now: float) -> None:
        """Forget what left the window ``(now - window, now]``."""
        log = self.log
        while log and log[0][0] <= now - self.window:
            self.used -= log.popleft()[1]
        if not log:
            self.used = 0.0  # no drift from adding and removing floats

    def refund(self, now: float, admitted: float, units: float) -> None:
        """Lower the logged cost of the request admitted at ``admitted``, if it is still
        in the log (the newest such entry: refunds come soon after admission)."""
        self._age(now)
        for index in range(len(self.log) - 1, -1, -1):
            at, cost = self.log[index]
            if at == admitted and cost >= units:
                self.log[index] = (at, cost - units)
                self.used = max(0.0, self.used - units)
                return
            if at < admitted:
                return


class SlidingWindowCounter:
    """Cloudflare's sliding window: the previous fixed window's count, weighted by the
    share of it the sliding window still covers, plus the current window's count, must
    stay within ``limit``. Two counters instead of a log; it assumes the previous
    window's requests were spread evenly."""

    def __init__(self, limit: float, window: float) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError("limit and window must be > 0")
        self.limit, self.window = limit, window
        self.start, self.used, self.previous = 0.0, 0.0, 0.0

    def estimate(self, now: float) -> float:
        """Units the sliding window ending at ``now`` is estimated to hold."""
        start = math.floor(now / self.window) * self.window
        if start != self.start:
            self.previous = self.used if start - self.start == self.window else 0.0
            self.start, self.used = start, 0.0
        covered = (self.window - (now - self.start)) / self.window
        return self.previous * covered + self.used

    def admit(self, now: float, cost: float) -> Admission:
        """Admit if the estimate plus ``cost`` fits; else refuse until it would."""
        if self.estimate(now) + cost <= self.limit + _SLACK:
            self.used += cost
            return Admission(True)
        room = self.limit - self.used - cost
        if room >= 0:  # the previous window's share must shrink, later in this window
            waited = self.start + self.window * (1 - room / self.previous)
            return Admission(False, retry_after=max(0.0, waited - now))
        spare = self.limit - cost  # in the next window, this one's count is the weighted one
        if spare < 0:
            return Admission(False, retry_after=self.window)  # a cost above the limit
        waited = self.start + self.window * (2 - spare / self.used)
        return Admission(False, retry_after=max(0.0, waited - now))

    def refund(self, now: float, admitted: float, units: float) -> None:
        """Take ``units`` off the count of the window it was counted in, current or
        previous."""
        self.estimate(now)  # roll the windows forward to now
        start = math.floor(admitted / self.window) * self.window
        if start == self.start:
            self.used = max(0.0, self.used - units)
        elif start == self.start - self.window:
            self.previous = max(0.0, self.previous - units)
