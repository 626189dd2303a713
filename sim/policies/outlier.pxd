# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class OutlierDetector:
    cdef public object consecutive, base, max_percent, failures, ejections, until
    cdef public object events
