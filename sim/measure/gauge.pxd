# Built as an extension type: its attributes live in the object, so its methods read and
# write them without a lookup. Every attribute the source sets is declared here. Its
# times and areas are C doubles, as they are floats in the source (with the source's
# cython.locals, a change makes one float object, for its bin, instead of six); the value
# and the peak stay objects, so a count stays an int, as in the source. ``add`` is a
# C method too: a build that cimports Gauge calls it without Python's call protocol.
cdef class Gauge:
    cdef public double t, area, width, edge
    cdef public Py_ssize_t index
    cdef public object value, peak, bins

    cpdef add(self, double now, delta)
