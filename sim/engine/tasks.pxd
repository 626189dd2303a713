# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.
# A signal's (and a task's) environment is declared a TaskEnvironment, so that their
# steps set the active process and queue first steps in the environment's own slots.

from sim.engine.heap cimport pop, push
from sim.engine.timers cimport TimerQueue

cdef class Task

cdef class Wake:
    cdef public object callbacks

cdef class TaskEnvironment:
    cdef public list _queue
    cdef public dict timers
    cdef public object now, _now, _eid, _active_proc, starts

    cpdef sleep(self, delay)
    cpdef wake_after(self, seconds, waiter)
    cpdef start_due(self)

cdef class Signal:
    cdef public TaskEnvironment env
    cdef public object callbacks, _value, _ok, _defused

cdef class Task(Signal):
    cdef public object _generator, _detached, _target, _resumer

    cpdef begin(self)
    cpdef _resume(self, event)
