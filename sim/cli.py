"""The ``queuefull`` command: run, sweep, check, size and describe capacity models.

Exit codes: 0 success (check: every SLO passed), 1 a model is invalid or unstable (check:
an SLO failed or regressed), 2 bad command-line usage, 3 (check) an SLO stayed
inconclusive, 130 interrupted.
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
from sim.model import Model, ModelError, json_schema, load, parse_assignment
from sim.results import Results
from sim.runner import run

EXIT_OK, EXIT_MODEL, EXIT_USAGE, EXIT_INCONCLUSIVE = 0, 1, 2, 3
EXIT_FAIL = EXIT_MODEL


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


class Dask:
    """``--dask ADDRESS`` or ``--dask local``: a dask.distributed Client for the command."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        self.client = None
        self.cluster = None

    def __enter__(self):
        if not self.address:
            return None
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise SystemExit("--dask needs the dask extra: pip install 'queuefull[dask]'") from None
        if self.address == "local":
            self.cluster = LocalCluster(
                threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = Client(self.cluster)
        else:
            self.client = Client(self.address)
        return self.client

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _progress(args: argparse.Namespace) -> bool | None:
    return False if getattr(args, "quiet", False) else None


def cmd_run(args: argparse.Namespace) -> int:
    """Run one model and report."""
    model = load(args.model, _overrides(args.set))
    with Dask(args.dask) as client:
        results = run(
            model,
            replications=args.replications,
            seed=args.seed,
            executor=client,
            progress=_progress(args),
        )
    print(
        f"{model.name}: {results.replications} replications x {model.horizon:g}s "
        f"(warm-up {model.warmup:g}s), seed {results.seed}"
    )
    print(summary_table(results, show_all=args.all))
    if results.precision is not None:
        for rec in results.precision.itertuples():
            state = "reached" if rec.reached else "NOT reached"
            print(
                f"precision {rec.service}.{rec.metric}: +/-{rec.relative_half_width:.1%} "
                f"(target {rec.target:.1%}) {state}"
            )
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

    model = load(args.model, _overrides(args.set))
    vary = dict(parse_vary(text) for text in args.vary)
    with Dask(args.dask) as client:
        table = sweep(
            model,
            vary,
            mode="zip" if args.zip else "grid",
            replications=args.replications,
            executor=client,
            progress=_progress(args),
        )
    if table.attrs.get("interrupted"):
        print("interrupted: the table holds the points that finished", file=sys.stderr)
    chosen = table[(table.service == args.service) & table.metric.isin(args.metric)]
    view = chosen.pivot_table(index=list(vary), columns="metric", values="mean", sort=False)
    print(view[[m for m in args.metric if m in view.columns]].to_string())
    if args.csv:
        table.to_csv(_writable(args.csv), index=False)
        print(f"wrote {args.csv}")
    if args.json:
        _writable(args.json).write_text(table.to_json(orient="records", indent=1))
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
                model = load(path, _overrides(args.set))
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
                        progress=_progress(args),
                    )
                )
            except ModelError as exc:
                placeholder = Model.model_construct(name=Path(path).stem)
                checks.append(CheckResult(path, placeholder, None, error=str(exc)))
    table = verdict_table(checks)
    _print_verdicts(table)
    if args.junit:
        _writable(args.junit).write_text(junit_xml(checks))
        print(f"wrote {args.junit}")
    if args.json:
        _writable(args.json).write_text(table.to_json(orient="records", indent=1))
        print(f"wrote {args.json}")
    verdicts = {c.verdict for c in checks}
    if FAIL in verdicts:
        return EXIT_FAIL
    return EXIT_INCONCLUSIVE if INCONCLUSIVE in verdicts else EXIT_OK


def _print_verdicts(table: pd.DataFrame) -> None:
    marks = {"pass": "PASS", "fail": "FAIL", "inconclusive": "????"}
    width = max([len(c) for c in table.check] + [5])
    current = None
    for rec in table.itertuples():
        if rec.model != current:
            current = rec.model
            print(current)
        numbers = "" if math.isnan(rec.mean) else f"  {rec.mean:.4g}"
        if not math.isnan(rec.ci_low):
            numbers += f"  [{rec.ci_low:.4g}, {rec.ci_high:.4g}]"
        note = f"  {rec.note}" if rec.note else ""
        print(f"  {marks[rec.verdict]}  {rec.check.ljust(width)}{numbers}{note}")


def cmd_capacity(args: argparse.Namespace) -> int:
    """Find the largest load or the smallest resource meeting the SLOs."""
    from sim.capacity import find_capacity

    model = load(args.model, _overrides(args.set))
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
            progress=_progress(args),
        )
    print(answer.evaluations.to_string(index=False))
    print(answer.message)
    return EXIT_OK if answer.value is not None else EXIT_FAIL


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of the model file."""
    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dask", metavar="ADDRESS", help="run on a Dask cluster: tcp://scheduler:8786, or 'local'"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


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
    p_sweep.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
    p_sweep.add_argument("--replications", type=int)
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
    p_check.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
    p_check.add_argument("--replications", type=int, help="start with this many")
    p_check.add_argument(
        "--max-replications",
        type=int,
        help="add replications while inconclusive, up to this (default 4x)",
    )
    p_check.add_argument("--junit", metavar="FILE", help="write JUnit XML")
    p_check.add_argument("--json", metavar="FILE", help="write the verdicts as JSON")
    p_check.add_argument("--baseline", metavar="FILE", help="results JSON to compare against")
    p_check.add_argument(
        "--tolerance",
        type=float,
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
    p_cap.add_argument("--low", type=float)
    p_cap.add_argument("--high", type=float)
    p_cap.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
    p_cap.add_argument("--replications", type=int)
    _common(p_cap)
    p_cap.set_defaults(func=cmd_capacity)

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
    if getattr(args, "metric", "absent") is None:
        args.metric = ["latency_p99", "rejection_rate"]
    if getattr(args, "replications", None) is not None and args.replications < 1:
        print("--replications must be >= 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        return args.func(args)
    except ModelError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_MODEL
    except ValueError as exc:  # arguments that parse but make no sense together
        print(f"queuefull: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # files that cannot be written, a cluster that cannot be reached
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"queuefull: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_MODEL
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
