# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

from sim.engine.tasks cimport Signal, TaskEnvironment, queues, start

cdef class FirstOf(Signal):
    cpdef hook(self, event)
    cpdef fire(self, _event)

cdef class Retrier:
    cdef public object env, policy, uniform, backoff, retry_on, gates, active
