"""The exact recursion of a c-worker FIFO station with a bounded waiting room, compiled.

Kiefer and Wolfowitz: with first-come-first-served service, a request starts when it
arrives or when the earliest of the c workers frees up, whichever is later, and its
worker is then busy until start + work. A bounded waiting room adds one question per
arrival: how many admitted requests have not started yet? Starts are non-decreasing in
admission order, so they are the tail of a FIFO of start times.

Ties follow the SimPy engine, which takes events at one instant in the order they were
scheduled: a worker that frees at the instant a request arrives takes it only if its
request started before the arrival was scheduled (see :func:`_started`).

numba compiles :func:`serve` when it is installed (cached on disk after the first call);
without numba the same code runs as plain Python, exactly but slowly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

try:
    from numba import njit

    COMPILED = True
except ImportError:  # pragma: no cover - numba is a dependency; this keeps the code usable
    COMPILED = False

    def njit(**_options: Any) -> Callable[[Any], Any]:
        """Without numba: leave the function as it is."""
        return lambda function: function


OVERFLOW = -1
"""Returned instead of a count when an unbounded waiting room outgrows ``most_waiting``."""

# columns of the workers' heap: when the worker frees, when its request began, when that
# request arrived (-1: none, or already recorded) and its admission number
FREES, BEGAN, CAME, ORDER = 0, 1, 2, 3


def idle_workers(count: int) -> np.ndarray:
    """The heap :func:`serve` starts from: ``count`` workers free at 0, with no request."""
    workers = np.zeros((count, 4))
    workers[:, BEGAN] = workers[:, CAME] = -1.0
    return workers


@njit(cache=True, nogil=True)
def serve(
    arrivals: np.ndarray,
    works: np.ndarray,
    workers: np.ndarray,
    waiting: np.ndarray,
    state: np.ndarray,
    clock: np.ndarray,
    queue_limit: float,
    admitted: np.ndarray,
    start: np.ndarray,
    ahead: np.ndarray,
    ended: np.ndarray,
) -> tuple[int, int]:
    """Serve ``arrivals`` (sorted times) in order; return how many ``works`` were used and
    how many requests ended.

    ``workers`` is a binary min-heap of the workers on (frees, admission number) (see
    :func:`idle_workers`): the root is the worker the next request gets. ``waiting`` is a
    ring buffer of (start, start of the request whose worker it takes) for admitted
    requests that may not have started, ``state`` its head and size and the admissions
    so far, and ``clock`` the SimPy clock at the last arrival and when that arrival was
    scheduled. All carry over from one call to the next. Arrival times are rewritten in
    place to the instants the SimPy clock shows. ``works`` are consumed one per admitted
    request. Per arrival it writes whether it was admitted, when it starts (NaN if
    refused) and how many were waiting ahead of it, or -1 if it got a worker without
    waiting.

    A worker leaves the root only for a request that starts no earlier than its own
    request ends, so requests leave the heap in the order they end (ties in admission
    order, as the SimPy engine records them): each is written to ``ended`` as (arrival,
    end) when its worker takes the next. Returns (:data:`OVERFLOW`, 0) if the waiting
    room would outgrow its buffer.
    """
    capacity = waiting.shape[0]
    head, size, order = state[0], state[1], state[2]
    last, scheduled = clock[0], clock[1]
    used = 0
    n_ended = 0
    for i in range(arrivals.size):
        # SimPy reaches t by a timeout of t - now: its clock can differ from t in the last bit
        if arrivals[i] > last:
            scheduled = last  # this arrival's timeout was scheduled at the previous one
            last = last + (arrivals[i] - last)
        now = arrivals[i] = last
        while size > 0 and _started(waiting[head, 0], waiting[head, 1], now, scheduled):
            head += 1
            if head == capacity:
                head = 0
            size -= 1
        frees, began = workers[0, FREES], workers[0, BEGAN]  # the earliest worker: the root
        if _started(frees, began, now, scheduled):
            ahead[i] = -1
            begins = now
        elif size >= queue_limit:
            ahead[i] = size
            admitted[i] = False
            start[i] = np.nan
            continue
        elif size >= capacity:
            state[0], state[1], state[2] = head, size, order
            clock[0], clock[1] = now, scheduled
            return OVERFLOW, 0
        else:
            ahead[i] = size
            begins = frees
            slot = head + size
            if slot >= capacity:
                slot -= capacity
            waiting[slot, 0], waiting[slot, 1] = begins, began
            size += 1
        if workers[0, CAME] >= 0.0:
            ended[n_ended, 0], ended[n_ended, 1] = workers[0, CAME], frees
            n_ended += 1
        _replace_root(workers, begins + works[used], begins, now, float(order))
        order += 1
        used += 1
        admitted[i] = True
        start[i] = begins
    state[0], state[1], state[2] = head, size, order
    clock[0], clock[1] = last, scheduled
    return used, n_ended


@njit(cache=True, nogil=True)
def _replace_root(heap: np.ndarray, frees: float, began: float, came: float, order: float) -> None:
    """Give the heap's root worker a new request and sift it down to its place."""
    size = heap.shape[0]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        other = child + 1
        if other < size and _precedes(
            heap[other, FREES], heap[other, ORDER], heap[child, FREES], heap[child, ORDER]
        ):
            child = other
        if not _precedes(heap[child, FREES], heap[child, ORDER], frees, order):
            break
        heap[i, FREES], heap[i, BEGAN] = heap[child, FREES], heap[child, BEGAN]
        heap[i, CAME], heap[i, ORDER] = heap[child, CAME], heap[child, ORDER]
        i = child
    heap[i, FREES], heap[i, BEGAN], heap[i, CAME], heap[i, ORDER] = frees, began, came, order


@njit(cache=True, nogil=True, inline="always")
def _precedes(frees: float, order: float, other_frees: float, other_order: float) -> bool:
    """Whether one worker comes before another in the heap: sooner free, then admitted
    first (which, starts being in admission order, is also begun first)."""
    return frees < other_frees or (frees == other_frees and order < other_order)


@njit(cache=True, nogil=True, inline="always")
def _started(at: float, freed_by: float, now: float, scheduled: float) -> bool:
    """Whether something that happens at ``at``, when a request that started at
    ``freed_by`` ends, is done before an arrival at ``now`` whose timeout was scheduled at
    ``scheduled``. At one instant SimPy takes events in the order they were scheduled."""
    return at < now or (at == now and freed_by < scheduled)


# the station's gauges, rows of ``area`` and ``covering``
QUEUE, BUSY, IN_SYSTEM = 0, 1, 2
# running totals of a replication, entries of ``totals``
ARRIVED, REFUSED, WAIT_SUM, WAITED, PEAK = 0, 1, 2, 3, 4


@njit(cache=True, nogil=True)
def tally(
    arrivals: np.ndarray,
    admitted: np.ndarray,
    start: np.ndarray,
    works: np.ndarray,
    ahead: np.ndarray,
    window: np.ndarray,
    cuts: np.ndarray,
    points: np.ndarray,
    area: np.ndarray,
    covering: np.ndarray,
    totals: np.ndarray,
    refused: np.ndarray,
) -> int:
    """What the recorders need from a chunk :func:`serve` has served, in one pass.

    ``window`` holds the warm-up, the horizon and the drain's end: requests arriving in
    [warm-up, horizon) are counted. Adds to ``totals`` the counted arrivals and refusals,
    the counted waits (those that began before the drain's end, summed in the order they
    began, as the engine sums them) and the longest queue a counted arrival joined; to
    the gauges (rows of ``area`` per segment between ``cuts``, ``covering`` per point)
    each admitted request's time waiting, in service and in the system. Writes the
    refused requests' arrival times and returns how many there were.
    """
    warmup, horizon, limit = window[0], window[1], window[2]
    n_admitted, n_refused = 0, 0
    # the totals and each gauge's segment (where its last interval began) live in locals
    # for the loop: written through the arrays, every update is a load and a store
    arrived, refusals, waits, waited, peak = 0.0, 0.0, totals[WAIT_SUM], 0.0, totals[PEAK]
    in_queue = busy = in_system = 0
    for i in range(arrivals.size):
        now = arrivals[i]
        counted = warmup <= now < horizon
        if counted:
            arrived += 1
        if not admitted[i]:
            refused[n_refused] = now
            n_refused += 1
            if counted:
                refusals += 1
            continue
        began = start[i]
        finished = began + works[n_admitted]
        n_admitted += 1
        _cover(now, finished, points, covering, IN_SYSTEM)
        in_system = _area(now, finished, cuts, area, IN_SYSTEM, in_system)
        _cover(began, finished, points, covering, BUSY)
        busy = _area(began, finished, cuts, area, BUSY, busy)
        if ahead[i] >= 0:  # it joined the waiting room, if only for an instant
            _cover(now, began, points, covering, QUEUE)
            in_queue = _area(now, began, cuts, area, QUEUE, in_queue)
            if counted and ahead[i] + 1 > peak:
                peak = ahead[i] + 1
        if counted and began < limit:
            waits += began - now
            waited += 1
    totals[ARRIVED] += arrived
    totals[REFUSED] += refusals
    totals[WAIT_SUM] = waits
    totals[WAITED] += waited
    totals[PEAK] = peak
    return n_refused


@njit(cache=True, nogil=True, inline="always")
def _cover(begin: float, end: float, points: np.ndarray, covering: np.ndarray, row: int) -> None:
    """Count ``[begin, end)`` in row ``row`` of ``covering`` for each of ``points`` it
    covers (an interval ending at a point still covers it: at one instant the SimPy clock
    stops before what happens there)."""
    for p in range(points.size):
        if begin < points[p] <= end:
            covering[row, p] += 1


@njit(cache=True, nogil=True, inline="always")
def _area(
    begin: float, end: float, cuts: np.ndarray, area: np.ndarray, row: int, segment: int
) -> int:
    """Add the overlap of ``[begin, end)`` with each segment between ``cuts`` (up to the
    last cut) to row ``row`` of ``area``. ``segment`` is the one the row's last interval
    began in (intervals come in order of their starts); returns this one's."""
    segments = cuts.size - 1
    last = cuts[segments]
    if begin >= last:
        return segment
    if end > last:
        end = last
    if begin < cuts[segment] or (segment + 1 < segments and begin >= cuts[segment + 1]):
        segment = min(max(np.searchsorted(cuts, begin, side="right") - 1, 0), segments - 1)
    k = segment
    while k + 1 < segments and end > cuts[k + 1]:
        area[row, k] += cuts[k + 1] - max(begin, cuts[k])
        k += 1
    area[row, k] += end - max(begin, cuts[k])
    return segment


@njit(cache=True, nogil=True)
def count_buckets(
    offset: np.ndarray, values: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`sim.measure.stats.count_buckets` in one pass: the same counts, lows and
    highs (a minimum or maximum is exact in any order)."""
    counts = np.zeros(size, dtype=np.int64)
    lows = np.full(size, np.inf)
    highs = np.full(size, -np.inf)
    for i in range(offset.size):
        bucket, value = offset[i], values[i]
        counts[bucket] += 1
        if value < lows[bucket]:
            lows[bucket] = value
        if value > highs[bucket]:
            highs[bucket] = value
    return counts, lows, highs
