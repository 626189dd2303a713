"""java.util.concurrent.ThreadPoolExecutor's rule for a submitted task (execute())."""

from __future__ import annotations

from enum import Enum


class Admission(Enum):
    """What happens to a submitted request."""

    IDLE_THREAD = "idle_thread"  # an idle thread takes it from the queue at once
    NEW_THREAD = "new_thread"
    QUEUE = "queue"
    REJECT = "reject"


def admit(
    threads: int, busy: int, queued: int, core: int, maximum: int, queue_limit: float
) -> Admission:
    """The executor's decision for one submission.

    Below ``core`` threads a new thread starts, even if others are idle. Otherwise the task
    is offered to the queue, where an idle thread picks it up at once; if the queue is full,
    a new thread starts while fewer than ``maximum`` run; otherwise the task is rejected
    (AbortPolicy). With an unbounded queue ``maximum`` is never reached: Java's own gotcha.
    """
    if threads < core:
        return Admission.NEW_THREAD
    if busy < threads and queued == 0:
        return Admission.IDLE_THREAD
    if queued < queue_limit:
        return Admission.QUEUE
    if threads < maximum:
        return Admission.NEW_THREAD
    return Admission.REJECT
