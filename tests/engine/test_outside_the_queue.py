"""Lines in front of a full waiting room: the kernel's listen backlog with the client's SYN
retransmissions, and a producer that blocks on a full buffer up to a deadline."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim import analytic
from sim.engine.replication import run_replication
from tests.helpers import assert_agrees, exponential

RATE, WORK, WORKERS, QUEUE = 40.0, 0.1, 4, 2


def station(extra: dict, work: dict | None = None, **run) -> sim.Model:
    """M/M/4 with two waiting places at 100 % load, plus ``extra`` on the service."""
    service = {"workers": WORKERS, "queue": QUEUE, "work": work or exponential(WORK), **extra}
    return sim.from_dict(
        {
            "horizon": 800,
            "warmup": 100,
            "replications": 10,
            "seed": 4,
            "workload": {"arrivals": {"process": "poisson", "rate": RATE}},
            "services": {"api": service},
            **run,
        }
    )


def test_a_dropped_syn_is_tried_again_exactly_1_3_7_seconds_later():
    # No waiting room and no backlog: a request is served when it arrives or when one of
    # its SYN retransmissions finds a worker, so each latency is the work plus 0, 1, 3,
    # 7, ... seconds; users see the spikes at exactly 1 s and 3 s.
    work = {"distribution": "constant", "value": 0.1}
    model = station(
        {"queue": 0, "listen_backlog": {"backlog": 0}}, work, replications=1, horizon=300
    )
    _, _, lows, highs = run_replication(model, 0, 1).histograms["api"][""]
    levels = 0.1 + np.array([0, 1, 3, 7, 15, 31, 63], dtype=float)
    for value in np.concatenate((lows, highs)):
        assert np.abs(levels - value).min() < 1e-9, value
    seen = {round(float(v), 6) for v in lows}
    assert {0.1, 1.1, 3.1} <= seen


@pytest.mark.slow
def test_without_retransmissions_the_backlog_is_more_places_of_m_m_c_k():
    # syn_retries 0: a dropped SYN fails the connection, so the backlog adds 3 places and
    # the share that fails is M/M/4/(4 + 2 + 3)'s blocking probability.
    model = station({"listen_backlog": {"backlog": 3, "syn_retries": 0}})
    results = sim.run(model, executor="inline")
    blocking = analytic.mmck(RATE, WORK, WORKERS, WORKERS + QUEUE + 3).rejection
    assert_agrees(results, "error_rate", blocking)
    assert results.get("rejected_queue_full", "api") == 0


@pytest.mark.slow
def test_somaxconn_caps_the_backlog():
    capped = {"listen_backlog": {"backlog": 511, "somaxconn": 3, "syn_retries": 0}}
    results = sim.run(station(capped), executor="inline")
    blocking = analytic.mmck(RATE, WORK, WORKERS, WORKERS + QUEUE + 3).rejection
    assert_agrees(results, "error_rate", blocking)


def test_blocking_without_a_deadline_is_an_unbounded_queue():
    # Waiting outside the full waiting room, in order, then inside it: the same requests
    # served at the same instants as with an unbounded queue (itself checked against
    # Erlang C), here at 80 % load.
    short = {"replications": 2, "horizon": 300}
    blocking = sim.run(
        station({"block_when_full": {"max_block": 1e6}}, exponential(0.08), **short),
        executor="inline",
    )
    unbounded = sim.run(
        station({"queue": "unbounded"}, exponential(0.08), engine="simpy", **short),
        executor="inline",
    )
    for metric in ("latency_mean", "latency_p99", "throughput", "success_rate"):
        assert blocking.get(metric, "api") == unbounded.get(metric, "api"), metric


@pytest.mark.slow
def test_blocking_briefly_refuses_like_a_full_queue_after_the_deadline():
    model = station({"block_when_full": {"max_block": 0.5}})
    results = sim.run(model, executor="inline")
    no_wait = analytic.mmck(RATE, WORK, WORKERS, WORKERS + QUEUE).rejection
    refused = results.get("rejected_queue_full", "api")
    assert 0 < refused < no_wait  # some found room within half a second


def test_one_line_outside_only():
    with pytest.raises(sim.ModelError, match="give listen_backlog or block_when_full, not both"):
        station({"listen_backlog": {}, "block_when_full": {}})
