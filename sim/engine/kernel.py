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
) -> int:
    """Serve ``arrivals`` (sorted times) in order; return how many ``works`` were used.

    ``workers`` holds per worker when it frees and when its current request started, as a
    binary min-heap on (frees, started): the root is the worker the next request gets;
    ``waiting`` is a ring buffer of (start, start of the request whose worker it takes)
    for admitted requests that may not have started, ``state`` its head and size, and
    ``clock`` the SimPy clock at the last arrival and when that arrival was scheduled.
    All carry over from one call to the next. Arrival times are rewritten in place to
    the instants the SimPy clock shows. ``works`` are consumed one per admitted request.
    Per arrival it writes whether it was admitted, when it starts (NaN if refused) and
    how many were waiting ahead of it, or -1 if it got a worker without waiting.
    Returns :data:`OVERFLOW` if the waiting room would outgrow its buffer.
    """
    capacity = waiting.shape[0]
    head, size = state[0], state[1]
    last, scheduled = clock[0], clock[1]
    used = 0
    for i in range(arrivals.size):
        # SimPy reaches t by a timeout of t - now: its clock can differ from t in the last bit
        if arrivals[i] > last:
            scheduled = last  # this arrival's timeout was scheduled at the previous one
            last = last + (arrivals[i] - last)
        now = arrivals[i] = last
        while size > 0 and _started(waiting[head, 0], waiting[head, 1], now, scheduled):
            head = (head + 1) % capacity
            size -= 1
        frees, began = workers[0, 0], workers[0, 1]  # the earliest worker: the heap's root
        if _started(frees, began, now, scheduled):
            ahead[i] = -1
            begins = now
        elif size >= queue_limit:
            ahead[i] = size
            admitted[i] = False
            start[i] = np.nan
            continue
        elif size >= capacity:
            state[0], state[1] = head, size
            clock[0], clock[1] = now, scheduled
            return OVERFLOW
        else:
            ahead[i] = size
            begins = frees
            slot = (head + size) % capacity
            waiting[slot, 0], waiting[slot, 1] = begins, began
            size += 1
        _replace_root(workers, begins + works[used], begins)
        used += 1
        admitted[i] = True
        start[i] = begins
    state[0], state[1] = head, size
    clock[0], clock[1] = last, scheduled
    return used


@njit(cache=True, nogil=True)
def _replace_root(heap: np.ndarray, frees: float, began: float) -> None:
    """Give the heap's root worker a new (frees, began) and sift it down to its place."""
    size = heap.shape[0]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        other = child + 1
        if other < size and (
            heap[other, 0] < heap[child, 0]
            or (heap[other, 0] == heap[child, 0] and heap[other, 1] < heap[child, 1])
        ):
            child = other
        if heap[child, 0] > frees or (heap[child, 0] == frees and heap[child, 1] >= began):
            break
        heap[i, 0], heap[i, 1] = heap[child, 0], heap[child, 1]
        i = child
    heap[i, 0], heap[i, 1] = frees, began


@njit(cache=True, nogil=True, inline="always")
def _started(at: float, freed_by: float, now: float, scheduled: float) -> bool:
    """Whether something that happens at ``at``, when a request that started at
    ``freed_by`` ends, is done before an arrival at ``now`` whose timeout was scheduled at
    ``scheduled``. At one instant SimPy takes events in the order they were scheduled."""
    return at < now or (at == now and freed_by < scheduled)


@njit(cache=True, nogil=True)
def add_intervals(
    starts: np.ndarray,
    ends: np.ndarray,
    cuts: np.ndarray,
    area: np.ndarray,
    points: np.ndarray,
    covering: np.ndarray,
) -> None:
    """Add the overlap of each interval ``[starts[i], ends[i])`` with each segment between
    ``cuts`` (up to the last cut) to ``area``, and count in ``covering`` the intervals over
    each of ``points`` (an interval ending at a point still covers it: at one instant the
    SimPy clock stops before what happens there). Starts in order are fastest."""
    segments = cuts.size - 1
    last = cuts[segments]
    k = 0
    for i in range(starts.size):
        begin, end = starts[i], ends[i]
        for p in range(points.size):
            if begin < points[p] <= end:
                covering[p] += 1
        if begin >= last:
            continue
        end = min(end, last)
        if begin < cuts[k] or (k + 1 < segments and begin >= cuts[k + 1]):
            k = min(max(np.searchsorted(cuts, begin, side="right") - 1, 0), segments - 1)
        j = k
        while j + 1 < segments and end > cuts[j + 1]:
            area[j] += cuts[j + 1] - max(begin, cuts[j])
            j += 1
        area[j] += end - max(begin, cuts[j])
