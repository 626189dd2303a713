# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.
# The gauges are declared Gauges and the hot path's methods C methods: a build that
# cimports Recorder (a service's) calls them without Python's call protocol.
from sim.measure.gauge cimport Gauge

cdef class Recorder:
    cdef public object name, end_to_end, bin_width, classes, workers
    cdef public object cpus, gc, scaled, unit_capacity, nbins
    cdef public object in_system_start
    cdef public object has_limit, attempts, pools, final, folded
    cdef public object measured, packed
    cdef public double warmup, horizon, wasted, wait_sum
    cdef public long long open, good, wait_count
    cdef public list arrivals, counts, done_at, latency, done_class, late_at
    cdef public list rejected_at, rejected_reason, failed_at
    cdef public Py_ssize_t pack_done, pack_refused, pack_failed
    cdef public Gauge queue, busy, in_system, cpu_busy, paused, ready, serving
    cdef public Gauge provisioned, desired, scaler_metric, limit, units_held

    cpdef arrived(self, double now, cls)
    cpdef rejected(self, now, outcome, counted, cls)
    cpdef failed(self, now, outcome, counted, cls)
    cpdef completed(self, arrived, now, counted, cls, good=*, held_from=*, held_to=*)
    cpdef waited(self, double seconds)
