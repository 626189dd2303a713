# Built as an extension type: its attributes live in the object, so its methods read and
# write them without a lookup. Every attribute the source sets is declared here. Its
# times and areas are C doubles, as they are floats in the source; the value and the peak
# are C integers while they are ints (see the class doc), so a change makes no object.
# ``add`` is a C method too: a build that cimports Gauge calls it without Python's call
# protocol.
cdef class Gauge:
    cdef public double t, area, width, edge
    cdef Py_ssize_t _index
    cdef double _level, _open
    cdef long long _count, _top
    cdef bint _whole
    cdef object _value, _peak
    cdef list _bins

    cpdef add(self, double now, delta)
    cdef _add_object(self, delta)
    cdef _loosen(self)
    cdef _advance(self, double now)
