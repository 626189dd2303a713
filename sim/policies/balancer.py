"""Envoy's load-balancing choices over ready replicas (load_balancers.rst, least_request_lb.cc)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.distributions import Uniforms


def least_request(active: Sequence[int], draws: Sequence[int]) -> int:
    """Envoy LEAST_REQUEST: of the hosts drawn (with replacement), the one with fewest active
    requests; the first drawn wins ties."""
    best = draws[0]
    for index in draws[1:]:
        if active[index] < active[best]:
            best = index
    return best


class Balancer:
    """Chooses a replica index among ``n`` ready ones by policy."""

    def __init__(self, policy: str, rng: np.random.Generator, choice_count: int = 2) -> None:
        if policy not in ("round_robin", "random", "least_request"):
            raise ValueError(f"unknown balancer policy {policy!r}")
        if choice_count < 1:
            raise ValueError("choice_count must be >= 1")
        self.policy = policy
        self.choice_count = choice_count
        self._uniform = Uniforms(rng)
        self._next = 0

    def choose(self, active: Sequence[int]) -> int:
        """Index of the chosen replica; ``active`` holds each ready replica's active requests."""
        n = len(active)
        if n == 0:
            raise ValueError("no ready replica to choose from")
        if self.policy == "round_robin":
            index = self._next % n
            self._next = index + 1
            return index
        if self.policy == "random":
            return int(self._uniform.draw() * n)
        draws = [int(self._uniform.draw() * n) for _ in range(self.choice_count)]
        return least_request(active, draws)
