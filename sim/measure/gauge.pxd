# Built as an extension type: its attributes live in the object, so its methods read and
# write them without a lookup. Every attribute the source sets is declared here.
cdef class Gauge:
    cdef public object value, t, area, peak, width, bins, index, edge
