# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

from sim.distributions cimport Uniforms

cdef class Balancer:
    cdef public object policy, choice_count, _next
    cdef public Uniforms _uniform

    cpdef choose(self, active)
