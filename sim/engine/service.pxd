# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

from sim.distributions cimport Sampler
from sim.engine.calls cimport Step
from sim.engine.replica cimport Replica
from sim.engine.request cimport RequestInfo
from sim.engine.tasks cimport TaskEnvironment
from sim.policies.balancer cimport Balancer
from sim.policies.incidents cimport IncidentSchedule
from sim.measure.recorders cimport Recorder

cdef class ServiceRuntime:
    cdef public TaskEnvironment env
    cdef public Recorder recorder
    cdef public object name, spec, replicas
    cdef public list work, ready
    cdef public bint deadline_propagation
    cdef public Balancer balancer
    cdef public IncidentSchedule incidents
    cdef public object provisioning, arrival_count, _provisioning_delay
    cdef public object errors, added_latency, patience, rate_limiter
    cdef public object concurrency, replica_incidents, per_replica, crashable, usl
    cdef public object per_unit, reconciles, outliers, _streams, screens, plain
    cdef public object health_events, _check_phase, steps, edges, _classes, _tracer
    cdef public object handle

    cpdef choose(self)
    cpdef _leave(self, Replica replica)
    cpdef _queue(self, RequestInfo info, counted, Replica chosen=*)
