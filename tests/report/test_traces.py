"""Sampled request traces as OpenTelemetry JSON lines: they parse as OTLP, their spans nest
as the request travelled, and tracing changes no number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

import sim
from sim.engine.replication import build, measure, run_replication, simulate
from sim.engine.streams import Streams
from sim.engine.tracing import Tracer
from sim.report.traces import otlp_lines, traced_spans

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(scope="module")
def model() -> sim.Model:
    return sim.load(MODELS / "breaker_saves_pool.yaml", {"horizon": 400, "warmup": 10})


def test_every_line_is_an_otlp_export_request(model: sim.Model):
    text = otlp_lines(traced_spans(model, every=40))
    lines = text.splitlines()
    assert len(lines) > 50
    for line in lines:
        request = json_format.Parse(line, trace_service_pb2.ExportTraceServiceRequest())
        spans = [s for r in request.resource_spans for ss in r.scope_spans for s in ss.spans]
        assert len({s.trace_id for s in spans}) == 1  # one trace per line


def test_spans_nest_as_the_request_travelled(model: sim.Model):
    spans = traced_spans(model, every=40)
    by_id = {s.span: s for s in spans}
    for span in spans:
        assert span.start <= span.end
        if span.parent is not None:
            parent = by_id[span.parent]
            assert parent.trace == span.trace and parent.start <= span.start
    kinds = {(s.name, s.service) for s in spans}
    assert {("GET api", "clients"), ("api", "api"), ("call recommendations", "api")} <= kinds
    calls = [s for s in spans if s.name.startswith("call ")]
    assert all(by_id[s.parent].name == "api" for s in calls)
    visits = [s for s in spans if s.name == "recommendations"]
    assert visits and all(by_id[s.parent].name == "call recommendations" for s in visits)
    failed = [s for s in spans if s.error is not None]
    assert failed and {s.error for s in failed} <= {"queue_full", "timeout", "error", "downstream"}


def test_client_retries_are_counted_on_the_root_span():
    model = sim.from_dict(
        {
            "horizon": 60,
            "replications": 1,
            "workload": {
                "arrivals": {"process": "poisson", "rate": 20},
                "retries": {"max_attempts": 3, "base": 0.01},
            },
            "services": {
                "api": {
                    "workers": 2,
                    "work": {"distribution": "exponential", "mean": 0.01},
                    "incidents": [{"start": 0, "end": 60, "error_rate": 0.5}],
                }
            },
        }
    )
    roots = [s for s in traced_spans(model, every=5) if s.parent is None]
    resends = [r.attributes["http.request.resend_count"] for r in roots]
    assert set(resends) == {0, 1, 2}  # some first time lucky, some retried twice
    assert any(r.error == "error" for r in roots if r.attributes["http.request.resend_count"] == 2)


def test_tracing_changes_no_number(model: sim.Model):
    system = build(model, Streams(model.seed, 0))
    tracer = Tracer(every=10)
    for part in [*system.services.values(), *system.clients]:
        part.tracer = tracer
    simulate(system)
    assert len(tracer.spans) > 100
    assert measure(system, 0).metrics == run_replication(model, 0, model.seed).metrics


def test_queuefull_run_writes_traces(tmp_path: Path):
    from sim.cli import main

    out = tmp_path / "traces.jsonl"
    argv = [
        *("run", str(MODELS / "default.yaml"), "--set", "horizon=30", "--set", "warmup=3"),
        *("--replications", "1", "--quiet", "--traces", str(out), "--trace-every", "50"),
    ]
    assert main(argv) == 0
    first = json.loads(out.read_text().splitlines()[0])
    assert first["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"] == "GET api"
