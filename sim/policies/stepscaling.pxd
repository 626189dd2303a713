# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class StepScaler:
    cdef public object steps, scale_in_threshold, scale_in_adjustment, cooldown
    cdef public object min_replicas, max_replicas, last_action
