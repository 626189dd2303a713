"""The outcomes a request can end with, as reported in results.

A request ends with exactly one: ``ok``, or one of the rejections (the service said no at
once), or ``timeout`` / ``error``. Rejection reasons each get a ``rejected_<reason>`` metric.
"""

OK = "ok"
QUEUE_FULL = "queue_full"

REJECTIONS: tuple[str, ...] = (QUEUE_FULL,)
"""Outcomes that count as rejections, in report order."""

ALL: tuple[str, ...] = (OK, *REJECTIONS)
"""Every outcome, in report order."""
