# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class StaticLimit:
    cdef public object limit


cdef class AIMDLimit:
    cdef public object limit, min_limit, max_limit, backoff_ratio, timeout


cdef class Gradient2Limit:
    cdef public object limit, min_limit, max_limit, smoothing, rtt_tolerance, factor
    cdef public object queue_size, long_rtt
