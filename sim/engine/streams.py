"""Independent random streams per replication and component (common random numbers).

A stream is keyed by the master seed, the replication index and the component's *name*,
never by creation order: adding a service or changing a knob leaves every other
component's random numbers untouched, so two designs run with the same seed differ only
by design, not by noise.
"""

from __future__ import annotations

import zlib

import numpy as np


class Streams:
    """The random streams of one replication."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = seed
        self.replication = replication

    def rng(self, *name: str) -> np.random.Generator:
        """The generator for the component called ``name`` (e.g. ``("service", "api", "work")``)."""
        key = zlib.crc32("/".join(name).encode())
        sequence = np.random.SeedSequence(entropy=self.seed, spawn_key=(self.replication, key))
        return np.random.Generator(np.random.PCG64(sequence))
