"""Calls from one service to another as the caller sees them, and breakers' open time."""

from __future__ import annotations

import math
from array import array

import numpy as np

from sim import outcomes
from sim.measure.folding import FOLD_AT, GATHER, pack
from sim.measure.recorders import fraction
from sim.measure.stats import Histogram, histogram, merge, percentile


class EdgeRecorder:
    """Calls from one service to another as the caller sees them."""

    def __init__(self, warmup: float, horizon: float) -> None:
        self.warmup = warmup
        self.horizon = horizon
        self.latency: list[float] = []  # gathered, packed into ``packed`` (see GATHER)
        self.packed = array("d")
        self.pack_at = min(GATHER, FOLD_AT)
        self.counts = dict.fromkeys(outcomes.ALL, 0)
        self.calls = 0  # logical calls started in the window (retries not counted)
        self.attempts = 0  # attempts of those calls, whenever made
        self.folded: list[Histogram] = []  # latencies folded so far (long runs)
        self.folded_sum = 0.0
        self.folded_count = 0

    def logical(self, now: float) -> None:
        """A logical call starts (its attempts are recorded one by one)."""
        if self.warmup <= now < self.horizon:
            self.calls += 1

    def record(self, started: float, issued: float, now: float, outcome: str) -> None:
        """An attempt of a logical call that started at ``started``, issued at ``issued``,
        answered (or given up on) at ``now`` with ``outcome``."""
        if self.warmup <= started < self.horizon:
            self.attempts += 1
        if self.warmup <= issued < self.horizon:
            self.latency.append(now - issued)
            self.counts[outcome] += 1
            if len(self.latency) >= self.pack_at:
                self._pack()

    def _pack(self) -> None:
        """Pack the gathered latencies; fold them once FOLD_AT are packed."""
        pack(self.packed, self.latency)
        if len(self.packed) >= FOLD_AT:
            self.fold()
        self.pack_at = min(GATHER, FOLD_AT - len(self.packed))

    def latencies(self) -> np.ndarray:
        """The latencies recorded and not folded yet, in order."""
        pack(self.packed, self.latency)
        return np.frombuffer(self.packed, dtype=float)

    def fold(self) -> None:
        """Fold the latencies into a histogram, with their exact count and sum."""
        latency = self.latencies()
        self.folded = [merge([*self.folded, histogram(latency)])]
        self.folded_sum += float(latency.sum())
        self.folded_count += latency.size
        self.packed = array("d")

    def histogram(self) -> Histogram:
        """Log-scale histogram of the latencies of attempts issued in the window."""
        if self.folded:
            self.fold()
            return self.folded[0]
        return histogram(self.latencies())

    def metrics(self) -> dict[str, float]:
        """Attempt rate, latency and failure fractions of attempts issued after the warm-up."""
        if self.folded:
            self.fold()
            attempts = self.folded_count
            mean = self.folded_sum / attempts
            p99 = percentile(self.folded[0], 99)
        else:
            latency = self.latencies()
            attempts = latency.size
            mean = float(latency.mean()) if attempts else math.nan
            p99 = float(np.percentile(latency, 99)) if attempts else math.nan
        return {
            "call_rate": attempts / (self.horizon - self.warmup),
            "call_latency_mean": mean,
            "call_latency_p99": p99,
            "call_failure_rate": fraction(attempts - self.counts[outcomes.OK], attempts),
            "call_timeout_rate": fraction(self.counts[outcomes.TIMEOUT], attempts),
            "call_circuit_open_rate": fraction(self.counts[outcomes.CIRCUIT_OPEN], attempts),
            "retry_amplification": fraction(self.attempts, self.calls),
        }


def open_fraction(transitions: list[tuple[float, str]], start: float, stop: float) -> float:
    """Share of [start, stop) a breaker with these (time, state) transitions spent OPEN."""
    state, since, total = "CLOSED", 0.0, 0.0
    for t, new in [*transitions, (stop, "")]:
        lo, hi = max(since, start), min(t, stop)
        if state == "OPEN" and hi > lo:
            total += hi - lo
        state, since = new, t
    return total / (stop - start) if stop > start else math.nan


def opens(transitions: list[tuple[float, str]], start: float, stop: float) -> float:
    """Times a breaker opened in [start, stop): many opens, each short, is flapping."""
    return float(sum(1 for t, new in transitions if new == "OPEN" and start <= t < stop))
