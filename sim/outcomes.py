"""The outcomes a request can end with, as reported in results.

End to end, a request ends with exactly one *root* outcome: ``ok``, a rejection (a service,
a limiter, a breaker or a caller-side pool said no), ``timeout`` (a caller gave up) or
``error``. Per service, a failure that came from a callee is counted as ``downstream``
there, so each service's own rejections, timeouts and errors stay its own; the root cause
travels up.
"""

OK = "ok"
QUEUE_FULL = "queue_full"
POOL_FULL = "pool_full"
RATE_LIMITED = "rate_limited"
CONCURRENCY_LIMITED = "concurrency_limited"
CIRCUIT_OPEN = "circuit_open"
QUEUE_TIMEOUT = "queue_timeout"
CODEL = "codel"
TIMEOUT = "timeout"
ERROR = "error"
DOWNSTREAM = "downstream"

REJECTIONS: tuple[str, ...] = (
    QUEUE_FULL,
    POOL_FULL,
    RATE_LIMITED,
    CONCURRENCY_LIMITED,
    CIRCUIT_OPEN,
    QUEUE_TIMEOUT,
    CODEL,
)
"""Outcomes that count as rejections, in report order: each has a ``rejected_<reason>``."""

FAILURES: tuple[str, ...] = (TIMEOUT, ERROR)
"""Outcomes that are failures after admission."""

ALL: tuple[str, ...] = (OK, *REJECTIONS, *FAILURES, DOWNSTREAM)
"""Every outcome, in report order."""

HTTP_429 = frozenset({RATE_LIMITED})
HTTP_503 = frozenset({QUEUE_FULL, CONCURRENCY_LIMITED, QUEUE_TIMEOUT, CODEL})
"""Rejections that carry a Retry-After header when the service sets one."""
