"""Adaptive concurrency limits: Netflix concurrency-limits' AIMD and Gradient2."""

from __future__ import annotations

import math


class StaticLimit:
    """A fixed ``max_concurrency``."""

    def __init__(self, limit: int) -> None:
        self.limit = float(limit)

    def on_sample(self, rtt: float, inflight: int, dropped: bool) -> float:
        """Nothing changes; return the limit."""
        return self.limit


class AIMDLimit:
    """On a drop or rtt > timeout: L = floor(L x backoff_ratio); else if inflight x 2 >= L:
    L + 1; clamped to [min_limit, max_limit] (AIMDLimit.java)."""

    def __init__(
        self,
        initial_limit: int,
        min_limit: int,
        max_limit: int,
        backoff_ratio: float,
        timeout: float,
    ) -> None:
        self.limit = float(initial_limit)
        self.min_limit, self.max_limit = min_limit, max_limit
        self.backoff_ratio, self.timeout = backoff_ratio, timeout

    def on_sample(self, rtt: float, inflight: int, dropped: bool) -> float:
        """Update from one completed request; return the new limit."""
        limit = self.limit
        if dropped or rtt > self.timeout:
            limit = math.floor(limit * self.backoff_ratio)
        elif inflight * 2 >= limit:
            limit = limit + 1
        self.limit = float(min(self.max_limit, max(self.min_limit, limit)))
        return self.limit


class Gradient2Limit:
    """long_rtt = EMA(rtt) over ``long_window`` samples; gradient = clamp(rtt_tolerance x
    long_rtt / rtt, 0.5, 1); new = L x gradient + queue_size; L = (1 - smoothing) L +
    smoothing x new; clamped to [min_limit, max_limit] (Gradient2Limit.java)."""

    def __init__(
        self,
        initial_limit: int,
        min_limit: int,
        max_limit: int,
        smoothing: float,
        rtt_tolerance: float,
        long_window: int,
        queue_size: int,
    ) -> None:
        self.limit = float(initial_limit)
        self.min_limit, self.max_limit = min_limit, max_limit
        self.smoothing, self.rtt_tolerance = smoothing, rtt_tolerance
        self.factor = 2.0 / (long_window + 1)
        self.queue_size = queue_size
        self.long_rtt: float | None = None

    def on_sample(self, rtt: float, inflight: int, dropped: bool) -> float:
        """Update from one completed request; return the new limit."""
        if rtt <= 0:
            return self.limit
        if self.long_rtt is None:
            self.long_rtt = rtt
        else:
            self.long_rtt = self.long_rtt * (1 - self.factor) + rtt * self.factor
        gradient = max(0.5, min(1.0, self.rtt_tolerance * self.long_rtt / rtt))
        new = self.limit * gradient + self.queue_size
        limit = (1 - self.smoothing) * self.limit + self.smoothing * new
        self.limit = min(float(self.max_limit), max(float(self.min_limit), limit))
        return self.limit
