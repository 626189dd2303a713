"""The what-if and CI commands: ``queuefull sweep``, ``check`` and ``capacity``."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from sim.cli_common import (
    EXIT_FAIL,
    EXIT_INCONCLUSIVE,
    EXIT_OK,
    Dask,
    overrides,
    progress,
    writable,
)
from sim.model import Model, ModelError, load, parse_assignment
from sim.report import print_verdicts
from sim.results import Results


def parse_vary(text: str) -> tuple[str, list[object]]:
    """``PATH=START:STOP:STEP`` (STOP included) or ``PATH=v1,v2,...``."""
    path, sep, spec = text.partition("=")
    if not sep or not path or not spec:
        raise ModelError([f"--vary {text}: expected PATH=START:STOP:STEP or PATH=v1,v2"])
    if ":" in spec:
        parts = spec.split(":")
        try:
            start, stop, step = (float(p) for p in parts) if len(parts) == 3 else (0, 0, 0)
        except ValueError:
            start = stop = step = 0
        if len(parts) != 3 or step <= 0 or stop < start:
            raise ModelError([f"--vary {text}: START:STOP:STEP needs numbers, STEP > 0"])
        count = math.floor((stop - start) / step + 1e-9) + 1
        values = [start + i * step for i in range(count)]
        if all(float(v).is_integer() for v in (start, stop, step)):
            values = [int(v) for v in values]
        return path, values
    return path, [parse_assignment(f"x={item}")[1] for item in spec.split(",")]


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a grid of model changes and report each chosen metric against the knobs."""
    from sim.sweep import sweep

    model = load(args.model, overrides(args.set))
    vary = dict(parse_vary(text) for text in args.vary)
    with Dask(args.dask) as client:
        table = sweep(
            model,
            vary,
            mode="zip" if args.zip else "grid",
            replications=args.replications,
            executor=client,
            progress=progress(args),
        )
    if table.attrs.get("interrupted"):
        print("interrupted: the table holds the points that finished", file=sys.stderr)
    chosen = table[(table.service == args.service) & table.metric.isin(args.metric)]
    view = chosen.pivot_table(index=list(vary), columns="metric", values="mean", sort=False)
    print(view[[m for m in args.metric if m in view.columns]].to_string())
    if args.csv:
        table.to_csv(writable(args.csv), index=False)
        print(f"wrote {args.csv}")
    if args.json:
        writable(args.json).write_text(table.to_json(orient="records", indent=1))
        print(f"wrote {args.json}")
    if args.plot:
        from sim.plots import save_sweep

        print(f"wrote {save_sweep(table, next(iter(vary)), args.metric, args.plot, args.service)}")
    return EXIT_OK


def _parse_slo(text: str) -> dict[str, object]:
    """``[service.]metric<=value`` or ``>=``."""
    for op, key in (("<=", "max"), (">=", "min")):
        if op in text:
            name, _, value = text.partition(op)
            service, _, metric = name.strip().rpartition(".")
            try:
                bound = float(value)
            except ValueError:
                break
            return {"metric": metric, "service": service or "all", key: bound}
    raise ModelError([f"--slo {text}: expected [service.]metric<=value or >=value"])


def cmd_check(args: argparse.Namespace) -> int:
    """Judge every model's SLOs; exit 0 pass, 1 fail, 3 inconclusive."""
    from sim.slo import FAIL, INCONCLUSIVE, CheckResult, check, junit_xml, verdict_table

    baseline = Results.from_json(args.baseline) if args.baseline else None
    checks: list[CheckResult] = []
    with Dask(args.dask) as client:
        for path in args.models:
            try:
                model = load(path, overrides(args.set))
                if args.replications:
                    model = model.model_copy(update={"replications": args.replications})
                if not model.slo:
                    raise ModelError(["slo: the model has no SLOs to check"], path)
                checks.append(
                    check(
                        model,
                        path,
                        args.max_replications,
                        baseline,
                        args.tolerance,
                        executor=client,
                        progress=progress(args),
                    )
                )
            except ModelError as exc:
                placeholder = Model.model_construct(name=Path(path).stem)
                checks.append(CheckResult(path, placeholder, None, error=str(exc)))
    table = verdict_table(checks)
    print_verdicts(table)
    if args.junit:
        writable(args.junit).write_text(junit_xml(checks))
        print(f"wrote {args.junit}")
    if args.json:
        writable(args.json).write_text(table.to_json(orient="records", indent=1))
        print(f"wrote {args.json}")
    verdicts = {c.verdict for c in checks}
    if FAIL in verdicts:
        return EXIT_FAIL
    return EXIT_INCONCLUSIVE if INCONCLUSIVE in verdicts else EXIT_OK


def cmd_capacity(args: argparse.Namespace) -> int:
    """Find the largest load or the smallest resource meeting the SLOs."""
    from sim.capacity import find_capacity

    model = load(args.model, overrides(args.set))
    slos = [_parse_slo(text) for text in args.slo] or None
    with Dask(args.dask) as client:
        answer = find_capacity(
            model,
            args.vary,
            slos,
            args.low,
            args.high,
            args.replications,
            executor=client,
            progress=progress(args),
        )
    print(answer.evaluations.to_string(index=False))
    print(answer.message)
    return EXIT_OK if answer.value is not None else EXIT_FAIL
