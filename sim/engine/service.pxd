# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

from sim.distributions cimport Sampler
from sim.engine.calls cimport Step
from sim.engine.replica cimport Replica
from sim.engine.request cimport RequestInfo
from sim.engine.tasks cimport TaskEnvironment
from sim.measure.recorders cimport Recorder

cdef class ServiceRuntime:
    cdef public TaskEnvironment env
    cdef public Recorder recorder
    cdef public object name, spec, deadline_propagation, work, replicas
    cdef public object ready, provisioning, arrival_count, _provisioning_delay, balancer
    cdef public object incidents, errors, added_latency, patience, rate_limiter
    cdef public object concurrency, replica_incidents, per_replica, crashable, usl
    cdef public object per_unit, reconciles, outliers, _streams, screens, plain
    cdef public object health_events, _check_phase, steps, edges, _classes, _tracer
    cdef public object handle

    cpdef choose(self)
    cpdef _leave(self, Replica replica)
    cpdef _queue(self, RequestInfo info, counted, Replica chosen=*)
