# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class ServiceRuntime:
    cdef public object env, name, spec, recorder, deadline_propagation, work, replicas
    cdef public object ready, provisioning, arrival_count, _provisioning_delay, balancer
    cdef public object incidents, errors, added_latency, patience, rate_limiter
    cdef public object concurrency, replica_incidents, per_replica, crashable, usl
    cdef public object per_unit, reconciles, outliers, _streams, screens, plain
    cdef public object health_events, _check_phase, steps, edges, _classes, _tracer
    cdef public object handle
