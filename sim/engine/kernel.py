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
    hint = np.zeros(3, dtype=np.int64)  # per gauge, the segment its last interval began in
    for i in range(arrivals.size):
        now = arrivals[i]
        counted = warmup <= now < horizon
        if counted:
            totals[ARRIVED] += 1
        if not admitted[i]:
            refused[n_refused] = now
            n_refused += 1
            if counted:
                totals[REFUSED] += 1
            continue
        began = start[i]
        finished = began + works[n_admitted]
        n_admitted += 1
        _interval(now, finished, cuts, area, points, covering, IN_SYSTEM, hint)
        _interval(began, finished, cuts, area, points, covering, BUSY, hint)
        if ahead[i] >= 0:  # it joined the waiting room, if only for an instant
            _interval(now, began, cuts, area, points, covering, QUEUE, hint)
            if counted and ahead[i] + 1 > totals[PEAK]:
                totals[PEAK] = ahead[i] + 1
        if counted and began < limit:
            totals[WAIT_SUM] += began - now
            totals[WAITED] += 1
    return n_refused


@njit(cache=True, nogil=True, inline="always")
def _interval(
    begin: float,
    end: float,
    cuts: np.ndarray,
    area: np.ndarray,
    points: np.ndarray,
    covering: np.ndarray,
    row: int,
    hint: np.ndarray,
) -> None:
    """Add the overlap of ``[begin, end)`` with each segment between ``cuts`` (up to the
    last cut) to row ``row`` of ``area``, and count it in ``covering`` for each of
    ``points`` it covers (an interval ending at a point still covers it: at one instant the
    SimPy clock stops before what happens there). ``hint[row]`` remembers the segment
    the row's last interval began in: intervals come in order of their starts."""
    for p in range(points.size):
        if begin < points[p] <= end:
            covering[row, p] += 1
    segments = cuts.size - 1
    if begin >= cuts[segments]:
        return
    end = min(end, cuts[segments])
    k = hint[row]
    if begin < cuts[k] or (k + 1 < segments and begin >= cuts[k + 1]):
        k = min(max(np.searchsorted(cuts, begin, side="right") - 1, 0), segments - 1)
        hint[row] = k
    while k + 1 < segments and end > cuts[k + 1]:
        area[row, k] += cuts[k + 1] - max(begin, cuts[k])
        k += 1
    area[row, k] += end - max(begin, cuts[k])
