# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class Overflow:
    cdef public object size, patience


cdef class Waiting:
    cdef public object grant, enqueued, priority, patience, size


cdef class WorkerPool:
    cdef public object env, slots, queue_limit, busy_gauge, queue_gauge, where, busy
    cdef public object levels, size, thread_pool, alive, discipline, codel, _sheds
    cdef public object _eager, overflow, outside, ran_out, filled, most, most_waiting
    cdef public object limit, waiting_limit, watch, waiting_watch


cdef class UnitPool(WorkerPool):
    cdef public object units, held, held_gauge
