"""Sampled per-request traces as OpenTelemetry JSON lines (the OTLP file exporter's format:
one ExportTraceServiceRequest per line, here one line per trace), for a trace viewer.

Each sampled client request is a trace: its root CLIENT span, a SERVER span per service
visit (with a ``dequeued`` event carrying the queue wait), a CLIENT span per call attempt
(with ``http.request.resend_count``), and ``error.type`` (``queue_full``,
``rate_limited``, ``timeout``...) with an error status where a span failed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sim.engine.replication import build, simulate
from sim.engine.streams import Streams
from sim.engine.tracing import Span, Tracer
from sim.model import Model
from sim.report.openmetrics import START

STATUS_ERROR, STATUS_OK = 2, 1


def traced_spans(model: Model, seed: int | None = None, every: int = 100) -> list[Span]:
    """Replication 0 of ``model``, tracing one client request in ``every``."""
    if not isinstance(model.warmup, float | int):
        raise ValueError("warmup: auto must be resolved first")
    system = build(model, Streams(model.seed if seed is None else seed, 0))
    tracer = Tracer(every)
    for service in system.services.values():
        service.tracer = tracer
    for clients in system.clients:
        clients.tracer = tracer
    simulate(system)
    return [span for span in tracer.spans if span.end == span.end]  # finished ones


def otlp_lines(spans: list[Span], start: float = START) -> str:
    """One OTLP/JSON ExportTraceServiceRequest per trace, one per line."""
    by_trace: dict[int, list[Span]] = defaultdict(list)
    for span in spans:
        by_trace[span.trace].append(span)
    lines = []
    for trace, members in by_trace.items():
        by_service: dict[str, list[Span]] = defaultdict(list)
        for span in members:
            by_service[span.service].append(span)
        request = {
            "resourceSpans": [
                {
                    "resource": {"attributes": [_attribute("service.name", service)]},
                    "scopeSpans": [
                        {
                            "scope": {"name": "queuefull"},
                            "spans": [_span(s, trace, start) for s in group],
                        }
                    ],
                }
                for service, group in by_service.items()
            ]
        }
        lines.append(json.dumps(request, separators=(",", ":")))
    return "\n".join(lines) + ("\n" if lines else "")


def _span(span: Span, trace: int, start: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traceId": f"{trace:032x}",
        "spanId": f"{span.span:016x}",
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": _nanos(start + span.start),
        "endTimeUnixNano": _nanos(start + span.end),
        "attributes": [_attribute(k, v) for k, v in span.attributes.items()],
        "events": [
            {
                "timeUnixNano": _nanos(start + at),
                "name": name,
                "attributes": [_attribute(k, v) for k, v in attrs.items()],
            }
            for at, name, attrs in span.events
        ],
        "status": {"code": STATUS_OK},
    }
    if span.parent is not None:
        out["parentSpanId"] = f"{span.parent:016x}"
    if span.error is not None:
        out["attributes"].append(_attribute("error.type", span.error))
        out["status"] = {"code": STATUS_ERROR, "message": span.error}
    return out


def _nanos(seconds: float) -> str:
    return str(round(seconds * 1e9))  # OTLP/JSON writes 64-bit integers as strings


def _attribute(key: str, value: Any) -> dict[str, Any]:
    typed: dict[str, Any]
    if isinstance(value, bool):
        typed = {"boolValue": value}
    elif isinstance(value, int):
        typed = {"intValue": str(value)}
    elif isinstance(value, float):
        typed = {"doubleValue": value}
    else:
        typed = {"stringValue": str(value)}
    return {"key": key, "value": typed}
