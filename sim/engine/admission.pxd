# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class RateLimiter:
    cdef public object spec, per_client, _limiters, cost, by_size


cdef class ConcurrencyLimiter:
    cdef public object policy, inflight, gauge, limit
