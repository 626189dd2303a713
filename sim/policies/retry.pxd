# Built as extension types (see sim/compiled): their attributes live in the object, so
# their methods read and write them without a lookup. Every attribute is declared here.

cdef class Backoff:
    cdef public object base, cap, jitter, multiplier


cdef class RetryBudget:
    cdef public object budget_percent, min_retry_concurrency, active_retries


cdef class RetryThrottle:
    cdef public object max_tokens, token_ratio, tokens
