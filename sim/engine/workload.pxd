# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

from sim.engine.service cimport ServiceRuntime
from sim.engine.tasks cimport TaskEnvironment

cdef class Clients:
    cdef public TaskEnvironment env
    cdef public ServiceRuntime entry
    cdef public bint direct
    cdef public object spec, recorder, streams, name, _class, _class_index
    cdef public object _priorities, _sizes, _client, retrier, tracer, passes_through
    cdef public object _several_classes, _several_clients
