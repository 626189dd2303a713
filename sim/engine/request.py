"""What travels with a request through the graph."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.engine.tracing import TraceContext


class RequestInfo:
    """A client request's class, client key and priority, its size in units (and the units
    reserved for it at admission), the last Retry-After it heard, and whether its caller
    has cancelled it (a quorum's copies still out once the quorum is reached)."""

    __slots__ = (
        "cancelled",
        "client",
        "cls",
        "priority",
        "reserved",
        "retry_after",
        "size",
        "trace",
    )

    def __init__(
        self,
        cls: int = 0,
        client: int = 0,
        priority: int = 0,
        size: float = 0.0,
        reserved: float = 0.0,
    ) -> None:
        self.cls = cls
        self.client = client
        self.priority = priority
        self.size = size
        self.reserved = reserved
        self.retry_after = 0.0
        self.cancelled = False
        self.trace: TraceContext | None = None  # sampled for a trace (see sim.engine.tracing)

    def fork(self) -> RequestInfo:
        """The same request, as one copy its caller can cancel (and trace) on its own."""
        copy = RequestInfo(self.cls, self.client, self.priority, self.size, self.reserved)
        if self.trace is not None:
            copy.trace = self.trace.fork()
        return copy
