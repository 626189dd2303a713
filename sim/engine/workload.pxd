# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class Clients:
    cdef public object env, spec, entry, recorder, streams, name, _class, _class_index
    cdef public object _priorities, _sizes, _client, retrier, tracer, passes_through
    cdef public object _several_classes, _several_clients
