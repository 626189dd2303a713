"""``queuefull sweep``: a grid of model changes, each metric against the knobs."""

from __future__ import annotations

import argparse
import difflib
import math
import sys

from sim.cli.common import (
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Dask,
    at_least,
    budget,
    common_options,
    overrides,
    progress,
    set_option,
    writable,
)
from sim.measure.registry import UNITS
from sim.model import Model, ModelError, load, parse_assignment
from sim.studies.sweep import MAX_POINTS, sweep

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
    p_sweep.add_argument("--replications", type=at_least(1))
    p_sweep.add_argument(
        "--metric",
        action="append",
        metavar="NAME",
        help="metrics to show and plot (default latency_p99, rejection_rate)",
    )
    p_sweep.add_argument("--service", default="all", help="whose metrics (default: all)")
    p_sweep.add_argument("--csv", metavar="FILE")
    p_sweep.add_argument("--json", metavar="FILE")
    p_sweep.add_argument("--plot", metavar="FILE.png")
    common_options(p_sweep)
    p_sweep.set_defaults(func=cmd_sweep)


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
    model = load(args.model, overrides(args.set))
    vary = dict(parse_vary(text) for text in args.vary)
    check_choices(model, args.metric, args.service)
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

        written.append(
            str(save_sweep(table, next(iter(vary)), args.metric, args.plot, args.service))
        )
    chosen = table[(table.service == args.service) & table.metric.isin(args.metric)]
    if not chosen.empty:
        view = chosen.pivot_table(index=list(vary), columns="metric", values="mean", sort=False)
        print(view[[m for m in args.metric if m in view.columns]].to_string())
    for path in written:
        print(f"wrote {path}")
    if table.attrs.get("interrupted"):
        print("interrupted: the outputs hold the points that finished", file=sys.stderr)
        return EXIT_INTERRUPTED
    if table.attrs.get("incomplete"):
        print(
            "incomplete: a worker process died twice; the outputs hold the points that finished",
            file=sys.stderr,
        )
        return EXIT_INCOMPLETE
    return EXIT_OK


def check_choices(model: Model, metrics: list[str], service: str) -> None:
    """Refuse a --metric or --service the results will not have, with the names they will."""
    known = set(UNITS)
    for metric in metrics:
        if metric not in known:
            raise ModelError([f"--metric {metric[:60]}: {unknown(metric, known, 'metrics')}"])
    services = model.result_names
    if service not in services:
        raise ModelError([f"--service {service[:60]}: {unknown(service, services, 'known')}"])


def unknown(name: str, known: set[str], what: str) -> str:
    """``not known (did you mean 'x'?); metrics: a, b, ...``."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown{hint}; {what}: {', '.join(sorted(known))}"
