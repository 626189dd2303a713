# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.
# Its pool is declared a WorkerPool: a build that cimports Replica (a service's) admits
# and releases through it without Python's call protocol.
from sim.engine.pool cimport WorkerPool

cdef class Replica:
    cdef public WorkerPool pool
    cdef public str state
    cdef public long long active, assigned
    cdef public object env, index, recorder, cold_until
    cdef public dict breakers, retriers, connections
    cdef public object health, working, crashes, rate_limiter
    cdef public object concurrency, executor, gc_trigger, paused, _gc_spec
    cdef public object _gc_pause
