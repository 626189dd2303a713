"""The ``queuefull`` command: run, sweep, check, size and describe capacity models.

Exit codes: 0 success (check: every SLO passed), 1 a model is invalid or unstable (check:
an SLO failed or regressed), 2 bad command-line usage, 3 (check) an SLO stayed
inconclusive, 4 incomplete (a worker process died twice), 130 interrupted, 141 the reader
of the output went away (``| head``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

import pandas as pd

from sim.budget import BUDGET_VARIABLE, DEFAULT_BUDGET
from sim.cli_common import (
    EXIT_BROKEN_PIPE,
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_MODEL,
    EXIT_OK,
    EXIT_USAGE,
    Dask,
    at_least,
    budget,
    finite,
    non_negative,
    overrides,
    progress,
    writable,
)
from sim.cli_whatif import cmd_capacity, cmd_check, cmd_sweep
from sim.model import ModelError, json_schema, load
from sim.parallel import WorkerLost
from sim.report import summary_table
from sim.runner import preflight, run


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


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate model files; print every problem; exit 1 if any file is bad."""
    status = EXIT_OK
    for path in args.models:
        try:
            preflight(load(path, overrides(args.set)), source=path, budget=budget(args))
        except ModelError as exc:
            print(str(exc), file=sys.stderr)
            status = EXIT_MODEL
        else:
            print(f"{path}: ok")
    return status


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of the model file."""
    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


def _set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field by dotted path, e.g. services.api.workers=12",
    )


def _budget_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--budget",
        type=finite,
        metavar="N",
        help=f"most request visits to simulate (default {DEFAULT_BUDGET:.0e}, "
        f"or {BUDGET_VARIABLE})",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dask", metavar="ADDRESS", help="run on a Dask cluster: tcp://scheduler:8786, or 'local'"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    _budget_option(parser)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``queuefull`` command."""
    parser = argparse.ArgumentParser(
        prog="queuefull",
        description="Simulate capacity models: queue depth, rejections and latency with CIs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_run = sub.add_parser("run", help="run a model and print its summary")
    p_run.add_argument("model", help="capacity model (YAML)")
    _set_option(p_run)
    p_run.add_argument("--replications", type=at_least(1), help="override the model's replications")
    p_run.add_argument("--all", action="store_true", help="show zero failure fractions too")
    p_run.add_argument("--seed", type=at_least(0), help="override the model's seed")
    p_run.add_argument("--json", metavar="FILE", help="write results as JSON")
    p_run.add_argument("--csv", metavar="FILE", help="write the summary as CSV")
    p_run.add_argument("--plot", metavar="FILE.png", help="write queue depth and latency over time")
    _common(p_run)
    p_run.set_defaults(func=cmd_run)

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
    _set_option(p_sweep)
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
    _common(p_sweep)
    p_sweep.set_defaults(func=cmd_sweep)

    p_check = sub.add_parser("check", help="judge the models' SLOs (CI gate)")
    p_check.add_argument("models", nargs="+")
    _set_option(p_check)
    p_check.add_argument("--replications", type=at_least(1), help="start with this many")
    p_check.add_argument(
        "--max-replications",
        type=at_least(2),
        help="add replications while inconclusive, up to this (default 4x)",
    )
    p_check.add_argument("--junit", metavar="FILE", help="write JUnit XML")
    p_check.add_argument("--json", metavar="FILE", help="write the verdicts as JSON")
    p_check.add_argument("--baseline", metavar="FILE", help="results JSON to compare against")
    p_check.add_argument(
        "--tolerance",
        type=non_negative,
        default=0.05,
        help="relative worsening tolerated against the baseline (0.05)",
    )
    _common(p_check)
    p_check.set_defaults(func=cmd_check)

    p_cap = sub.add_parser("capacity", help="largest load / smallest resource meeting the SLOs")
    p_cap.add_argument("model")
    p_cap.add_argument(
        "--vary",
        required=True,
        metavar="PATH",
        help="e.g. workload.arrivals.rate or services.api.workers",
    )
    p_cap.add_argument(
        "--slo",
        action="append",
        default=[],
        metavar="[SERVICE.]METRIC<=X",
        help="bounds to meet (default: the model's slo block)",
    )
    p_cap.add_argument("--low", type=finite)
    p_cap.add_argument("--high", type=finite)
    _set_option(p_cap)
    p_cap.add_argument("--replications", type=at_least(1))
    _common(p_cap)
    p_cap.set_defaults(func=cmd_capacity)

    p_val = sub.add_parser("validate", help="check model files and report every problem")
    p_val.add_argument("models", nargs="+", help="capacity models (YAML)")
    _set_option(p_val)
    _budget_option(p_val)
    p_val.set_defaults(func=cmd_validate)

    p_schema = sub.add_parser("schema", help="print the JSON Schema of model files")
    p_schema.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``queuefull`` command; returns the exit code."""
    pd.set_option("display.width", 160)
    args = build_parser().parse_args(argv)
    if getattr(args, "metric", "absent") is None:
        args.metric = ["latency_p99", "rejection_rate"]
    try:
        return args.func(args)
    except ModelError as exc:
        exc.source = exc.source or getattr(args, "model", None)  # every message names its file
        print(str(exc), file=sys.stderr)
        return EXIT_MODEL
    except WorkerLost as exc:
        print(f"queuefull: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE
    except ValueError as exc:  # arguments that parse but make no sense together
        print(f"queuefull: {str(exc)[:400]}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # files that cannot be written, a cluster that cannot be reached
        if isinstance(exc, BrokenPipeError):
            return _reader_gone()
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"queuefull: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_MODEL
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print("queuefull: out of memory: lower the horizon, rate or replications", file=sys.stderr)
        return EXIT_MODEL


def _reader_gone() -> int:
    """The reader of stdout went away (``| head``): stop quietly, as Unix tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
