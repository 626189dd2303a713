# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.
# Its environment is declared the engine's, and an attempt types its replica and request
# (see calls.py): their attributes read as C.
from sim.engine.replica cimport Replica
from sim.engine.request cimport RequestInfo
from sim.engine.tasks cimport TaskEnvironment

cdef class CallSite:
    cdef public TaskEnvironment env
    cdef public object propagate, key, call, target, edge, uniform, backoff_uniform
    cdef public object fallback, wire, losses, caller
