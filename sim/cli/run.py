"""``queuefull run``: run one model and report its summary."""

from __future__ import annotations

import argparse

from sim.cli.common import (
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
from sim.cli.report import summary_table
from sim.model import load
from sim.studies.run import run

ORDER = 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``queuefull run`` to the command line."""
    p_run = sub.add_parser("run", help="run a model and print its summary")
    p_run.add_argument("model", help="capacity model (YAML)")
    set_option(p_run)
    p_run.add_argument("--replications", type=at_least(1), help="override the model's replications")
    p_run.add_argument("--all", action="store_true", help="show zero failure fractions too")
    p_run.add_argument("--seed", type=at_least(0), help="override the model's seed")
    p_run.add_argument("--json", metavar="FILE", help="write results as JSON")
    p_run.add_argument("--csv", metavar="FILE", help="write the summary as CSV")
    p_run.add_argument("--plot", metavar="FILE.png", help="write queue depth and latency over time")
    common_options(p_run)
    p_run.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    """Run one model and report."""
    model = load(args.model, overrides(args.set))
    with Dask(args.dask) as client:
        results = run(
            model,
            replications=args.replications,
            seed=args.seed,
            executor=client,
            progress=progress(args),
            budget=budget(args),
        )
    # files first: a reader that stops early (| head) must not cost the outputs asked for
    written = []
    if args.json:
        results.to_json(writable(args.json))
        written.append(args.json)
    if args.csv:
        results.summary.to_csv(writable(args.csv), index=False)
        written.append(args.csv)
    if args.plot:
        from sim.plots import save_timeseries

        written.append(str(save_timeseries(results, args.plot)))
    warmup = (
        f"warm-up {results.warmup_cut:g}s, chosen by MSER-5"
        if results.warmup_cut is not None
        else f"warm-up {model.warmup:g}s"
    )
    print(
        f"{model.name}: {results.replications} replications x {model.horizon:g}s "
        f"({warmup}), seed {results.seed}"
    )
    print(summary_table(results, show_all=args.all))
    for warning in results.warnings:
        print(f"warning: {warning}")
    if results.precision is not None:
        for rec in results.precision.itertuples():
            state = "reached" if rec.reached else "NOT reached"
            print(
                f"precision {rec.service}.{rec.metric}: +/-{rec.relative_half_width:.1%} "
                f"(target {rec.target:.1%}) {state}"
            )
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK
