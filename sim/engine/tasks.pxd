# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.
# A signal's (and a task's) environment is declared a TaskEnvironment, so that their
# steps set the active process and queue first steps in the environment's own slots.

from sim.engine.heap cimport pop, push
from sim.engine.timers cimport TimerQueue

cdef class Task

cdef extern from *:
    """
    /* A generator's next step without StopIteration (PyIter_Send, Python 3.10+): what
       it yields, or, where it returns, ended(the value it returned); NULL if it raised. */
    static PyObject *queuefull_send(PyObject *generator, PyObject *value, PyObject *ended) {
        PyObject *result;
        PyObject *wrapped;
        switch (PyIter_Send(generator, value, &result)) {
        case PYGEN_NEXT:
            return result;
        case PYGEN_RETURN:
            wrapped = PyObject_CallOneArg(ended, result);
            Py_DECREF(result);
            return wrapped;
        default:
            return NULL;
        }
    }
    """
    object queuefull_send(object generator, object value, object ended)

cdef class Ended:
    cdef public object value


cdef class Wake:
    cdef public object callbacks

cdef class TaskEnvironment:
    cdef public list _queue
    cdef public dict timers
    cdef public list soon, starts
    cdef public Py_ssize_t _next_soon, _next_start
    cdef public object now, _now, _eid, _active_proc

    cpdef sleep(self, delay)
    cpdef wake_after(self, seconds, waiter)
    cpdef start_due(self)

cdef class Signal:
    cdef public TaskEnvironment env
    cdef public object callbacks, _value, _ok, _defused

    cpdef succeed(self, value=*)
    cdef _untriggered(self, TaskEnvironment env)

cdef class Task(Signal):
    cdef public object _generator, _detached, _target, _resumer

    cdef _prepare(self, generator, detached)
    cpdef begin(self)
    cpdef _resume(self, event)
    cdef _end(self, value)

cpdef bint queues(env)
cpdef start(env, generator, detached=*)
