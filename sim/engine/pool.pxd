# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.
# Their gauges are declared Gauges, and admitting and releasing are C methods: a build
# that cimports WorkerPool (a replica's) calls them without Python's call protocol.
from sim.engine.tasks cimport TaskEnvironment
from sim.measure.gauge cimport Gauge

cdef class Overflow:
    cdef public object size, patience


cdef class Waiting:
    cdef public object grant, enqueued, priority, patience, size


cdef class WorkerPool:
    cdef public TaskEnvironment env
    cdef public Gauge busy_gauge, queue_gauge
    cdef public object slots, queue_limit, where, busy
    cdef public object levels, size, thread_pool, alive, discipline, codel, _sheds
    cdef public object _eager, overflow, outside, ran_out, filled, most, most_waiting
    cdef public object limit, waiting_limit, watch, waiting_watch

    cpdef admit(self, priority=*, patience=*, size=*)
    cpdef release(self, size=*)


cdef class UnitPool(WorkerPool):
    cdef public Gauge held_gauge
    cdef public object units, held

    cpdef admit(self, priority=*, patience=*, size=*)
    cpdef release(self, size=*)
