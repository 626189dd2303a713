"""Which incidents are active at a time, and their combined effect on a request."""

from __future__ import annotations

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
