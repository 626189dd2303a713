# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.
# A call's attempts are recorded through C methods (a call site cimports EdgeRecorder).

cdef class EdgeRecorder:
    cdef public double warmup, horizon
    cdef public long long calls, attempts
    cdef public list latency
    cdef public dict counts
    cdef public object folded, folded_sum, folded_count, packed
    cdef public Py_ssize_t pack_at

    cpdef logical(self, double now)
    cpdef record(self, double started, double issued, now, outcome)
