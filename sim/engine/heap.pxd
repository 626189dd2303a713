# Built (see sim/compiled): the event heap's two operations as C functions, which the
# event loop and the timers cimport and call without Python's call protocol.

cpdef push(list queue, tuple entry)
cpdef tuple pop(list queue)
