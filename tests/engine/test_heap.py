"""The event heap pops entries in exactly heapq's order: by time, then priority, then
event id, with times that tie and ints among the floats, as the engine schedules them."""

from __future__ import annotations

import heapq
import random

import pytest

from sim.engine import heap


@pytest.mark.parametrize("seed", range(5))
def test_the_heap_pops_what_heapq_pops(seed: int) -> None:
    rng = random.Random(seed)
    ours: list = []
    theirs: list = []
    popped: list = []
    expected: list = []
    eid = 0
    for _ in range(5000):
        if ours and rng.random() < 0.45:
            popped.append(heap.pop(ours))
            expected.append(heapq.heappop(theirs))
            continue
        time = rng.choice([0, 1, rng.randrange(50), rng.randrange(50) + rng.random()])
        entry = (time, rng.choice([0, 1]), eid, object())
        eid += 1
        heap.push(ours, entry)
        heapq.heappush(theirs, entry)
    while theirs:
        popped.append(heap.pop(ours))
        expected.append(heapq.heappop(theirs))
    assert popped == expected
    with pytest.raises(IndexError):
        heap.pop(ours)


def test_the_heap_takes_entries_heapq_pushed() -> None:
    # The timers push through the same module; any valid heap pops the same sequence.
    entries = [(float(t % 7), 1, t, None) for t in range(200)]
    queue: list = []
    for entry in entries:
        (heap.push if entry[2] % 2 else heapq.heappush)(queue, entry)
    assert [heap.pop(queue) for _ in entries] == sorted(entries, key=lambda e: e[:3])
