"""Envoy's passive outlier detection: a host that answers with consecutive 5xx is ejected
from load balancing for a while, longer each time it is ejected again.

After ``consecutive_5xx`` failures in a row a host is ejected for ``base_ejection_time``
times the number of times it has been ejected, unless that would take more than
``max_ejection_percent`` of the hosts out (Envoy ejects at least one regardless). A
success resets the host's count. Hosts come back when their time is up.
"""

from __future__ import annotations

import math


class OutlierDetector:
    """Consecutive-failure ejection over hosts known by index."""

    def __init__(
        self, consecutive_5xx: int, base_ejection_time: float, max_ejection_percent: float
    ) -> None:
        if consecutive_5xx < 1 or base_ejection_time <= 0 or not 0 <= max_ejection_percent <= 100:
            raise ValueError("need consecutive_5xx >= 1, base_ejection_time > 0, percent 0-100")
        self.consecutive = consecutive_5xx
        self.base = base_ejection_time
        self.max_percent = max_ejection_percent
        self.failures: dict[int, int] = {}  # host -> failures in a row
        self.ejections: dict[int, int] = {}  # host -> times ejected
        self.until: dict[int, float] = {}  # host -> ejected until
        self.events: list[tuple[float, int, float]] = []  # (time, host, until)

    def ejected(self, host: int, now: float) -> bool:
        """Whether ``host`` is out of load balancing at ``now``."""
        return self.until.get(host, -math.inf) > now

    def record(self, host: int, failed: bool, now: float, hosts: int) -> None:
        """A response from ``host``; ``hosts`` is how many the cluster has now."""
        if not failed:
            self.failures[host] = 0
            return
        count = self.failures.get(host, 0) + 1
        self.failures[host] = count
        if count < self.consecutive or self.ejected(host, now):
            return
        out = sum(1 for h in self.until if self.ejected(h, now))
        if out >= 1 and (out + 1) * 100 > self.max_percent * hosts:
            return  # too many out already (one may always go)
        times = self.ejections.get(host, 0) + 1
        self.ejections[host] = times
        self.until[host] = now + self.base * times
        self.failures[host] = 0
        self.events.append((now, host, self.until[host]))
