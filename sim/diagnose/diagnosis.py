"""sim.diagnose: from "queue full" to where it fills, why, and which fix works, each fix
proven by simulating it on the same random numbers as the model as it is."""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from sim.diagnose.findings import Finding, bottleneck, mechanisms, root_cause
from sim.diagnose.fixes import Fix, candidates
from sim.diagnose.headroom import Headroom, headroom
from sim.measure.display import format_interval, format_value
from sim.measure.registry import METRICS
from sim.measure.results import Results
from sim.model import SLO, Model, YamlValue
from sim.studies.check import SLOResult, as_slos, judge
from sim.studies.compare import differences, run_variants
from sim.studies.parallel import ExecutorArg
from sim.studies.progress import ProgressArg
from sim.studies.run import run, starting_replications
from sim.studies.verdict import Verdict

AS_IS = "as is"

MIXED = 0.5
"""A fix with SLO metrics both better and worse whose net score is within this of zero is
mixed (a trade), not a help nor a harm."""

GUARDS = [SLO(metric="success_rate", service="all", min=0.0)]
"""Watched under every fix even without an SLO on it: a fix that turns refusals into
errors (a breaker with nothing to fall back on) shows its price here."""


@dataclass(frozen=True)
class Change:
    """One SLO metric under a fix: before, after, the paired difference and its interval."""

    slo: str
    metric: str
    service: str
    before: float
    after: float
    difference: float
    ci_low: float
    ci_high: float
    effect: str  # "better", "worse" or "" (not significant)


@dataclass(frozen=True)
class TriedFix:
    """A fix as simulated: the SLO verdicts with it, each SLO metric's change, its cost,
    and whether it helps, does nothing clear, or makes things worse."""

    fix: Fix
    verdicts: list[SLOResult]
    changes: list[Change]
    workers_added: int
    replica_seconds_added: float
    effect: str  # "helps", "mixed", "no clear effect" or "harmful"
    score: float

    @property
    def passes(self) -> int:
        """SLOs met with the fix."""
        return sum(v.verdict == Verdict.PASS for v in self.verdicts)

    @property
    def patch_yaml(self) -> str:
        """The fix as ``dotted.path: value`` YAML lines: what ``--set`` and the studio's
        Compare tab take, list items by index (``calls.0.timeout``)."""
        return "".join(f"{path}: {json.dumps(new)}\n" for path, new in self.fix.patch.items())

    @property
    def set_options(self) -> str:
        """The fix as ``--set`` options for any ``queuefull`` command."""
        return " ".join(
            shlex.quote(f"--set={path}={json.dumps(new) if not isinstance(new, str) else new}")
            for path, new in self.fix.patch.items()
        )


@dataclass
class Diagnosis:
    """What :func:`diagnose` found, with the human report first (:meth:`report`)."""

    model: Model
    results: Results
    verdicts: list[SLOResult]
    bottleneck: Finding
    chain: list[Finding]
    mechanisms: list[Finding]
    fixes: list[TriedFix] = field(default_factory=list)
    headroom: Headroom | None = None

    @property
    def healthy(self) -> bool:
        """Every SLO passes."""
        return all(v.verdict == Verdict.PASS for v in self.verdicts)

    @property
    def root(self) -> Finding:
        """The origin of the trouble."""
        return next(f for f in self.chain if f.kind == "root_cause")

    def report(self) -> str:
        """A few lines a person reads in an incident, then the evidence."""
        lines = [f"{self.model.name}: {_slo_line(self.verdicts)}"]
        lines.append(f"Where it fills: {self.bottleneck.text}.")
        for finding in self.chain:
            label = {"root_cause": "Root cause", "symptom": "Symptom", "trigger": "Set off by"}.get(
                finding.kind, "Because"
            )
            lines.append(f"{label}: {finding.text}.")
        for finding in self.mechanisms:
            lines.append(f"Also: {finding.text}.")
        if self.headroom is not None:
            lines.append(_headroom_line(self.headroom))
        helpful = [t for t in self.fixes if t.effect == "helps"]
        if helpful:
            lines.append(f"Best fix: {_fix_line(helpful[0])}")
            for tried in helpful[1:3]:
                lines.append(f"Then: {_fix_line(tried)}")
        for tried in self.fixes:
            if tried.effect == "mixed":
                lines.append(f"A trade: {_fix_line(tried)}")
        for tried in self.fixes:
            if tried.effect == "harmful":
                lines.append(f"Makes it worse: {_fix_line(tried)}")
        if self.fixes and not helpful:
            lines.append("No candidate fix improved an SLO metric significantly.")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, YamlValue]:
        """Plain data for tools (``queuefull diagnose --json``)."""
        return {
            "model": self.model.name,
            "healthy": self.healthy,
            "report": self.report(),
            "slo": [
                {"slo": v.slo.label, "verdict": v.verdict.value, "mean": _num(v.mean),
                 "ci_low": _num(v.ci_low), "ci_high": _num(v.ci_high)}
                for v in self.verdicts
            ],
            "bottleneck": _finding(self.bottleneck),
            "chain": [_finding(f) for f in self.chain],
            "mechanisms": [_finding(f) for f in self.mechanisms],
            "headroom": None if self.headroom is None else {
                "current": self.headroom.current, "limit": self.headroom.limit,
                "failing": self.headroom.failing, "analytic": self.headroom.analytic,
                "analytic_method": self.headroom.analytic_method,
                "first": self.headroom.first,
            },
            "fixes": [
                {
                    "name": t.fix.name, "term": t.fix.term, "why": t.fix.why,
                    "patch": dict(t.fix.patch), "patch_yaml": t.patch_yaml,
                    "set_options": t.set_options,
                    "effect": t.effect, "slos_met": t.passes,
                    "workers_added": t.workers_added,
                    "replica_seconds_added": _num(t.replica_seconds_added),
                    "changes": [
                        {"slo": c.slo, "before": _num(c.before), "after": _num(c.after),
                         "difference": _num(c.difference), "ci_low": _num(c.ci_low),
                         "ci_high": _num(c.ci_high), "effect": c.effect}
                        for c in t.changes
                    ],
                }
                for t in self.fixes
            ],
        }  # fmt: skip


def _finite(x: float) -> float:
    return x if math.isfinite(x) else 0.0


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _finding(f: Finding) -> dict[str, YamlValue]:
    return {"kind": f.kind, "service": f.service, "figure": _num(f.figure), "text": f.text}


def _slo_line(verdicts: list[SLOResult]) -> str:
    if not verdicts:
        return "no SLOs to judge by"
    failing = [v for v in verdicts if v.verdict != Verdict.PASS]
    if not failing:
        return f"all {len(verdicts)} SLOs pass"
    return "; ".join(
        f"{v.slo.label} {v.verdict.value.upper()} at "
        f"{format_value(v.mean, METRICS[v.slo.metric].unit)}"
        for v in failing
    )


def _headroom_line(room: Headroom) -> str:
    if room.limit is None:
        return f"Headroom: none found above today's {room.current:g} req/s."
    text = (
        f"Headroom: the SLOs hold up to {room.limit:.4g} req/s ({room.factor:.2f}x today's "
        f"{room.current:g})"
    )
    text += f", not at {room.failing:.4g}" if room.failing is not None else ", the search's end"
    if room.analytic is not None:
        text += f"; {room.analytic_method} says {room.analytic:.4g} req/s"
    if room.first:
        text += f". {room.first} saturates first ({room.first_busy:.0%} busy today)"
    return text + "."


def _fix_line(tried: TriedFix) -> str:
    shown = [c for c in tried.changes if c.effect] or tried.changes[:1]
    parts = []
    for c in shown:
        unit = METRICS[c.metric].unit
        parts.append(
            f"{c.slo.split(' ')[0]} {format_value(c.before, unit)} -> "
            f"{format_value(c.after, unit)} "
            f"(change {format_interval(c.ci_low, c.ci_high, unit)})"
        )
    cost = f"+{tried.workers_added} workers" if tried.workers_added else "no extra workers"
    met = f"{tried.passes}/{len(tried.verdicts)} SLOs met"
    return f"{tried.fix.name}: {'; '.join(parts)}; {met}, {cost}"


def _workers(model: Model) -> int:
    return sum(s.most_workers * s.initial_replicas for s in model.services.values())


def _replica_seconds(results: Results) -> float:
    return sum(
        v for name in results.model.services
        if math.isfinite(v := results.mean("replica_seconds", name))
    )  # fmt: skip


def _try(
    fix: Fix, slos: list[SLO], base: Results, results: Results, baseline_passes: int
) -> TriedFix:
    verdicts = judge(results, slos)
    watched = slos + [
        g for g in GUARDS if (g.service, g.metric) not in {(s.service, s.metric) for s in slos}
    ]
    table = differences({AS_IS: base, fix.name: results}, [s.metric for s in watched],
                        sorted({s.service for s in watched}))  # fmt: skip
    changes, score = [], 0.0
    for slo in watched:
        rows = table[(table.metric == slo.metric) & (table.service == slo.service)]
        if rows.empty:
            continue
        row = rows.iloc[0]
        significant = bool(row.significant)
        lower_is_better = slo.max is not None
        improved = row.difference < 0 if lower_is_better else row.difference > 0
        effect = ("better" if improved else "worse") if significant else ""
        bound = slo.max if slo.max is not None else slo.min
        scale = abs(bound) if bound else max(abs(row.baseline_mean), 1e-9)
        if slo in GUARDS:  # a share of successes: judged against the failures there were
            scale = max(1.0 - row.baseline_mean, 0.01)
        if significant:
            score += max(-2.0, min(2.0, abs(row.difference) / scale)) * (1 if improved else -1)
        label = f"{slo.service}.{slo.metric} (watched)" if slo in GUARDS else slo.label
        changes.append(
            Change(
                label,
                slo.metric,
                slo.service,
                row.baseline_mean,
                row.variant_mean,
                row.difference,
                row.ci_low,
                row.ci_high,
                effect,
            )
        )
    passes = sum(v.verdict == Verdict.PASS for v in verdicts)
    judged = [c for c in changes if not c.slo.endswith("(watched)")]
    worse = any(c.effect == "worse" for c in judged)
    better = any(c.effect == "better" for c in judged)
    if passes < baseline_passes or (worse and score <= -MIXED):
        effect = "harmful"
    elif worse and better and score < MIXED:
        effect = "mixed"  # one SLO metric bought with another, about evenly
    elif better and score > 0:
        effect = "helps"
    else:
        effect = "no clear effect"
    return TriedFix(
        fix, verdicts, changes,
        _workers(results.model) - _workers(base.model),
        _replica_seconds(results) - _replica_seconds(base),
        effect, score,
    )  # fmt: skip


def diagnose(
    model: Model,
    slo: Sequence[SLO | Mapping[str, YamlValue]] | None = None,
    replications: int | None = None,
    executor: ExecutorArg = None,
    progress: ProgressArg = None,
    budget: float | None = None,
    fixes: bool = True,
) -> Diagnosis:
    """Run ``model``, find where it fills and why, then either try the candidate fixes
    (if an SLO is not met) or search its headroom (if every SLO is), all on common random
    numbers. ``slo`` defaults to the model's own; ``fixes=False`` stops after the
    findings (one run instead of one per fix)."""
    slos = as_slos(slo) if slo is not None else list(model.slo)
    reps = replications or starting_replications(model)
    results = run(model, reps, executor=executor, progress=progress, budget=budget)
    verdicts = judge(results, slos)
    neck = bottleneck(model, results)
    chain = root_cause(model, results, neck)
    found = Diagnosis(model, results, verdicts, neck, chain, mechanisms(model, results))
    if not fixes:
        return found
    if found.healthy:
        room = headroom(model, slos, reps, executor, progress, budget)
        if room is not None:  # the busiest service today is the first to saturate
            first = max(model.services, key=lambda s: _finite(results.mean("utilization", s)))
            room = replace(room, first=first, first_busy=results.mean("utilization", first))
        found.headroom = room
        return found
    chosen = candidates(model, results, neck.service, found.root.service)
    outcomes = run_variants(
        model, {fix.name: fix.patch for fix in chosen}, reps, model.seed, executor, progress,
        budget,
    )  # fmt: skip
    baseline_passes = sum(v.verdict == Verdict.PASS for v in verdicts)
    tried = [_try(fix, slos, results, outcomes[fix.name], baseline_passes) for fix in chosen]
    order = {"helps": 0, "mixed": 1, "no clear effect": 2, "harmful": 3}
    # Equal evidence (scores within a tenth): a configuration change today before code.
    found.fixes = sorted(
        tried,
        key=lambda t: (
            order[t.effect], -t.passes, -round(t.score, 1), t.fix.term != "short",
            t.workers_added,
        ),
    )  # fmt: skip
    return found
