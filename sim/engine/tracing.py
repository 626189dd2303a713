"""Sampled per-request traces, as OpenTelemetry would record them: a span per client
request, per service visit and per call attempt, the queue wait as an event, and the
outcome as ``error.type``. Only sampled requests carry a trace context, so the requests
that are not sampled pay one attribute check per service visit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CLIENT, SERVER = 3, 2
"""OTLP span kinds."""


@dataclass
class Span:
    """One operation of one traced request."""

    trace: int
    span: int
    parent: int | None
    name: str
    kind: int
    service: str
    start: float
    end: float = float("nan")
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    error: str | None = None


class TraceContext:
    """What a traced request carries: its trace, the span its next child hangs under,
    and which service is about to record its own visit (see ServiceRuntime.handle)."""

    __slots__ = ("attempts", "entering", "outcome", "parent", "span", "trace")

    def __init__(self, trace: int, parent: int | None, span: Span | None = None) -> None:
        self.trace = trace
        self.parent = parent
        self.span = span  # the service visit under way, for its queue-wait event
        self.entering: object = None
        self.outcome = "ok"  # the client request's final outcome
        self.attempts = 1  # and how many attempts it took

    def fork(self) -> TraceContext:
        """The same trace and parent, for a copy that runs beside the others."""
        return TraceContext(self.trace, self.parent, self.span)


class Tracer:
    """Samples one client request in ``every`` and keeps their spans."""

    def __init__(self, every: int) -> None:
        if every < 1:
            raise ValueError("sample one request in every N >= 1")
        self.every = every
        self.seen = 0
        self.spans: list[Span] = []
        self._ids = 0
        self._sent: dict[tuple[int, str, float], int] = {}

    def sample(self) -> TraceContext | None:
        """A context for the next client request if it is sampled, else None."""
        self.seen += 1
        if (self.seen - 1) % self.every:
            return None
        self._ids += 1
        return TraceContext(self._ids, None)

    def start(
        self, context: TraceContext, name: str, kind: int, service: str, now: float, **attrs: Any
    ) -> Span:
        """Open a span under the context's current parent."""
        self._ids += 1
        span = Span(
            context.trace, self._ids, context.parent, name, kind, service, now, attributes=attrs
        )
        self.spans.append(span)
        return span

    def resend(self, trace: int, call: str, started: float) -> int:
        """How many attempts of this logical call went out before this one."""
        key = (trace, call, started)
        count = self._sent.get(key, 0)
        self._sent[key] = count + 1
        return count

    @staticmethod
    def finish(span: Span, now: float, outcome: str) -> None:
        """Close a span with the request's outcome (``ok`` or the error type)."""
        span.end = now
        if outcome != "ok":
            span.error = outcome
