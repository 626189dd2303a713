# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class Replica:
    cdef public object env, index, recorder, state, cold_until, active, assigned, pool
    cdef public object breakers, retriers, health, working, crashes, rate_limiter
    cdef public object concurrency, executor, connections, gc_trigger, paused, _gc_spec
    cdef public object _gc_pause
