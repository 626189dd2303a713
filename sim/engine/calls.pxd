# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class CallSite:
    cdef public object env, propagate, key, call, target, edge, uniform, backoff_uniform
    cdef public object fallback, wire, losses, caller
