"""``queuefull sweep``: a grid of model changes, each metric against the knobs."""

from __future__ import annotations

import argparse
import difflib
import math
import sys

from sim.cli.common import (
    EXIT_INCOMPLETE,
    EXIT_OK,
    Dask,
    budget,
    common_options,
    interrupted_code,
    overrides,
    progress,
    replications_arg,
    set_option,
    writable,
)
from sim.measure.registry import UNITS
from sim.model import Model, ModelError, load, parse_assignment

ORDER = 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``queuefull sweep`` to the command line."""
    p_sweep = sub.add_parser("sweep", help="run a grid of changes; plot metrics against a knob")
    p_sweep.add_argument("model")
    p_sweep.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="PATH=SPEC",
        help="PATH=START:STOP:STEP (STOP included) or PATH=v1,v2,...",
    )
    p_sweep.add_argument("--zip", action="store_true", help="pair the values instead of a grid")
    set_option(p_sweep)
    p_sweep.add_argument(
        "--replications",
        type=replications_arg,
        help="per point (default the model's): N, or auto to double each point's until the "
        "model's precision block is met there",
    )
    p_sweep.add_argument(
        "--metric",
        action="append",
        metavar="NAME",
        help="metrics to show and plot (default latency_p99 and rejection_rate; for an "
        "--edge, call_latency_p99 and call_failure_rate)",
    )
    p_sweep.add_argument(
        "--service",
        action="append",
        metavar="NAME",
        help="whose metrics: a service, or all (end to end, the default); repeatable",
    )
    p_sweep.add_argument(
        "--edge",
        action="append",
        default=[],
        metavar="CALLER->CALLEE",
        help="a call edge's metrics (call_rate, call_failure_rate, ...); repeatable",
    )
    p_sweep.add_argument("--csv", metavar="FILE")
    p_sweep.add_argument("--json", metavar="FILE")
    p_sweep.add_argument("--plot", metavar="FILE.png")
    common_options(p_sweep)
    p_sweep.set_defaults(func=cmd_sweep)


def parse_vary(text: str) -> tuple[str, list[object]]:
    """``PATH=START:STOP:STEP`` (STOP included) or ``PATH=v1,v2,...``."""
    from sim.studies.sweep import MAX_POINTS

    path, sep, spec = text.partition("=")
    if not sep or not path or not spec:
        raise ModelError([f"--vary {text}: expected PATH=START:STOP:STEP or PATH=v1,v2"])
    if ":" in spec:
        parts = spec.split(":")
        try:
            start, stop, step = (float(p) for p in parts) if len(parts) == 3 else (0, 0, 0)
        except ValueError:
            start = stop = step = 0
        finite = all(math.isfinite(v) for v in (start, stop, step))
        if len(parts) != 3 or not finite or step <= 0 or stop < start:
            raise ModelError(
                [f"--vary {text[:80]}: START:STOP:STEP needs finite numbers, STEP > 0"]
            )
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > MAX_POINTS:
            raise ModelError(
                [f"--vary {text[:80]}: {count:.3g} values; a sweep has at most {MAX_POINTS:,}"]
            )
        values = [start + i * step for i in range(count)]
        if all(float(v).is_integer() for v in (start, stop, step)):
            values = [int(v) for v in values]
        return path, values
    items = spec.split(",")
    if len(items) > MAX_POINTS:
        raise ModelError([f"--vary {path}: {len(items):,} values; at most {MAX_POINTS:,}"])
    return path, [parse_assignment(f"x={item}")[1] for item in items]


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a grid of model changes and report each chosen metric against the knobs."""
    from sim.report.terminal import render_sweep
    from sim.studies.sweep import sweep

    model = load(args.model, overrides(args.set))
    vary = dict(parse_vary(text) for text in args.vary)
    names = chosen_names(model, args.service, args.edge)
    if not args.metric:
        args.metric = ["latency_p99", "rejection_rate"] if args.service or not args.edge else []
        args.metric += ["call_latency_p99", "call_failure_rate"] if args.edge else []
    check_choices(model, args.metric, names)
    with Dask(args.dask) as client:
        table = sweep(
            model,
            vary,
            mode="zip" if args.zip else "grid",
            replications=args.replications,
            executor=client,
            progress=progress(args),
            budget=budget(args),
        )
    written = []
    if args.csv:
        table.to_csv(writable(args.csv), index=False)
        written.append(args.csv)
    if args.json:
        writable(args.json).write_text(table.to_json(orient="records", indent=1))
        written.append(args.json)
    if args.plot and not table.empty:
        from sim.plots import save_sweep

        written.append(str(save_sweep(table, next(iter(vary)), args.metric, args.plot, names)))
    if not table.empty:
        print(render_sweep(table, list(vary), names, args.metric))
    for path in written:
        print(f"wrote {path}")
    if table.attrs.get("interrupted"):
        print("interrupted: the outputs hold the points that finished", file=sys.stderr)
        return interrupted_code()
    if table.attrs.get("incomplete"):
        print(
            "incomplete: a worker process died twice; the outputs hold the points that finished",
            file=sys.stderr,
        )
        return EXIT_INCOMPLETE
    return EXIT_OK


def chosen_names(model: Model, services: list[str] | None, edges: list[str]) -> list[str]:
    """The services and call edges whose metrics a sweep shows (``all`` when none named);
    ``--edge`` must name a call edge, ``--service`` a service or ``all``."""
    known = model.result_names
    edge_names = {name for name in known if "->" in name}
    for edge in edges:
        if edge.replace(" ", "") not in edge_names:
            raise ModelError([f"--edge {edge[:60]}: {unknown(edge, edge_names, 'call edges')}"])
    plain = known - edge_names
    for service in services or []:
        if service not in plain:
            raise ModelError([f"--service {service[:60]}: {unknown(service, plain, 'known')}"])
    names = [*(services or []), *(edge.replace(" ", "") for edge in edges)]
    return names or ["all"]


def check_choices(model: Model, metrics: list[str], names: list[str]) -> None:
    """Refuse a --metric the results will not have, with the names they will."""
    known = set(UNITS)
    for metric in metrics:
        if metric not in known:
            raise ModelError([f"--metric {metric[:60]}: {unknown(metric, known, 'metrics')}"])


def unknown(name: str, known: set[str], what: str) -> str:
    """``not known (did you mean 'x'?); metrics: a, b, ...``."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown{hint}; {what}: {', '.join(sorted(known))}"
