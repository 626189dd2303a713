"""``queuefull run`` and ``queuefull report``: run one model and report it on the terminal,
and as files (JSON, CSV, a PNG of its time series, one HTML page)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    Dask,
    at_least,
    budget,
    common_options,
    overrides,
    progress,
    replications_arg,
    set_option,
    writable,
)
from sim.model import load

if TYPE_CHECKING:
    from sim.measure.results import Results
    from sim.model import Model
    from sim.report.summary import Report

ORDER = 0
OUT = Path("out")
"""Where ``--plot`` and ``--html`` write without a file name: ``out/<model file>.png``."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``queuefull run`` and ``queuefull report`` to the command line."""
    p_run = sub.add_parser("run", help="run a model and print its summary")
    _options(p_run)
    p_run.set_defaults(func=cmd_run)
    p_report = sub.add_parser(
        "report", help="run a model and write its report as one HTML page (and print it)"
    )
    _options(p_report)
    p_report.set_defaults(func=cmd_run, html_default=True)


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="capacity model (YAML)")
    set_option(parser)
    parser.add_argument(
        "--replications",
        type=replications_arg,
        help="override the model's replications (N, or auto: until the precision block is met)",
    )
    parser.add_argument(
        "--all", action="store_true", help="show every row: zeros, repeats, detail and raw counts"
    )
    parser.add_argument("--seed", type=at_least(0), help="override the model's seed")
    parser.add_argument("--json", metavar="FILE", help="write results as JSON")
    parser.add_argument("--csv", metavar="FILE", help="write the summary as CSV")
    parser.add_argument(
        "--plot",
        nargs="?",
        const="",
        metavar="FILE.png",
        help="write the time series as a PNG (default out/<model file>.png)",
    )
    parser.add_argument(
        "--html",
        nargs="?",
        const="",
        metavar="FILE.html",
        help="write one self-contained HTML report (default out/<model file>.html)",
    )
    parser.add_argument(
        "--openmetrics",
        metavar="FILE",
        help="write replication 0's time series as OpenMetrics text with timestamps "
        "(OpenTelemetry's HTTP metric names), for Prometheus and Grafana",
    )
    parser.add_argument(
        "--buckets",
        metavar="S,S,...",
        help="latency histogram bounds for --openmetrics, seconds (default OpenTelemetry's)",
    )
    parser.add_argument(
        "--traces",
        metavar="FILE.jsonl",
        help="write sampled request traces of replication 0 as OpenTelemetry JSON lines",
    )
    parser.add_argument(
        "--trace-every",
        type=at_least(1),
        default=100,
        metavar="N",
        help="with --traces: trace one client request in N (default 100)",
    )
    parser.add_argument(
        "--against",
        metavar="FILE.yaml",
        help="measurements of the real system ({service: {metric: value}}) to compare with; "
        "exit 1 if one disagrees",
    )
    common_options(parser)


def output_path(given: str, model_path: str, suffix: str) -> str:
    """``given``, or ``out/<model file stem><suffix>`` when no name was given."""
    return given or str(OUT / f"{Path(model_path).stem}{suffix}")


def cmd_run(args: argparse.Namespace) -> int:
    """Run one model and report."""
    from sim.report.summary import build_report
    from sim.report.terminal import render_report, use_colour
    from sim.studies.run import run

    model = load(args.model, overrides(args.set))
    measured = None
    if getattr(args, "against", None):
        from sim.calibrate.agreement import read_measurements

        measured = read_measurements(args.against)
    with Dask(args.dask) as client:
        results = run(
            model,
            replications=args.replications,
            seed=args.seed,
            executor=client,
            progress=progress(args),
            budget=budget(args),
        )
    report = build_report(results, show_all=args.all)
    html = args.html
    if html is None and getattr(args, "html_default", False):
        html = ""  # queuefull report: the page is the point
    # files first: a reader that stops early (| head) must not cost the outputs asked for
    written = []
    if args.json:
        results.to_json(writable(args.json))
        written.append(args.json)
    if args.csv:
        results.summary.to_csv(writable(args.csv), index=False)
        written.append(args.csv)
    if args.plot is not None:
        from sim.plots import save_timeseries

        written.append(str(save_timeseries(results, output_path(args.plot, args.model, ".png"))))
    if getattr(args, "openmetrics", None):
        written.append(_openmetrics(results, args))
    if getattr(args, "traces", None):
        from sim.report.traces import otlp_lines, traced_spans

        spans = traced_spans(_resolved(results), args.seed, args.trace_every)
        writable(args.traces).write_text(otlp_lines(spans), encoding="utf-8")
        written.append(args.traces)
    if html is not None:
        path = writable(output_path(html, args.model, ".html"))
        path.write_text(_html(results, report, args), encoding="utf-8")
        written.append(str(path))
    print(render_report(report, use_colour(sys.stdout)))
    if results.precision is not None:
        for rec in results.precision.itertuples():
            state = "reached" if rec.reached else "NOT reached"
            print(
                f"precision {rec.service}.{rec.metric}: +/-{rec.relative_half_width:.1%} "
                f"(target {rec.target:.1%}) {state}"
            )
    for path in written:
        print(f"wrote {path}")
    if measured is not None:
        from sim.calibrate.agreement import agreement, render_agreement

        rows = agreement(results, measured)
        print("\n" + render_agreement(rows))
        return EXIT_OK if all(r.agrees for r in rows) else EXIT_FAIL
    return EXIT_OK


def _resolved(results: Results) -> Model:
    """The model as it ran: with ``warmup: auto``, the warm-up the run chose."""
    if results.warmup_cut is None:
        return results.model
    return results.model.model_copy(update={"warmup": results.warmup_cut})


def _openmetrics(results: Results, args: argparse.Namespace) -> str:
    """Write replication 0 as OpenMetrics text; return the path."""
    from sim.report.openmetrics import OTEL_BUCKETS, openmetrics

    model = _resolved(results)
    buckets = OTEL_BUCKETS
    if args.buckets:
        try:
            buckets = tuple(float(b) for b in args.buckets.split(",") if b.strip())
        except ValueError:
            raise ValueError(f"--buckets {args.buckets}: give seconds, e.g. 0.01,0.1,1") from None
        if not buckets or min(buckets) <= 0:
            raise ValueError("--buckets: give positive bounds in seconds")
    seed = args.seed if args.seed is not None else model.seed
    path = writable(args.openmetrics)
    path.write_text(openmetrics(model, seed, buckets=buckets), encoding="utf-8")
    return str(path)


def _html(results: Results, report: Report, args: argparse.Namespace) -> str:
    """The HTML report of this run: everything shown, the plots, the model as written."""
    from sim.plots import timeseries_figure
    from sim.report.html import html_page

    text = Path(args.model).read_text(encoding="utf-8", errors="replace")
    if args.set:
        text += "\n# overridden on the command line:\n" + "".join(f"#   {a}\n" for a in args.set)
    command = shlex.join(["queuefull", *getattr(args, "argv", [])]) or "queuefull run"
    figures = [("Over time: means across replications, bands their 95 % intervals",
                timeseries_figure(results))]  # fmt: skip
    return html_page(report, figures, text, command)
