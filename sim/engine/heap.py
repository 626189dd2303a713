"""The event heap: entries ``(time, priority, event id, event)``, the earliest first.

The interpreter's ``heapq`` orders entries by comparing their tuples, item by item, each
comparison a call on Python objects: about 60 a three-tier request, 8 % of its
instructions. Built, :func:`push` and :func:`pop` are heapq's algorithm with the order
read in C: the time as a double, then the priority and the event id as integers (the ids
are unique, so the events themselves are never compared, and every valid heap pops the
same sequence). From source they are heapq's own functions, which the interpreter runs
in C.
"""

from __future__ import annotations

from heapq import heappop, heappush

import cython

Entry = tuple[float, int, int, object]
"""A heap entry: when, its priority (URGENT before NORMAL), its event id, the event."""


# the indices below are always within the heap (or the entry): read without checks
@cython.cfunc
@cython.inline
@cython.boundscheck(False)
@cython.wraparound(False)
@cython.returns(cython.bint)
@cython.exceptval(check=False)
@cython.locals(a=tuple, b=tuple, at=cython.double, bt=cython.double)
@cython.locals(an=cython.longlong, bn=cython.longlong)
def _before(a: Entry, b: Entry) -> bool:
    """Whether entry ``a`` comes before entry ``b``, as their tuples compare."""
    at, bt = a[0], b[0]
    if at != bt:
        return at < bt
    an, bn = a[1], b[1]
    if an != bn:
        return an < bn
    an, bn = a[2], b[2]
    return an < bn


@cython.cfunc
@cython.inline
@cython.boundscheck(False)
@cython.wraparound(False)
@cython.locals(queue=list, entry=tuple, position=cython.Py_ssize_t, up=cython.Py_ssize_t)
@cython.locals(parent=tuple)
def _settle(queue: list[Entry], entry: Entry, position: int) -> None:
    """Put ``entry`` in the hole at ``position``, or up past every later parent."""
    while position > 0:
        up = (position - 1) >> 1
        parent = queue[up]
        if not _before(entry, parent):
            break
        queue[position] = parent
        position = up
    queue[position] = entry


def push(queue: list[Entry], entry: Entry) -> None:
    """Add ``entry`` to the heap ``queue``."""
    queue.append(entry)
    _settle(queue, entry, len(queue) - 1)


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.locals(last=tuple, first=tuple, end=cython.Py_ssize_t, position=cython.Py_ssize_t)
@cython.locals(child=cython.Py_ssize_t)
def pop(queue: list[Entry]) -> Entry:
    """Remove and return the heap ``queue``'s earliest entry (IndexError if empty)."""
    last = queue.pop()
    if not queue:
        return last
    first = queue[0]
    end = len(queue)
    position, child = 0, 1
    while child < end:  # the hole at the top down to a leaf, by the earlier child
        if child + 1 < end and not _before(queue[child], queue[child + 1]):
            child += 1
        queue[position] = queue[child]
        position, child = child, 2 * child + 1
    _settle(queue, last, position)  # the last entry into the hole
    return first


if not cython.compiled:  # the interpreter's own, in C: faster than the Python above
    push, pop = heappush, heappop
