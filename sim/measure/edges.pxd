# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.
# A call's attempts are recorded through C methods (a call site cimports EdgeRecorder).

cdef class EdgeRecorder:
    cdef public object warmup, horizon, latency, counts, calls, attempts, folded
    cdef public object folded_sum, folded_count, packed
    cdef public Py_ssize_t pack_at

    cpdef logical(self, now)
    cpdef record(self, started, issued, now, outcome)
