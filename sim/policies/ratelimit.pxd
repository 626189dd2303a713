# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class TokenBucket:
    cdef public object capacity, rate, tokens, last


cdef class LimitReq:
    cdef public object rate, burst, delay, excess, last


cdef class FixedWindow:
    cdef public object limit, window, start, used


cdef class SlidingLog:
    cdef public object limit, window, log, used


cdef class SlidingWindowCounter:
    cdef public object limit, window, start, used, previous
