# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class CountWindow:
    cdef public object outcomes, failures, slow


cdef class TimeWindow:
    cdef public object size, buckets, sums


cdef class CircuitBreaker:
    cdef public object config, state, generation, opened_at, half_opened_at
    cdef public object half_open_permits, transitions, _window
