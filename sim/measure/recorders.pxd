# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class Recorder:
    cdef public object name, end_to_end, warmup, horizon, bin_width, classes, workers
    cdef public object cpus, gc, scaled, unit_capacity, nbins, arrivals, open
    cdef public object in_system_start, counts, done_at, latency, done_class
    cdef public object rejected_at, rejected_reason, failed_at, good, wasted, wait_sum
    cdef public object wait_count, queue, busy, in_system, cpu_busy, paused, ready
    cdef public object serving, provisioned, desired, scaler_metric, limit, units_held
    cdef public object has_limit, attempts, late_at, pools, final, folded, measured
