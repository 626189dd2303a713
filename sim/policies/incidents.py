"""Which incidents are active at a time, and their combined effect on a request."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Incident(Protocol):
    """What this rule reads of an incident (the schema's ``Incident`` has it)."""

    start: float
    stop: float
    slowdown: float
    error_rate: float
    down: str | None
    added_latency: Any
    replicas: list[int] | None


@dataclass(frozen=True)
class Effect:
    """What the active incidents do to a request starting now."""

    slowdown: float = 1.0
    error_rate: float = 0.0
    down: str | None = None
    added: tuple[int, ...] = ()  # indexes of incidents whose added_latency applies
    down_until: float = 0.0  # when the last active ``down`` window closes


NO_EFFECT = Effect()


def effect_at(incidents: Sequence[Incident], now: float, replica: int | None = None) -> Effect:
    """Combined effect of the incidents active at ``now`` (windows are [start, stop)) on
    ``replica`` (incidents of chosen replicas count only for those; None: none of them).

    Slowdowns multiply, error rates combine as independent failures, ``fail_fast`` (or
    ``crash``, which refuses new requests the same way) beats ``hang`` when both are
    down, and ``down_until`` is when the last of the down windows closes (when a hung
    request's connection is reset).
    """
    active = [
        i
        for i, inc in enumerate(incidents)
        if inc.start <= now < inc.stop
        and (inc.replicas is None or (replica is not None and replica in inc.replicas))
    ]
    if not active:
        return NO_EFFECT
    slowdown, survive, down, down_until = 1.0, 1.0, None, 0.0
    for i in active:
        inc = incidents[i]
        slowdown *= inc.slowdown
        survive *= 1 - inc.error_rate
        if inc.down in ("fail_fast", "crash") or (inc.down == "hang" and down is None):
            down = inc.down
        if inc.down is not None:
            down_until = max(down_until, inc.stop)
    added = tuple(i for i in active if incidents[i].added_latency is not None)
    return Effect(slowdown, 1 - survive, down, added, down_until)


class IncidentSchedule:
    """:func:`effect_at` of a fixed list of incidents, looked up instead of recomputed.

    Between consecutive starts and stops the set of active incidents cannot change, so the
    effect is computed once per segment (per replica, when it is first asked about) and
    found by bisection: the very objects :func:`effect_at` returns there, for the request
    path, which asks on every visit.
    """

    def __init__(self, incidents: Sequence[Incident]) -> None:
        self.incidents = incidents
        self.edges = sorted({t for inc in incidents for t in (inc.start, inc.stop)})
        self._effects: dict[int | None, list[Effect]] = {}

    def at(self, now: float, replica: int | None = None) -> Effect:
        """The combined effect at ``now`` on ``replica``: ``effect_at(incidents, now,
        replica)``."""
        segment = bisect_right(self.edges, now)
        if segment == 0:
            return NO_EFFECT  # before the first incident starts
        effects = self._effects.get(replica)
        if effects is None:
            effects = self._effects[replica] = [
                effect_at(self.incidents, edge, replica) for edge in self.edges
            ]
        return effects[segment - 1]
