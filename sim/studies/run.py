"""``sim.run``: replications of a model, in parallel, summarised into Results."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from sim.measure.output import ReplicationOutput
from sim.measure.results import Results
from sim.measure.stats import half_width
from sim.model import AUTO, Model, Precision
from sim.studies.parallel import ExecutorArg, Task, WorkerLost, run_tasks
from sim.studies.preflight import preflight
from sim.studies.progress import Progress, ProgressArg
from sim.studies.warmup import mser5

if TYPE_CHECKING:
    from sim.studies.slack import SlackReuse

PILOT_BINS = 1000
"""Time-series bins of the pilot run that chooses an automatic warm-up."""


def resolve_warmup(
    model: Model,
    replications: int,
    seed: int,
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
) -> tuple[Model, float | None]:
    """The model with ``warmup: auto`` replaced by the cut MSER-5 chooses, and the cut.

    A pilot run of the same replications with no warm-up (same seeds, so the same sample
    paths) gives the entry service's number in system over time; MSER-5 on its mean across
    replications chooses where the transient ends. Models with a fixed warm-up pass through.
    """
    if model.warmup != AUTO:
        return model, None
    width = min(model.bin_width, model.horizon / PILOT_BINS)
    pilot = model.model_copy(update={"warmup": 0.0, "timeseries_bin": width})
    outputs = replicate(pilot, range(replications), seed, executor, progress)
    series = np.mean([out.timeseries[model.entry]["in_system"] for out in outputs], axis=0)
    cut = min(mser5(series) * width, model.horizon / 2)
    return model.model_copy(update={"warmup": float(cut)}), float(cut)


def replicate(
    model: Model,
    indices: range,
    seed: int,
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
) -> list[ReplicationOutput]:
    """Run replications ``indices`` of ``model``; Ctrl-C stops them all; a replication lost
    with its worker process twice raises WorkerLost."""
    with Progress(len(indices), model.name, progress) as bar:
        batch = run_tasks([Task(model, r, seed) for r in indices], executor, bar)
    if batch.interrupted:
        raise KeyboardInterrupt
    if batch.lost:
        raise WorkerLost(_lost_message(model, [indices[i] for i in batch.lost]))
    return [out for out in batch.outputs if out is not None]


def _lost_message(model: Model, lost: Sequence[int]) -> str:
    return (
        f"{model.name}: replication(s) {', '.join(map(str, lost))} lost their worker process "
        "twice (killed, or out of memory?): the run is incomplete"
    )


def wanted_replications(model: Model, replications: object = None) -> int | Literal["auto"]:
    """The replications a study was asked for (``replications``, else the model's): a whole
    number >= 1 or ``"auto"``; anything else is a ValueError."""
    wanted = model.replications if replications is None else replications
    if isinstance(wanted, bool) or not (isinstance(wanted, int) or wanted == AUTO):
        raise ValueError(f"replications must be a whole number >= 1 or 'auto', not {wanted!r}")
    if isinstance(wanted, int) and wanted < 1:
        raise ValueError("replications must be >= 1")
    return wanted if isinstance(wanted, int) else "auto"


@dataclass(frozen=True)
class ReplicationPlan:
    """How many replications a study runs: ``start``, then with a precision block
    (``replications: auto``) doubling where it is not reached, up to ``cap``."""

    start: int
    cap: int
    precision: Precision | None = None

    def settled(self, results: Results) -> bool:
        """Whether ``results`` need no more replications: a fixed count, or every
        precision target reached."""
        spec = self.precision
        return spec is None or bool(precision_table(results, spec).reached.all())


def replication_plan(model: Model, replications: object = None) -> ReplicationPlan:
    """The plan for ``replications`` (see :func:`wanted_replications`): that many, or with
    ``"auto"`` the model's precision block (the defaults when it has none)."""
    wanted = wanted_replications(model, replications)
    if isinstance(wanted, int):
        return ReplicationPlan(wanted, wanted)
    spec = model.precision or Precision()
    return ReplicationPlan(spec.min_replications, spec.max_replications, spec)


def starting_replications(model: Model) -> int:
    """Replications a study starts with: the model's, or with ``replications: auto`` the
    precision block's ``min_replications`` (:func:`replication_plan`'s start)."""
    return replication_plan(model).start


@dataclass
class PointResults:
    """What :func:`replicate_points` got: each model's results (None where fewer than the
    starting replications finished), whether Ctrl-C cut it short, and the replications
    lost with their worker process even after a retry, as (model index, replication)."""

    results: list[Results | None]
    interrupted: bool = False
    lost: list[tuple[int, int]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every replication asked for has its output."""
        return not self.interrupted and not self.lost


def replicate_points(
    models: Sequence[Model],
    start: int,
    cap: int,
    seed: int,
    settled: Callable[[Results], bool],
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
    label: str = "",
    together: bool = False,
    reuse: SlackReuse | None = None,
    partial: Callable[[list[Results | None]], None] | None = None,
) -> PointResults:
    """Run ``start`` replications of every model, then, round by round, double those of
    the models whose results are not ``settled``, up to ``cap``: the one rule of every
    precision-driven study. With ``together`` every model doubles while any is not
    settled, so all keep the same count (a comparison pairs them replication by
    replication). Each round is one batch on every core; with ``reuse`` (a sweep over one
    pool's size or several, see :mod:`sim.studies.slack`), first the point with the most,
    off whose runs the others branch or which vouch for them, then whatever is left. A
    model keeps its replications 0..n-1 without a gap, so replication r is the same random
    streams in every model (common random numbers).

    ``partial``, if given, is shown the results so far each time, within a round, every
    model running in it has one more replication (its first ones in order, replication r
    the same in every model), until the round's last: each model's results (None for a
    model that has none yet). The round then runs every model's next replication before
    any model's after; without it, one model's after another's, so that a study cut
    short keeps whole models."""
    outputs: list[list[ReplicationOutput]] = [[] for _ in models]
    ran = PointResults([None] * len(models))
    wanted = [start] * len(models)
    with Progress(start * len(models), label or models[0].name, progress) as bar:
        while True:
            pairs = [(i, r) for i in range(len(models)) for r in range(len(outputs[i]), wanted[i])]
            if partial is not None:  # every point's next replication before any one's after
                pairs.sort(key=lambda pair: pair[1])
            if not pairs:
                return ran
            if bar.done:
                bar.extend(len(pairs))  # one bar, counting every round's replications
            told = _Partial(models, seed, outputs, ran, pairs, partial) if partial else None
            got = _run_round(models, pairs, seed, executor, bar, reuse, outputs, told)
            gaps: set[int] = set()
            for owner, r in pairs:
                out = got.outputs.get((owner, r))
                if out is None:
                    gaps.add(owner)
                elif owner not in gaps:
                    outputs[owner].append(out)
            ran.lost += got.lost
            owners = {owner for owner, _ in pairs}
            for owner in owners:
                if len(outputs[owner]) >= start:
                    ran.results[owner] = Results.from_outputs(models[owner], seed, outputs[owner])
            if got.interrupted or not got.complete:
                ran.interrupted = got.interrupted
                return ran
            unsettled = {
                owner
                for owner in owners
                if (results := ran.results[owner]) is not None and not settled(results)
            }
            for owner in owners if together and unsettled else unsettled:
                done = len(outputs[owner])
                if done < cap:
                    wanted[owner] = done + min(done, cap - done)


class _Partial:
    """Shows a round's results so far (see :func:`replicate_points`): each model's first
    replications without a gap, whenever the fewest of them grows."""

    def __init__(
        self,
        models: Sequence[Model],
        seed: int,
        done: Sequence[Sequence[ReplicationOutput]],
        ran: PointResults,
        pairs: Sequence[tuple[int, int]],
        show: Callable[[list[Results | None]], None],
    ) -> None:
        self.models, self.seed, self.done, self.ran, self.show = models, seed, done, ran, show
        self.owners = sorted({owner for owner, _ in pairs})
        self.wanted = set(pairs)
        self.left = len(self.wanted)
        self.fresh: dict[tuple[int, int], ReplicationOutput] = {}
        self.shown = 0

    def __call__(self, key: tuple[int, int], output: ReplicationOutput) -> None:
        """The round has ``output``, replication ``key[1]`` of model ``key[0]``."""
        if key in self.fresh or key not in self.wanted:
            return  # a source's run for the others only
        self.fresh[key] = output
        self.left -= 1
        lines = {owner: self._line(owner) for owner in self.owners}
        fewest = min(len(line) - len(self.done[owner]) for owner, line in lines.items())
        if fewest <= self.shown or self.left <= 0:
            return
        self.shown = fewest
        results = list(self.ran.results)
        for owner, line in lines.items():
            shown = line[: len(self.done[owner]) + fewest]
            results[owner] = Results.from_outputs(self.models[owner], self.seed, shown)
        self.show(results)

    def _line(self, owner: int) -> list[ReplicationOutput]:
        """Model ``owner``'s replications so far, from its first, without a gap."""
        line = list(self.done[owner])
        while (out := self.fresh.get((owner, len(line)))) is not None:
            line.append(out)
        return line


@dataclass
class _Round:
    """One round's outputs by (model index, replication), and how it ended."""

    outputs: dict[tuple[int, int], ReplicationOutput] = field(default_factory=dict)
    interrupted: bool = False
    complete: bool = True
    lost: list[tuple[int, int]] = field(default_factory=list)
    told: Got | None = None  # told each key as its output is taken

    def take(self, key: tuple[int, int], output: ReplicationOutput) -> None:
        """Keep ``output`` as the one of ``key`` (model index, replication)."""
        self.outputs[key] = output
        if self.told is not None:
            self.told(key, output)


Got = Callable[[tuple[int, int], ReplicationOutput], None]
"""Told each (model index, replication) whose output a round has just got, and the output."""


def _run_round(
    models: Sequence[Model],
    pairs: Sequence[tuple[int, int]],
    seed: int,
    executor: ExecutorArg,
    bar: Progress,
    reuse: SlackReuse | None,
    done: Sequence[Sequence[ReplicationOutput]],
    told: Got | None = None,
) -> _Round:
    """Run ``pairs`` (model index, replication). With ``reuse``, first the source's runs
    (``done`` holds those of earlier rounds), off which the other points branch, then what
    is left: the outputs the source's runs vouch for, and the rest simulated. Each output
    is taken (and ``told``) as soon as it is known: the branches of a source's run and
    the outputs it vouches for when that run ends, not when the whole batch does."""
    got = _Round(told=told)
    if reuse is None:
        _run_batch([Task(models[i], r, seed) for i, r in pairs], list(pairs), executor, bar, got)
        return got
    source = reuse.source
    made = done[source]
    trunks = reuse.trunks(pairs, len(made))
    wanted = set(pairs)
    bar.extend(sum((source, r) not in wanted for r in trunks))  # run for the others only
    early = reuse.early(pairs)
    todo: list[tuple[int, int]] = []

    def derive(r: int, run: ReplicationOutput) -> None:
        """The outputs of the other points of replication ``r`` that ``run`` (the
        source's) gives: its branches' and those it vouches for; the rest to simulate."""
        _take_branches(reuse, run, pairs, got, bar)
        for point, rr in pairs:
            if rr != r or (point, r) in got.outputs or (point, r) in early:
                continue
            derived = reuse.vouched(point, run)
            if derived is None:
                todo.append((point, r))
            else:
                got.take((point, r), derived)
                bar.advance()

    for r in sorted({r for _, r in pairs if r < len(made)}):
        derive(r, made[r])  # the source ran these in an earlier round
    keys = [(source, r) for r in trunks] + early
    tasks = [
        Task(models[source], r, seed, reuse.branches(r, pairs, rank))
        for rank, r in enumerate(trunks)
    ]
    tasks += [Task(models[i], r, seed) for i, r in early]

    def arrived(key: tuple[int, int], output: ReplicationOutput) -> None:
        if key[0] == source and key[1] in trunks:
            derive(key[1], output)

    if not _run_batch(tasks, keys, executor, bar, got, arrived):
        return got
    if todo:
        _run_batch([Task(models[i], r, seed) for i, r in todo], todo, executor, bar, got)
    return got


def _take_branches(
    reuse: SlackReuse,
    trunk: ReplicationOutput,
    pairs: Sequence[tuple[int, int]],
    got: _Round,
    bar: Progress,
) -> None:
    """The outputs of the runs that branched off ``trunk``, for the points of ``pairs``
    that need them (taken out of the trunk's output)."""
    branched, trunk.branches = trunk.branches, {}
    for point, r in pairs:
        output = branched.get(reuse.values[point])
        if r == trunk.replication and output is not None and (point, r) not in got.outputs:
            got.take((point, r), dataclasses.replace(output))
            bar.advance()


def _run_batch(
    tasks: Sequence[Task],
    keys: Sequence[tuple[int, int]],
    executor: ExecutorArg,
    bar: Progress,
    got: _Round,
    then: Got | None = None,
) -> bool:
    """Run ``tasks`` into ``got`` under ``keys`` (model index, replication), each output
    taken as it arrives (then ``then`` told its key); whether every one finished (else
    ``got`` says why not)."""

    def arrived(index: int, output: ReplicationOutput) -> None:
        got.take(keys[index], output)
        if then is not None:
            then(keys[index], output)

    batch = run_tasks(tasks, executor, bar, arrived)
    got.lost += [keys[k] for k in batch.lost]
    if batch.interrupted or not batch.complete:
        got.interrupted, got.complete = batch.interrupted, False
        return False
    return True


def replicate_until(
    model: Model,
    start: int,
    cap: int,
    seed: int,
    settled: Callable[[Results], bool],
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
) -> Results:
    """Run ``start`` replications, then double them, up to ``cap``, until ``settled``
    says the results are good enough (a precision reached, every SLO decided). Ctrl-C
    raises KeyboardInterrupt; a replication lost twice raises WorkerLost."""
    ran = replicate_points([model], start, cap, seed, settled, executor, progress)
    if ran.interrupted:
        raise KeyboardInterrupt
    if ran.lost:
        raise WorkerLost(_lost_message(model, [r for _, r in ran.lost]))
    results = ran.results[0]
    assert results is not None  # complete, so it has its replications
    return results


def precision_table(results: Results, spec: Precision) -> pd.DataFrame:
    """Each of ``spec``'s metrics: its relative 95 % half-width in ``results``, the target,
    and whether it is reached (a mean of 0 with no spread counts as reached)."""
    rows = []
    for name in spec.metrics:
        service, _, metric = name.rpartition(".")
        values = results.values(metric, service)
        values = values[~np.isnan(values)]
        mean = float(values.mean()) if values.size else float("nan")
        half = half_width(values) if values.size >= 2 else float("nan")
        relative = half / abs(mean) if mean else (0.0 if half == 0 else float("inf"))
        rows.append(
            (
                service,
                metric,
                relative,
                spec.relative_half_width,
                bool(relative <= spec.relative_half_width),
            )
        )
    return pd.DataFrame(
        rows, columns=["service", "metric", "relative_half_width", "target", "reached"]
    )


def run(
    model: Model,
    replications: int | None = None,
    seed: int | None = None,
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
    budget: float | None = None,
) -> Results:
    """Simulate ``model`` for ``replications`` independent runs and summarise them.

    ``replications`` and ``seed`` default to the model's own; with ``replications: auto``
    the model's ``precision`` block decides when to stop. Replications run on all local
    cores by default; ``executor`` takes ``"inline"``, any concurrent.futures Executor or a
    dask.distributed Client. Same model, same seed: the same numbers, bit for bit,
    whichever executor runs them. ``budget`` caps the request visits the run may simulate
    (default: ``QUEUEFULL_BUDGET`` or 10^9); a larger run is refused before it starts.
    """
    seed = model.seed if seed is None else seed
    wanted = wanted_replications(model, replications)
    preflight(model, wanted, budget=budget)
    plan = replication_plan(model, wanted)
    if plan.precision is None:
        model, cut = resolve_warmup(model, plan.start, seed, executor, progress)
        outputs = replicate(model, range(plan.start), seed, executor, progress)
        results = Results.from_outputs(model, seed, outputs)
        results.warmup_cut = cut
        return results
    if model.precision is None:
        model = model.model_copy(update={"precision": plan.precision})
    model, cut = resolve_warmup(model, plan.start, seed, executor, progress)
    results = replicate_until(model, plan.start, plan.cap, seed, plan.settled, executor, progress)
    results.warmup_cut = cut
    results.precision = precision_table(results, plan.precision)
    return results
