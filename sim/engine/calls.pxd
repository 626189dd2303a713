# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.
# Its environment and edge are declared the engine's, and an attempt types its replica,
# request and connection pool (see calls.py): their attributes read, and their hot
# methods called, as C.
from sim.engine.pool cimport WorkerPool
from sim.engine.replica cimport Replica
from sim.engine.request cimport RequestInfo
from sim.engine.tasks cimport TaskEnvironment
from sim.measure.edges cimport EdgeRecorder
from sim.policies.circuit_breaker cimport CircuitBreaker

cdef class CallSite:
    cdef public TaskEnvironment env
    cdef public EdgeRecorder edge
    cdef public object propagate, key, call, target, uniform, backoff_uniform
    cdef public object fallback, wire, losses, caller, to, breaker_spec
    cdef public double timeout
    cdef public bint enqueue, at_once

    cpdef _breaker(self, Replica replica)
    cpdef _request(self, RequestInfo info, patience)
    cpdef request_now(self, Replica replica, RequestInfo info, deadline)


cdef class Step:
    cdef public list sites
    cdef public bint parallel, releases_worker
    cdef public CallSite single

    cpdef run(self, Replica replica, RequestInfo info, deadline)
