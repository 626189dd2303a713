"""CoDel for request queues (folly/executors/Codel.cpp)."""

from __future__ import annotations


class Codel:
    """Overloaded when the smallest queueing delay seen over an ``interval`` exceeded
    ``target``; while overloaded, requests that waited more than 2 x target are dropped
    as they are dequeued. As in folly, the first request of each interval is never dropped
    (it starts the new interval's minimum)."""

    def __init__(self, target: float = 0.005, interval: float = 0.1) -> None:
        if target <= 0 or interval <= 0:
            raise ValueError("target and interval must be > 0")
        self.target = target
        self.interval = interval
        self.min_delay = float("inf")
        self.interval_end: float | None = None
        self.overloaded = False

    def on_dequeue(self, now: float, delay: float) -> bool:
        """A request that waited ``delay`` leaves the queue at ``now``; True means drop it."""
        if self.interval_end is None or now > self.interval_end:
            if self.interval_end is not None:
                self.overloaded = self.min_delay > self.target
            self.interval_end = now + self.interval
            self.min_delay = delay
            return False
        if delay < self.min_delay:
            self.min_delay = delay
        return self.overloaded and delay > 2 * self.target

    @property
    def standing(self) -> bool:
        """Whether a queue has been standing (for adaptive LIFO)."""
        return self.overloaded
