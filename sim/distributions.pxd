# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class Uniforms:
    cdef public object _rng
    cdef public list _buffer

    cpdef draw(self)


cdef class Categorical:
    cdef public object _cdf, _last, _uniform


cdef class Sampler:
    cdef public object _batch, _rng, _it, mean

    cpdef draw(self)
