"""A service's admission controls wired to time: rate limits and concurrency limits, for
the whole service or for each replica (``scope``)."""

from __future__ import annotations

from sim.distributions import Sampler
from sim.engine.request import RequestInfo
from sim.engine.streams import Streams
from sim.measure.gauge import Gauge
from sim.model.controls import SIZE, ConcurrencyLimit, RateLimit
from sim.policies.ratelimit import Admission, RateLimitPolicy


class RateLimiter:
    """One limiter for the service, or one per client key, built from the spec."""

    def __init__(self, spec: RateLimit, streams: Streams, service: str, replica: str = "") -> None:
        self.spec = spec
        self.per_client = spec.per_client
        self._limiters: dict[int, RateLimitPolicy] = {}
        self.cost = None
        self.by_size = spec.cost == SIZE
        if spec.cost is not None and not self.by_size:
            name = ("service", service, "rate_limit", "cost", *([replica] if replica else []))
            self.cost = Sampler(spec.cost, streams.rng(*name))

    def _limiter(self, client: int) -> RateLimitPolicy:
        key = client if self.per_client else 0
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = self.spec.build()
        return limiter

    def admit(self, now: float, info: RequestInfo) -> Admission:
        """Admitted (after a delay), or refused with a Retry-After. With ``cost: size`` the
        request is charged what it reserved (its max_size, else its size)."""
        if self.by_size:
            return self._limiter(info.client).admit(now, info.reserved)
        return self._limiter(info.client).admit(now, self.cost() if self.cost is not None else 1.0)

    def refund(self, now: float, admitted: float, info: RequestInfo, units: float) -> None:
        """Give back ``units`` of the charge made at ``admitted`` (reconciling a reservation
        with what the request cost)."""
        self._limiter(info.client).refund(now, admitted, units)


class ConcurrencyLimiter:
    """Requests in progress at the service against a static or adaptive limit."""

    def __init__(self, spec: ConcurrencyLimit, gauge: Gauge, now: float = 0.0) -> None:
        self.policy = spec.build()
        self.inflight = 0
        self.gauge = gauge  # the limit over time (the sum over replicas for scope: replica)
        self.limit = self.policy.limit
        gauge.add(now, self.limit)

    def retire(self, now: float) -> None:
        """Its replica is gone: its share of the limit leaves the gauge."""
        self.gauge.add(now, -self.limit)

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
