"""The ``queuefull`` command: run, validate and describe capacity models.

Exit codes: 0 success, 1 a model is invalid or unstable, 2 bad command-line usage.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sim.durations import format_duration
from sim.model import ModelError, json_schema, load, parse_assignment
from sim.results import Results
from sim.runner import run

EXIT_OK, EXIT_MODEL, EXIT_USAGE = 0, 1, 2


def format_value(value: float, unit: str) -> str:
    """A number as a person reads it, in the metric's unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "s":
        return format_duration(value)
    if unit == "fraction":
        return f"{value:.2%}" if value >= 1e-4 or value == 0 else f"{value:.2e}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.4g}"


QUIET_WHEN_ZERO = (
    "rejected_",
    "timeout_rate",
    "error_rate",
    "downstream_failure_rate",
    "wasted_work",
    "call_failure_rate",
    "call_timeout_rate",
)
"""Metrics left out of the terminal table when they are zero in every replication."""


COUNTS = ("arrivals", "completed", "rejected", "failed", "in_flight_end")
"""Bookkeeping counts, left out of the terminal table unless asked for."""


def _is_quiet(rec: object) -> bool:
    if rec.metric in COUNTS:
        return True
    zero = rec.mean == 0 and (rec.ci_high == 0 or math.isnan(rec.ci_high))
    return zero and rec.metric.startswith(QUIET_WHEN_ZERO)


def summary_table(results: Results, show_all: bool = False) -> str:
    """The summary as an aligned text table: service, metric, mean, 95 % CI, unit.

    Raw counts and failure fractions that are zero throughout are left out unless
    ``show_all``.
    """
    rows = [("service", "metric", "mean", "95% CI", "unit")]
    hidden = 0
    for rec in results.summary.itertuples():
        if not show_all and _is_quiet(rec):
            hidden += 1
            continue
        low, high = format_value(rec.ci_low, rec.unit), format_value(rec.ci_high, rec.unit)
        interval = "-" if low == "-" else f"[{low}, {high}]"
        rows.append((rec.service, rec.metric, format_value(rec.mean, rec.unit), interval, rec.unit))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            row[i].ljust(widths[i]) if i in (0, 1, 4) else row[i].rjust(widths[i]) for i in range(5)
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    if hidden:
        lines.append(
            f"({hidden} rows not shown: raw counts, and failure fractions that were "
            "zero throughout; --all shows them)"
        )
    return "\n".join(lines)


def _writable(path: str) -> Path:
    """The output path, with its folder created."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _overrides(assignments: Sequence[str]) -> dict[str, object]:
    return dict(parse_assignment(text) for text in assignments)


def cmd_run(args: argparse.Namespace) -> int:
    """Run one model and report."""
    model = load(args.model, _overrides(args.set))
    results = run(model, replications=args.replications, seed=args.seed)
    print(
        f"{model.name}: {results.replications} replications x {model.horizon:g}s "
        f"(warm-up {model.warmup:g}s), seed {results.seed}"
    )
    print(summary_table(results, show_all=args.all))
    if args.json:
        results.to_json(_writable(args.json))
        print(f"wrote {args.json}")
    if args.csv:
        results.summary.to_csv(_writable(args.csv), index=False)
        print(f"wrote {args.csv}")
    if args.plot:
        from sim.plots import save_timeseries

        print(f"wrote {save_timeseries(results, args.plot)}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate model files; print every problem; exit 1 if any file is bad."""
    status = EXIT_OK
    for path in args.models:
        try:
            load(path, _overrides(args.set))
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``queuefull`` command."""
    parser = argparse.ArgumentParser(
        prog="queuefull",
        description="Simulate capacity models: queue depth, rejections and latency with CIs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_run = sub.add_parser("run", help="run a model and print its summary")
    p_run.add_argument("model", help="capacity model (YAML)")
    p_run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field by dotted path, e.g. services.api.workers=12",
    )
    p_run.add_argument("--replications", type=int, help="override the model's replications")
    p_run.add_argument("--all", action="store_true", help="show zero failure fractions too")
    p_run.add_argument("--seed", type=int, help="override the model's seed")
    p_run.add_argument("--json", metavar="FILE", help="write results as JSON")
    p_run.add_argument("--csv", metavar="FILE", help="write the summary as CSV")
    p_run.add_argument("--plot", metavar="FILE.png", help="write queue depth and latency over time")
    p_run.set_defaults(func=cmd_run)

    p_val = sub.add_parser("validate", help="check model files and report every problem")
    p_val.add_argument("models", nargs="+", help="capacity models (YAML)")
    p_val.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
    p_val.set_defaults(func=cmd_validate)

    p_schema = sub.add_parser("schema", help="print the JSON Schema of model files")
    p_schema.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``queuefull`` command; returns the exit code."""
    pd.set_option("display.width", 160)
    args = build_parser().parse_args(argv)
    if getattr(args, "replications", None) is not None and args.replications < 1:
        print("--replications must be >= 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        return args.func(args)
    except ModelError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_MODEL
    except OSError as exc:
        print(f"{exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return EXIT_MODEL
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
