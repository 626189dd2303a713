"""The schema of one service: workers and queue, calls to other services, and what goes wrong.

Names follow the real systems (see the README): Envoy's ``max_connections`` and
``max_pending_requests`` for caller-side pools, Envoy's balancer policies, Java's
ThreadPoolExecutor ``core``/``max``/``keep_alive``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from sim.model.base import MAX_REPLICAS, Duration, PositiveDuration, Strict, unit
from sim.model.controls import (
    CircuitBreakerSpec,
    CodelSpec,
    ConcurrencyLimit,
    Discipline,
    QueueTimeoutField,
    RateLimit,
    RetryPolicy,
)
from sim.model.distributions import Distribution, mean_of
from sim.model.scaling import Autoscaling
from sim.policies.gc import AllocationTrigger

UNBOUNDED = "unbounded"

CallMode = Literal["sync", "async", "enqueue"]


def _queue_size(value: Any) -> Any:
    if value == UNBOUNDED or value is None:
        return UNBOUNDED
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PydanticCustomError("queue_size", "must be a whole number >= 0, or 'unbounded'")
    return value


QueueSize = Annotated[int | Literal["unbounded"], BeforeValidator(_queue_size)]


class Call(Strict):
    """A call a worker makes after its own work: to which service, how, and how often."""

    to: str = Field(description="the service called")
    mode: CallMode = Field(
        "sync",
        description=(
            "sync: the worker waits (blocking I/O); async: the worker is freed while the call "
            "is out; enqueue: fire and forget onto the callee's queue"
        ),
    )
    probability: float = Field(1.0, ge=0, le=1, description="chance the call is made at all")
    count: int = Field(1, ge=1, description="how many times it is made")
    parallel: bool = Field(
        False,
        description="copies (and adjacent parallel calls) go out at once; the worker waits for all",
    )
    quorum: int | None = Field(
        None,
        ge=1,
        description="with parallel: done when this many of the copies succeed (read quorum, "
        "hedged fan-out); the rest run on unless cancel_rest",
    )
    cancel_rest: bool = Field(
        False,
        description="with quorum: cancel the copies still out once it is reached (gRPC "
        "hedging); by default they run on (a Cassandra read quorum)",
    )
    cache_hit_ratio: float = Field(0.0, ge=0, le=1, description="a hit skips the call")
    timeout: PositiveDuration | None = Field(
        None, description="the caller gives up after this long (outcome timeout)"
    )
    circuit_breaker: CircuitBreakerSpec | None = Field(
        None, description="Resilience4j breaker per caller replica"
    )
    retries: RetryPolicy | None = Field(None, description="retries of failed calls")
    network_latency: Distribution | None = Field(
        None, description="round trip on the wire per attempt, half each way, seconds"
    )
    loss: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="chance an attempt's request is lost on the way (needs a timeout)",
    )

    @model_validator(mode="after")
    def _quorum_of_parallel_copies(self) -> Call:
        if self.cancel_rest and self.quorum is None:
            raise PydanticCustomError("cancel", "goes with quorum", {"path": "cancel_rest"})
        if self.quorum is not None and not (self.parallel and self.quorum <= self.count):
            raise PydanticCustomError(
                "quorum",
                "a quorum is of parallel copies: needs parallel: true and at most count ({count})",
                {"path": "quorum", "count": self.count},
            )
        return self

    @model_validator(mode="after")
    def _loss_needs_a_timeout(self) -> Call:
        if self.loss > 0 and self.timeout is None and self.mode != "enqueue":
            raise PydanticCustomError(
                "loss",
                "a lost request is noticed only when its caller stops waiting: give the call "
                "a timeout",
                {"path": "loss"},
            )
        return self

    @property
    def expected_calls(self) -> float:
        """Mean number of requests this entry sends to the callee per request."""
        return self.probability * self.count * (1 - self.cache_hit_ratio)


class ConnectionPool(Strict):
    """Caller-side limits towards one callee, per caller replica (Envoy cluster circuit breakers).

    A request needing a connection when ``max_connections`` are busy waits as pending; when
    ``max_pending_requests`` are already pending it fails at once (``pool_full``).
    """

    max_connections: int = Field(1024, ge=1, description="concurrent requests to the callee")
    max_pending_requests: int = Field(1024, ge=0, description="requests waiting for a connection")


class ClassBehaviour(Strict):
    """What a service does differently for one request class."""

    work: Distribution | None = Field(None, description="own work for this class")
    calls: list[Call] | None = Field(None, description="calls for this class")


class Incident(Strict):
    """A window of trouble on a service: slower, failing, or down."""

    start: Duration = Field(description="seconds from the start of the run")
    end: Duration | None = Field(None, description="end of the window (or give duration)")
    duration: Duration | None = Field(None, description="length of the window (or give end)")
    slowdown: float = Field(1.0, ge=1, description="own work takes this many times longer")
    added_latency: Distribution | None = Field(
        None, description="extra time each request holds its worker (e.g. a slow disk)"
    )
    error_rate: float = Field(0.0, ge=0, le=1, description="fraction of requests that fail")
    down: Literal["fail_fast", "hang", "crash"] | None = Field(
        None,
        description=(
            "fail_fast: every request fails at once (error); hang: requests get no answer "
            "until the window ends, then their connections are reset (error); crash: as "
            "fail_fast, and what the replica holds at the start fails at once (it restarts "
            "empty at the end)"
        ),
    )
    replicas: list[int] | None = Field(
        None, description="only these replicas (by index, from 0); default all of them"
    )

    @model_validator(mode="after")
    def _window(self) -> Incident:
        if (self.end is None) == (self.duration is None):
            raise ValueError("give end or duration")
        if self.stop <= self.start:
            raise PydanticCustomError("window", "must end after it starts", {"path": "end"})
        return self

    @property
    def stop(self) -> float:
        """End of the window, seconds from the start of the run."""
        if self.end is not None:
            return self.end
        assert self.duration is not None  # the validator saw to it
        return self.start + self.duration


class OutlierDetection(Strict):
    """Envoy's passive outlier detection in the balancer: a replica that answers with
    ``consecutive_5xx`` failures in a row is taken out of load balancing for
    ``base_ejection_time`` times the number of times it has been ejected."""

    consecutive_5xx: int = Field(5, ge=1, description="failures in a row that eject a replica")
    base_ejection_time: PositiveDuration = Field(30.0, description="first ejection, seconds")
    max_ejection_percent: float = Field(
        10.0, ge=0, le=100, description="most replicas out at once, % (one may always go)"
    )


class HealthCheck(Strict):
    """Envoy's active health checking: every ``interval`` the balancer asks each replica for
    its health; a check passes when a worker answers it within ``timeout`` (it waits in
    the same queue as requests, so an overloaded replica fails its checks too)."""

    interval: PositiveDuration = Field(description="between one check's end and the next")
    timeout: PositiveDuration = Field(description="a check not answered by then fails")
    unhealthy_threshold: int = Field(ge=1, description="failed checks in a row: unhealthy")
    healthy_threshold: int = Field(
        ge=1, description="passed checks in a row: healthy again (one for a new replica)"
    )


class GarbageCollection(Strict):
    """Stop-the-world pauses per replica: no worker of it makes progress on its own work.

    Collections come every ``interval``, or after ``young_gen`` bytes are allocated at
    ``alloc_per_request`` bytes per request started (busier replicas collect more often).
    Each pause lasts ``pause`` plus ``pause_per_held_request`` times the requests held in
    memory (queued and in service): the memory-pressure feedback behind GC death spirals.
    """

    interval: PositiveDuration | None = Field(None, description="seconds between collections")
    alloc_per_request: float | None = Field(None, gt=0, description="bytes allocated per request")
    young_gen: float | None = Field(None, gt=0, description="bytes allocated between collections")
    pause: Distribution = Field(description="pause length, seconds")
    pause_per_held_request: Duration = Field(
        0.0, description="extra pause per request queued or in service on the replica"
    )

    @model_validator(mode="after")
    def _trigger(self) -> GarbageCollection:
        by_time = self.interval is not None
        by_alloc = self.alloc_per_request is not None or self.young_gen is not None
        if by_time == by_alloc:
            raise ValueError("give interval, or alloc_per_request and young_gen")
        if by_alloc and (self.alloc_per_request is None or self.young_gen is None):
            raise ValueError("allocation-driven GC needs both alloc_per_request and young_gen")
        return self

    @property
    def requests_per_collection(self) -> float | None:
        """Requests started between allocation-driven collections (None when timed)."""
        if self.young_gen is None or self.alloc_per_request is None:
            return None
        return self.young_gen / self.alloc_per_request

    def build_trigger(self) -> AllocationTrigger | None:
        """The allocation counter that makes collections due (None when timed)."""
        if self.young_gen is None or self.alloc_per_request is None:
            return None
        return AllocationTrigger(self.young_gen, self.alloc_per_request)


class ListenBacklog(Strict):
    """The kernel's accept queue in front of the server's own waiting room (Linux). A
    connection that finds the waiting room full waits there to be accepted; when the
    backlog is full too, its SYN is dropped and the client retransmits after 1 s, then 2,
    4, ... s (1, 3, 7 s after it first tried), and gives up after ``syn_retries``."""

    backlog: int = Field(511, ge=0, description="listen(2)'s backlog (nginx and Redis: 511)")
    somaxconn: int = Field(4096, ge=0, description="net.core.somaxconn, the kernel's cap")
    syn_retries: int = Field(
        6, ge=0, le=12, description="net.ipv4.tcp_syn_retries: the client's retransmissions"
    )

    @property
    def size(self) -> int:
        """The effective backlog: min(backlog, somaxconn)."""
        return min(self.backlog, self.somaxconn)


class BlockWhenFull(Strict):
    """A producer that blocks while the buffer is full, then fails: a request that finds
    the waiting room full waits for a place up to ``max_block`` (Kafka's max.block.ms and
    BufferExhaustedException, the OpenTelemetry collector's block_on_overflow)."""

    max_block: PositiveDuration = Field(60.0, description="longest wait for a place, seconds")


class Scalability(Strict):
    """Gunther's Universal Scalability Law: a request's own work is stretched by
    ``1 + contention x (N - 1) + coherency x N x (N - 1)``, with N the requests in service
    on its replica when it starts (itself included)."""

    contention: float = Field(
        0.0, ge=0, le=1, description="sigma: the serialised share (locks, a shared resource)"
    )
    coherency: float = Field(
        0.0, ge=0, le=1, description="kappa: crosstalk per pair (keeping shared data consistent)"
    )


class ThreadPool(Strict):
    """A Java ThreadPoolExecutor: core threads, then the queue, then up to max threads.

    Below ``core`` a new thread starts; else the request queues; when the queue is full and
    fewer than ``max`` threads run, a new thread starts; else the request is rejected.
    Threads above core die after ``keep_alive`` idle.
    """

    core: int = Field(ge=0, description="threads kept even when idle (corePoolSize)")
    max: int = Field(ge=1, description="most threads (maximumPoolSize)")
    keep_alive: Duration = Field(60.0, description="idle time before a non-core thread dies")

    @model_validator(mode="after")
    def _sizes(self) -> ThreadPool:
        if self.max < self.core:
            raise PydanticCustomError("sizes", "must be >= core", {"path": "max"})
        return self


Balancer = Literal["round_robin", "random", "least_request"]


class Service(Strict):
    """A pool of identical replicas, each with its own workers and bounded waiting room."""

    replicas: int | None = Field(
        None,
        ge=1,
        le=MAX_REPLICAS,
        description="identical instances behind a balancer; default 1",
        json_schema_extra=unit("replicas", unset=1, knob=True),
    )
    autoscaling: Autoscaling | None = Field(
        None, description="HPA, schedule or step scaling instead of a fixed replica count"
    )
    workers: int | None = Field(
        None,
        ge=1,
        description="requests served at once per replica (threads); default 1",
        json_schema_extra=unit("workers", unset=1, knob=True),
    )
    queue: QueueSize = Field(
        100,
        description=(
            "waiting room per replica; an arrival finding workers and queue full is rejected "
            "(queue_full). 0 = no waiting room; 'unbounded' = no limit (stable loads only). "
            "Default 100, Tomcat's acceptCount."
        ),
        json_schema_extra=unit("requests", minimum=0, knob=True),
    )
    work: Distribution = Field(description="own service time per request, seconds")
    calls: list[Call] = Field(default_factory=list, description="calls made after own work")
    classes: dict[str, ClassBehaviour] = Field(
        default_factory=dict, description="per request class: its own work and calls"
    )
    balancer: Balancer = Field("round_robin", description="how a replica is chosen (Envoy)")
    outlier_detection: OutlierDetection | None = Field(
        None, description="eject replicas that keep failing from load balancing (Envoy)"
    )
    choice_count: int = Field(2, ge=1, description="least_request: hosts drawn per choice")
    connection_pools: dict[str, ConnectionPool] = Field(
        default_factory=dict, description="caller-side limits per callee, per replica"
    )
    incidents: list[Incident] = Field(default_factory=list, description="windows of trouble")
    gc: GarbageCollection | None = Field(None, description="stop-the-world pauses per replica")
    initial_backlog: int = Field(
        0,
        ge=0,
        le=1_000_000,
        description="requests already arrived at t=0 (a backlog after an outage)",
        json_schema_extra=unit("requests"),
    )
    listen_backlog: ListenBacklog | None = Field(
        None, description="the kernel's accept queue in front of the waiting room"
    )
    block_when_full: BlockWhenFull | None = Field(
        None, description="wait for a place in a full waiting room, up to max_block"
    )
    health_check: HealthCheck | None = Field(
        None, description="active health checks of each replica by the balancer (Envoy)"
    )
    panic_threshold: float = Field(
        50.0,
        ge=0,
        le=100,
        description="% of replicas healthy (not ejected, passing checks) below which the "
        "balancer uses all of them; 0 never panics",
    )
    scalability: Scalability | None = Field(
        None, description="own work stretched by concurrency (Universal Scalability Law)"
    )
    work_per_unit: Duration | None = Field(
        None,
        description="own work added per unit of the request's size (its class's size: "
        "e.g. seconds per token)",
    )
    unit_capacity: float | None = Field(
        None,
        gt=0,
        description="per replica: units its requests in service may hold together (e.g. "
        "KV-cache tokens); a request holds its size while served, and waits until it fits",
        json_schema_extra=unit("units"),
    )
    cpus: int | None = Field(
        None,
        ge=1,
        description="cores per replica; own work shares them (processor sharing)",
        json_schema_extra=unit("cores"),
    )
    pool: ThreadPool | None = Field(
        None, description="a Java ThreadPoolExecutor instead of a fixed number of workers"
    )
    rate_limit: RateLimit | None = Field(None, description="admission rate limit (429)")
    concurrency_limit: ConcurrencyLimit | None = Field(
        None, description="limit on requests in progress at the service (503)"
    )
    queue_timeout: QueueTimeoutField | None = Field(
        None, description="requests that waited longer are dropped when dequeued"
    )
    discipline: Discipline = Field("fifo", description="fifo, lifo, or adaptive_lifo")
    codel: CodelSpec | None = Field(None, description="CoDel shedding of standing queues")
    retry_after: Duration | None = Field(
        None, description="Retry-After sent with this service's 503s"
    )

    @model_validator(mode="after")
    def _replicas_or_autoscaling(self) -> Service:
        if self.autoscaling is not None and self.replicas is not None:
            raise PydanticCustomError(
                "scaling", "give replicas or autoscaling, not both", {"path": "replicas"}
            )
        if getattr(self.autoscaling, "metric", None) == "cpu" and self.cpus is None:
            raise PydanticCustomError(
                "cpu", "the cpu metric needs cpus on the service", {"path": "autoscaling.metric"}
            )
        return self

    @property
    def initial_replicas(self) -> int:
        """Replicas at t=0."""
        if self.autoscaling is not None:
            return self.autoscaling.initial
        return self.replicas if self.replicas is not None else 1

    @property
    def most_replicas(self) -> int:
        """The most replicas the service can have (for capacity checks)."""
        scaling = self.autoscaling
        if scaling is None:
            return self.initial_replicas
        if hasattr(scaling, "max_replicas"):
            return scaling.max_replicas
        return max(e.replicas for e in scaling.schedule)

    @model_validator(mode="after")
    def _incident_replicas_exist(self) -> Service:
        for index, incident in enumerate(self.incidents):
            for replica in incident.replicas or []:
                if not 0 <= replica < self.most_replicas:
                    raise PydanticCustomError(
                        "replica",
                        "replica {replica} does not exist: replicas are 0 to {last}",
                        {
                            "path": f"incidents.{index}.replicas",
                            "replica": replica,
                            "last": self.most_replicas - 1,
                        },
                    )
        return self

    @model_validator(mode="after")
    def _one_line_outside(self) -> Service:
        if self.listen_backlog is not None and self.block_when_full is not None:
            raise PydanticCustomError(
                "outside",
                "give listen_backlog or block_when_full, not both",
                {"path": "block_when_full"},
            )
        return self

    @model_validator(mode="after")
    def _pool_or_workers(self) -> Service:
        if self.pool is not None and self.workers is not None:
            raise PydanticCustomError("pool", "give workers or pool, not both", {"path": "workers"})
        if self.pool is not None and self.unit_capacity is not None:
            raise PydanticCustomError(
                "units",
                "a budget of units needs a fixed number of workers, not a thread pool",
                {"path": "unit_capacity"},
            )
        return self

    @property
    def most_workers(self) -> int:
        """Most requests in service at once per replica (a thread pool's ``max``)."""
        if self.pool is not None:
            return self.pool.max
        return self.workers if self.workers is not None else 1

    @property
    def queue_limit(self) -> float:
        """Waiting places per replica as a number (infinity when unbounded)."""
        return math.inf if self.queue == UNBOUNDED else float(self.queue)

    def work_for(self, cls: str) -> Any:
        """The own-work distribution for a request class."""
        behaviour = self.classes.get(cls)
        return behaviour.work if behaviour and behaviour.work is not None else self.work

    def calls_for(self, cls: str) -> list[Call]:
        """The calls made for a request class."""
        behaviour = self.classes.get(cls)
        return behaviour.calls if behaviour and behaviour.calls is not None else self.calls

    def holding_time(self, cls: str, mean_size: float = 0.0) -> float:
        """Mean time a worker is held by own work (calls excluded), for requests of
        ``mean_size`` units on average."""
        return mean_of(self.work_for(cls)) + (self.work_per_unit or 0.0) * mean_size
