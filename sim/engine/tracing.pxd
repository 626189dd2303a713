# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class TraceContext:
    cdef public object trace, parent, span, entering, outcome, attempts


cdef class Tracer:
    cdef public object every, seen, spans, _ids, _sent
