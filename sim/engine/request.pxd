# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class RequestInfo:
    cdef public object cls, client, priority, size, reserved, retry_after, cancelled
    cdef public object trace
