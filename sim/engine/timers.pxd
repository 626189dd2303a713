# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

from sim.engine.heap cimport push

cdef class TimerQueue:
    cdef public object env, seconds, pending

    cpdef set(self, waiter)
