"""Pure policy logic, without a simulation: balancers, thread pools, GC, incidents."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.model.service import Incident
from sim.policies.balancer import Balancer, least_request
from sim.policies.gc import AllocationTrigger, pause_length
from sim.policies.incidents import NO_EFFECT, IncidentSchedule, effect_at
from sim.policies.threadpool import Admission, admit


def test_least_request_keeps_the_fewest_and_first_drawn_wins_ties():
    assert least_request([5, 1, 3], [0, 2]) == 2
    assert least_request([5, 1, 3], [1, 0]) == 1
    assert least_request([2, 2, 2], [2, 0, 1]) == 2  # tie: first drawn


@given(st.lists(st.integers(0, 50), min_size=1, max_size=20), st.data())
def test_least_request_never_picks_a_busier_drawn_host(active, data):
    draws = data.draw(st.lists(st.integers(0, len(active) - 1), min_size=1, max_size=5))
    chosen = least_request(active, draws)
    assert chosen in draws
    assert active[chosen] == min(active[d] for d in draws)


def test_round_robin_cycles():
    balancer = Balancer("round_robin", np.random.default_rng(0))
    assert [balancer.choose([0, 0, 0]) for _ in range(7)] == [0, 1, 2, 0, 1, 2, 0]


def test_random_is_uniform_and_p2c_prefers_idle_hosts():
    rng = np.random.default_rng(1)
    picks = [Balancer("random", rng).choose([0] * 4) for _ in range(4000)]
    assert set(picks) == {0, 1, 2, 3}
    p2c = Balancer("least_request", np.random.default_rng(2), choice_count=2)
    chosen = [p2c.choose([9, 0, 9, 9]) for _ in range(4000)]
    # host 1 wins whenever it is among the two draws: 1 - (3/4)^2 = 7/16
    assert np.mean(np.array(chosen) == 1) == pytest.approx(7 / 16, abs=0.03)


def test_balancer_rejects_bad_arguments():
    with pytest.raises(ValueError):
        Balancer("fastest", np.random.default_rng(0))
    with pytest.raises(ValueError):
        Balancer("random", np.random.default_rng(0)).choose([])


@pytest.mark.parametrize(
    ("threads", "busy", "queued", "expected"),
    [
        (0, 0, 0, Admission.NEW_THREAD),  # below core: new thread
        (1, 0, 0, Admission.NEW_THREAD),  # below core even with an idle thread
        (2, 1, 0, Admission.IDLE_THREAD),  # at core, an idle thread takes it
        (2, 2, 0, Admission.QUEUE),  # all busy: queue
        (2, 2, 4, Admission.QUEUE),
        (2, 2, 5, Admission.NEW_THREAD),  # queue full, below max: new thread
        (4, 4, 5, Admission.REJECT),  # queue full, at max: reject
    ],
)
def test_thread_pool_executor_rule(threads, busy, queued, expected):
    assert admit(threads, busy, queued, core=2, maximum=4, queue_limit=5) is expected


def test_unbounded_queue_never_grows_past_core():
    for queued in (0, 10, 10_000):
        assert admit(2, 2, queued, 2, 50, float("inf")) is Admission.QUEUE


def test_allocation_trigger():
    trigger = AllocationTrigger(young_gen=1000, alloc_per_request=300)
    assert [trigger.allocate() for _ in range(4)] == [False, False, False, True]
    trigger.collected()
    assert trigger.allocate() is False
    with pytest.raises(ValueError):
        AllocationTrigger(0, 1)


def test_pause_grows_with_requests_held():
    assert pause_length(0.05, 0.001, 0) == 0.05
    assert pause_length(0.05, 0.001, 200) == pytest.approx(0.25)


def test_incident_windows_are_half_open_and_combine():
    incidents = [
        Incident(start=10, end=20, slowdown=2, error_rate=0.5),
        Incident(start=15, duration=10, slowdown=3, error_rate=0.5, down="hang"),
    ]
    assert effect_at(incidents, 9.999) is NO_EFFECT
    assert effect_at(incidents, 10).slowdown == 2
    both = effect_at(incidents, 15)
    assert both.slowdown == 6 and both.error_rate == pytest.approx(0.75) and both.down == "hang"
    assert effect_at(incidents, 20).slowdown == 3
    assert effect_at(incidents, 25) is NO_EFFECT


@given(
    st.lists(
        st.tuples(
            st.integers(0, 30),
            st.integers(1, 20),
            st.sampled_from([None, "hang", "fail_fast"]),
            st.sampled_from([None, [0], [1, 2]]),
        ),
        min_size=1,
        max_size=4,
    ),
    st.lists(st.floats(-1, 60), min_size=1, max_size=30),
)
def test_incident_schedule_returns_effect_at_at_every_time_and_replica(windows, times):
    incidents = [
        Incident(start=s, duration=d, slowdown=1 + k, error_rate=0.1, down=down, replicas=reps)
        for k, (s, d, down, reps) in enumerate(windows)
    ]
    schedule = IncidentSchedule(incidents)
    edges = [t for inc in incidents for t in (inc.start, inc.stop)]
    for now in [*times, *edges, *(t - 1e-9 for t in edges)]:
        for replica in (None, 0, 1, 2):
            expected = effect_at(incidents, now, replica)
            got = schedule.at(now, replica)
            assert got == expected
            assert (got is NO_EFFECT) == (expected is NO_EFFECT)


def test_breaker_windows_keep_running_totals_equal_to_a_recount():
    from sim.policies.circuit_breaker import CountWindow, TimeWindow

    rng = np.random.default_rng(4)
    count, timed = CountWindow(25), TimeWindow(5)
    last: deque[tuple[bool, bool]] = deque(maxlen=25)  # the count window, recounted
    now = 0.0
    for _ in range(3000):
        now += float(rng.exponential(0.05 if rng.random() < 0.9 else 3.0))
        failed, slow = bool(rng.random() < 0.3), bool(rng.random() < 0.2)
        count.record(now, failed, slow)
        timed.record(now, failed, slow)
        last.append((failed, slow))
        kept = list(last)
        assert count.totals(now) == (len(kept), sum(f for f, _ in kept), sum(s for _, s in kept))
        later = now + float(rng.uniform(0, 6))
        calls, failures, slows = timed.totals(later)
        oldest = int(later // 1) - timed.size + 1
        inside = [b for b in timed.buckets if b[0] >= oldest]
        assert (calls, failures, slows) == tuple(sum(b[i] for b in inside) for i in (1, 2, 3))
        now = later  # time only moves forward
