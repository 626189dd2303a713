# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class IncidentSchedule:
    cdef public object incidents, edges, _effects

    cpdef at(self, now, replica=*)
