"""The outcomes a request can end with, as reported in results.

End to end, a request ends with exactly one *root* outcome: ``ok``, a rejection (a service
or a caller-side pool said no at once), ``timeout`` (a caller gave up) or ``error``.
Per service, a failure that came from a callee is counted as ``downstream`` there, so each
service's own rejections, timeouts and errors stay its own; the root cause travels up.
"""

OK = "ok"
QUEUE_FULL = "queue_full"
POOL_FULL = "pool_full"
TIMEOUT = "timeout"
ERROR = "error"
DOWNSTREAM = "downstream"

REJECTIONS: tuple[str, ...] = (QUEUE_FULL, POOL_FULL)
"""Outcomes that count as rejections, in report order: each has a ``rejected_<reason>``."""

FAILURES: tuple[str, ...] = (TIMEOUT, ERROR)
"""Outcomes that are failures after admission."""

ALL: tuple[str, ...] = (OK, *REJECTIONS, *FAILURES, DOWNSTREAM)
"""Every outcome, in report order."""
