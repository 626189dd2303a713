"""What travels with a request through the graph."""

from __future__ import annotations


class RequestInfo:
    """A client request's class, client key and priority, and the last Retry-After it heard."""

    __slots__ = ("client", "cls", "priority", "retry_after")

    def __init__(self, cls: int = 0, client: int = 0, priority: int = 0) -> None:
        self.cls = cls
        self.client = client
        self.priority = priority
        self.retry_after = 0.0
