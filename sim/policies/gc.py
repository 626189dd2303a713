"""Garbage-collection timing and pause length, as a parametric model of a JVM or Go runtime."""

from __future__ import annotations


class AllocationTrigger:
    """Counts bytes allocated since the last collection; a collection is due at ``young_gen``."""

    def __init__(self, young_gen: float, alloc_per_request: float) -> None:
        if young_gen <= 0 or alloc_per_request <= 0:
            raise ValueError("young_gen and alloc_per_request must be > 0")
        self.young_gen = young_gen
        self.alloc_per_request = alloc_per_request
        self.allocated = 0.0

    def allocate(self) -> bool:
        """One request started; True when the young generation is now full."""
        self.allocated += self.alloc_per_request
        return self.allocated >= self.young_gen

    def collected(self) -> None:
        """A collection emptied the young generation; what was allocated during the pause
        (by requests that started in it) stays for the next one."""
        self.allocated = max(0.0, self.allocated - self.young_gen)

    @property
    def due(self) -> bool:
        """True while the young generation is full."""
        return self.allocated >= self.young_gen


def pause_length(base: float, per_held_request: float, held: int) -> float:
    """A pause: its base length plus a cost per request held in memory (queued or in service)."""
    return base + per_held_request * max(held, 0)
