"""Where replications run: in this process, on all local cores, or on a Dask cluster.

A task is one replication of one model, identified by (model, replication, seed): its
random streams depend on nothing else, so the numbers are identical whichever executor
runs it, in whatever order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sim.engine.replication import ReplicationOutput, run_replication
from sim.model import Model, from_dict
from sim.progress import Progress

Task = tuple[Model, int, int]
"""(model, replication index, seed)."""

_local_pool: ProcessPoolExecutor | None = None


def local_pool() -> ProcessPoolExecutor:
    """A process pool over every local core, started once and reused."""
    global _local_pool
    if _local_pool is None:
        _local_pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 1)
    return _local_pool


def _reset_local_pool() -> None:
    global _local_pool
    if _local_pool is not None:
        _local_pool.shutdown(wait=False, cancel_futures=True)
    _local_pool = None


def _simulate(model_data: dict[str, Any], replication: int, seed: int) -> ReplicationOutput:
    """Run in a worker: rebuild the model from plain data and simulate one replication."""
    return run_replication(from_dict(model_data), replication, seed)


def resolve(executor: Any, tasks: int) -> Executor | None:
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


def run_tasks(
    tasks: Sequence[Task],
    executor: Any = None,
    progress: Progress | None = None,
) -> list[ReplicationOutput | None]:
    """Run every task; on Ctrl-C, stop and return what finished (None for the rest)."""
    results: list[ReplicationOutput | None] = [None] * len(tasks)
    chosen = resolve(executor, len(tasks))
    try:
        if chosen is None:
            for index, (model, replication, seed) in enumerate(tasks):
                results[index] = run_replication(model, replication, seed)
                if progress:
                    progress.advance()
            return results
        data = {
            id(model): model.model_dump(mode="json", exclude_none=True) for model, _, _ in tasks
        }
        futures: list[Future] = [
            chosen.submit(_simulate, data[id(model)], replication, seed)
            for model, replication, seed in tasks
        ]
        try:
            for index, future in enumerate(futures):
                results[index] = future.result()
                if progress:
                    progress.advance()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return results
    except KeyboardInterrupt:
        if chosen is _local_pool:
            _reset_local_pool()  # its workers got the interrupt too
        return results
    except BrokenProcessPool:
        _reset_local_pool()
        raise
    finally:
        if progress:
            progress.close()
