# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.
# The gauges are declared Gauges and the hot path's methods C methods: a build that
# cimports Recorder (a service's) calls them without Python's call protocol.
from sim.measure.gauge cimport Gauge

cdef class Recorder:
    cdef public object name, end_to_end, warmup, horizon, bin_width, classes, workers
    cdef public object cpus, gc, scaled, unit_capacity, nbins, arrivals, open
    cdef public object in_system_start, counts, done_at, latency, done_class
    cdef public object rejected_at, rejected_reason, failed_at, good, wasted, wait_sum
    cdef public object wait_count, has_limit, attempts, late_at, pools, final, folded
    cdef public object measured, packed
    cdef public Py_ssize_t pack_done, pack_refused, pack_failed
    cdef public Gauge queue, busy, in_system, cpu_busy, paused, ready, serving
    cdef public Gauge provisioned, desired, scaler_metric, limit, units_held

    cpdef arrived(self, now, cls)
    cpdef rejected(self, now, outcome, counted, cls)
    cpdef failed(self, now, outcome, counted, cls)
    cpdef completed(self, arrived, now, counted, cls, good=*, held_from=*, held_to=*)
    cpdef waited(self, seconds)
