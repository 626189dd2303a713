"""Retries: AWS backoff with jitter, gRPC's policy, Envoy's retry budget, gRPC retry throttling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


def exponential(attempt: int, base: float, cap: float, multiplier: float = 2.0) -> float:
    """AWS expo(n) = min(cap, base x multiplier^n) for the n-th retry (n from 0)."""
    return min(cap, base * multiplier**attempt)


class Backoff:
    """Sleep before each retry, by AWS's "Exponential Backoff and Jitter" formulas.

    ``none``: expo(n); ``full``: U(0, expo(n)); ``equal``: expo/2 + U(0, expo/2);
    ``decorrelated``: sleep = min(cap, U(base, 3 x previous sleep)), starting from base.
    gRPC's retryPolicy is ``full`` with its initial_backoff, backoff_multiplier, max_backoff.
    """

    def __init__(self, base: float, cap: float, jitter: str, multiplier: float) -> None:
        if jitter not in ("none", "full", "equal", "decorrelated"):
            raise ValueError(f"unknown jitter {jitter!r}")
        if base < 0 or cap < 0 or multiplier < 1:
            raise ValueError("base and cap must be >= 0, multiplier >= 1")
        self.base, self.cap, self.jitter, self.multiplier = base, cap, jitter, multiplier

    def sleep(self, retry: int, previous: float, uniform: Callable[[], float]) -> float:
        """The wait before retry number ``retry`` (0 = the first retry); ``previous`` is the
        last sleep (for decorrelated jitter), ``uniform`` draws U(0, 1)."""
        if self.jitter == "decorrelated":
            low = self.base
            high = max(3 * (previous or self.base), low)
            return min(self.cap, low + uniform() * (high - low))
        expo = exponential(retry, self.base, self.cap, self.multiplier)
        if self.jitter == "none":
            return expo
        if self.jitter == "full":
            return uniform() * expo
        return expo / 2 + uniform() * expo / 2


class RetryGate(Protocol):
    """What may stop a retry that the attempt count and the outcome allow."""

    def allows(self, active_requests: int) -> bool:
        """Whether one more retry may start now, with ``active_requests`` in progress."""
        ...

    def attempted(self, failed: bool, was_retry: bool) -> None:
        """One attempt ended (a retry when ``was_retry``)."""
        ...

    def retrying(self) -> None:
        """A retry was decided and is waiting out its backoff."""
        ...


class RetryBudget:
    """Envoy's retry budget: retries in flight may not exceed
    max(budget_percent / 100 x (active + pending requests), min_retry_concurrency)."""

    def __init__(self, budget_percent: float, min_retry_concurrency: int) -> None:
        self.budget_percent = budget_percent
        self.min_retry_concurrency = min_retry_concurrency
        self.active_retries = 0

    def allows(self, active_requests: int) -> bool:
        """Whether one more retry may start now (Envoy truncates the budget to a whole number)."""
        budget = int(self.budget_percent / 100 * active_requests)
        return self.active_retries < max(budget, self.min_retry_concurrency)

    def attempted(self, failed: bool, was_retry: bool) -> None:
        """A retry that ended is no longer in flight."""
        if was_retry:
            self.active_retries -= 1

    def retrying(self) -> None:
        """A retry counts against the budget from the moment it is decided."""
        self.active_retries += 1


class RetryThrottle:
    """gRPC retryThrottling: tokens start at max_tokens; a failure costs 1, a success refunds
    token_ratio (up to max_tokens); retries only while tokens > max_tokens / 2."""

    def __init__(self, max_tokens: float, token_ratio: float) -> None:
        self.max_tokens = max_tokens
        self.token_ratio = token_ratio
        self.tokens = max_tokens

    def on_result(self, failed: bool) -> None:
        """Count one attempt's outcome."""
        if failed:
            self.tokens = max(0.0, self.tokens - 1)
        else:
            self.tokens = min(self.max_tokens, self.tokens + self.token_ratio)

    def allows(self, active_requests: int) -> bool:
        """Whether a retry may be made now (the load does not matter, only the tokens)."""
        return self.tokens > self.max_tokens / 2

    def attempted(self, failed: bool, was_retry: bool) -> None:
        """Every attempt's outcome moves the tokens."""
        self.on_result(failed)

    def retrying(self) -> None:
        """Deciding a retry costs nothing by itself."""
