# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.
# A breaker's counts, times and the configuration's numbers it reads on every call are C
# numbers, its state a str (compared by identity first), and its window a Window whose
# methods a call reaches as C.

cdef class Window:
    cdef public long long calls, failures, slow

    cpdef record(self, now, bint failed, bint slow)
    cpdef expire(self, now)


cdef class CountWindow(Window):
    cdef public Py_ssize_t size, next
    cdef public list ring


cdef class TimeWindow(Window):
    cdef public object size, buckets


cdef class CircuitBreaker:
    cdef public object config, transitions
    cdef public str state
    cdef public long long generation, half_open_permits, _half_open_calls, _least
    cdef public double opened_at, half_opened_at, _wait_open, _wait_half_open
    cdef public double _slow_after, _failure_rate, _slow_rate
    cdef public bint _automatic
    cdef public Window _window

    cpdef state_at(self, now)
    cpdef try_acquire(self, now)
    cpdef on_result(self, now, permit, duration, failed)
    cpdef _move(self, now, str state)
