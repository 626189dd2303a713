"""Where replications run: in this process, on all local cores, or on a Dask cluster.

A task is one replication of one model, identified by (model, replication, seed): its
random streams depend on nothing else, so the numbers are identical whichever executor
runs it, in whatever order.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol

from sim.engine.branching import Branches, watch_parent
from sim.engine.replication import run_replication
from sim.measure.output import ReplicationOutput
from sim.model import Model, from_dict
from sim.studies.progress import Progress


class Task(NamedTuple):
    """One replication to run: of ``model``, index ``replication``, with ``seed``; with
    ``branches``, the runs with fewer workers or waiting places branch off it (see
    :mod:`sim.engine.branching`)."""

    model: Model
    replication: int
    seed: int
    branches: Branches | None = None


class DaskClient(Protocol):
    """What queuefull uses of a ``dask.distributed.Client``."""

    def get_executor(self, **kwargs: Any) -> Executor:
        """A concurrent.futures view of the cluster."""
        ...


ExecutorArg = Executor | DaskClient | Literal["inline", "processes"] | None
"""Where replications run: None (all local cores), "inline", "processes", a
concurrent.futures Executor, or a dask.distributed Client."""

_local_pool: ProcessPoolExecutor | None = None


class WorkerLost(RuntimeError):
    """A worker process died (killed, out of memory) twice while running the same tasks."""


@dataclass
class Batch:
    """What :func:`run_tasks` got: one output per task (None where none came), whether
    Ctrl-C stopped it, and the tasks lost with their worker process even after a retry."""

    outputs: list[ReplicationOutput | None]
    interrupted: bool = False
    lost: list[int] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every task has its output."""
        return all(out is not None for out in self.outputs)


def _watch_parent(parent: int) -> None:
    """Pool initializer: exit when the parent dies (a CI step killed, a terminal closed),
    instead of simulating on as an orphan. Ctrl-C is the parent's to handle (it stops the
    pool), and SIGTERM ends a worker outright, whatever handler the parent forked it with."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    watch_parent(parent)


def new_pool(start_method: str | None = None) -> ProcessPoolExecutor:
    """A new process pool over every local core whose workers exit with this process.
    ``start_method`` ("spawn", "forkserver") suits a multi-threaded parent such as a web
    server, where forking is unsafe; None takes the platform's default."""
    context = multiprocessing.get_context(start_method) if start_method else None
    return ProcessPoolExecutor(
        max_workers=os.cpu_count() or 1,
        mp_context=context,
        initializer=_watch_parent,
        initargs=(os.getpid(),),
    )


def local_pool() -> ProcessPoolExecutor:
    """A process pool over every local core, started once and reused."""
    global _local_pool
    if _local_pool is None:
        _local_pool = new_pool()
    return _local_pool


def _reset_local_pool() -> None:
    global _local_pool
    if _local_pool is not None:
        _local_pool.shutdown(wait=False, cancel_futures=True)
    _local_pool = None


def _stop_local_pool() -> None:
    """Stop the local pool now, killing its workers mid-replication: on Ctrl-C a worker
    would otherwise finish the replication it holds (and the one queued behind it) before
    the process can exit, which for a long horizon is many seconds."""
    pool = _local_pool
    if pool is None:
        return
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
    else:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
    _reset_local_pool()


def _simulate(
    model_data: dict[str, Any], replication: int, seed: int, branches: Branches | None = None
) -> ReplicationOutput:
    """Run in a worker: rebuild the model from plain data and simulate one replication."""
    return run_replication(from_dict(model_data), replication, seed, branches)


def resolve(executor: ExecutorArg, tasks: int) -> Executor | None:
    """The executor to use: None runs in this process.

    ``None`` (default): all local cores when there is more than one task and more than one
    core; ``"inline"``: this process; ``"processes"``: the local pool; a
    ``concurrent.futures.Executor``; or a ``dask.distributed.Client``.
    """
    if executor is None:
        return local_pool() if tasks > 1 and (os.cpu_count() or 1) > 1 else None
    if executor == "inline":
        return None
    if executor == "processes":
        return local_pool()
    if hasattr(executor, "get_executor"):  # a dask.distributed Client
        return executor.get_executor(pure=False)
    if isinstance(executor, Executor):
        return executor
    raise ValueError(
        "executor must be None, 'inline', 'processes', a concurrent.futures.Executor or a "
        f"dask.distributed.Client, not {executor!r}"
    )


Arrived = Callable[[int, ReplicationOutput], None]
"""Told each task's output as it arrives: (task index, output)."""


def _submit_all(
    chosen: Executor,
    tasks: Sequence[Task],
    indices: list[int],
    outputs: list[ReplicationOutput | None],
    progress: Progress | None,
    arrived: Arrived | None = None,
) -> None:
    """Run ``indices`` on ``chosen``, storing outputs as they complete (in any order)."""
    data: dict[int, dict[str, Any]] = {}
    futures: dict[Future[ReplicationOutput], int] = {}
    for index in indices:
        model, replication, seed, branches = tasks[index]
        if id(model) not in data:
            data[id(model)] = model.model_dump(mode="json", exclude_none=True)
        futures[chosen.submit(_simulate, data[id(model)], replication, seed, branches)] = index
    try:
        for future in as_completed(futures):
            index = futures[future]
            outputs[index] = output = future.result()
            if progress:
                progress.advance()
            if arrived is not None:
                arrived(index, output)
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def run_tasks(
    tasks: Sequence[Task],
    executor: ExecutorArg = None,
    progress: Progress | None = None,
    arrived: Arrived | None = None,
) -> Batch:
    """Run every task. On Ctrl-C, stop and keep what finished. When a worker process dies,
    keep what finished and run the rest once more in a fresh pool; what fails again is
    reported as lost. ``arrived``, if given, is told each output as it arrives."""
    batch = Batch([None] * len(tasks))
    chosen = resolve(executor, len(tasks))
    try:
        if chosen is None:
            for index, task in enumerate(tasks):
                batch.outputs[index] = output = run_replication(*task)
                if progress:
                    progress.advance()
                if arrived is not None:
                    arrived(index, output)
            return batch
        for attempt in (1, 2):
            pending = [i for i, out in enumerate(batch.outputs) if out is None]
            try:
                _submit_all(chosen, tasks, pending, batch.outputs, progress, arrived)
                return batch
            except BrokenProcessPool:
                if chosen is not _local_pool or attempt == 2:
                    if chosen is _local_pool:
                        _reset_local_pool()
                    batch.lost = [i for i, out in enumerate(batch.outputs) if out is None]
                    return batch
                _reset_local_pool()
                chosen = local_pool()
        return batch
    except KeyboardInterrupt:
        if chosen is _local_pool:
            _stop_local_pool()
        batch.interrupted = True
        return batch
