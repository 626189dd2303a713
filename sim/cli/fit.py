"""``queuefull fit``: a work distribution from production measurements, as YAML to paste."""

from __future__ import annotations

import argparse
import json
import sys

from sim.cli.common import EXIT_MODEL, EXIT_OK, EXIT_USAGE

ORDER = 4.7


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``queuefull fit`` to the command line."""
    p = sub.add_parser(
        "fit",
        help="fit a work distribution to latency samples, percentiles or a Prometheus "
        "histogram, or infer mean work from throughput",
        description="Fit lognormal, gamma and a two-path mixture to what production "
        "shows, choose by the tail, and print the YAML to paste into a model. Give one "
        "of: a samples file, --percentiles, --prometheus, --throughput, --arrivals.",
    )
    p.add_argument("samples", nargs="?", help="latency samples: one per line, or a CSV")
    p.add_argument("--unit", default="s", help="unit of plain numbers: s, ms, us, ns")
    p.add_argument(
        "--percentiles", metavar="P=VALUE,...", help="e.g. p50=120ms,p90=300ms,p99=900ms"
    )
    p.add_argument("--prometheus", metavar="FILE", help="Prometheus / OpenMetrics text")
    p.add_argument(
        "--arrivals", metavar="FILE", help="request timestamps: the arrival process instead"
    )
    p.add_argument("--bin", default="60s", help="with --arrivals: width of rate bins (60s)")
    p.add_argument("--metric", help="the histogram in --prometheus, if it holds several")
    p.add_argument("--throughput", type=float, help="requests per second (operational laws)")
    p.add_argument("--utilization", type=float, help="busy share of the workers, 0-1")
    p.add_argument("--workers", type=int, help="workers (or cores) over every replica")
    p.add_argument("--concurrency", type=float, help="requests in progress, mean")
    p.add_argument("--latency", help="mean latency, e.g. 80ms")
    p.add_argument("--field", default="services.api.work", help="where the snippet goes")
    p.add_argument("--plot", metavar="FILE.png", help="write observed and fitted curves")
    p.add_argument("--json", metavar="FILE", help="write the fit as JSON")
    p.set_defaults(func=cmd_fit)


def cmd_fit(args: argparse.Namespace) -> int:
    """Fit, print the report and the snippet; exit 2 on unusable input."""
    given = [args.samples, args.percentiles, args.prometheus, args.throughput, args.arrivals]
    if sum(g is not None for g in given) != 1:
        print(
            "queuefull fit: give one of a samples file, --percentiles, --prometheus, "
            "--throughput or --arrivals",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from sim.calibrate.observed import ObservationError

    try:
        if args.throughput is not None:
            return _laws(args)
        if args.arrivals is not None:
            return _arrivals(args)
        fit = _fit(args)
    except (ObservationError, ValueError) as exc:
        print(f"queuefull fit: {exc}", file=sys.stderr)
        return EXIT_MODEL
    from sim.calibrate.report import plot_fit, render_fit, spec_yaml

    print(render_fit(fit, args.field))
    if args.plot:
        print(f"plot: {plot_fit(fit, args.plot)}")
    if args.json:
        document = {
            "source": fit.source,
            "chosen": fit.chosen.family,
            "reason": fit.reason,
            "spec": fit.spec,
            "yaml": spec_yaml(fit.spec),
            "observed": {f"{q:g}": v for q, v in fit.observed.items()},
            "candidates": {
                c.family: {"tail_error": c.worst, "spec": c.fitted.spec} for c in fit.candidates
            },
        }
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=1)
    return EXIT_OK


def _fit(args: argparse.Namespace):
    from pathlib import Path

    from sim.calibrate import fit, observed

    if args.samples is not None:
        samples = observed.read_samples(args.samples, args.unit)
        return fit.fit_samples(samples, f"{args.samples} ({samples.size:,} samples)")
    if args.percentiles is not None:
        pairs = dict(item.split("=", 1) for item in args.percentiles.split(",") if "=" in item)
        return fit.fit_percentiles(observed.parse_percentiles(pairs), args.percentiles)
    try:
        text = Path(args.prometheus).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise observed.ObservationError(f"{args.prometheus}: cannot read it: {exc}") from None
    histogram = observed.parse_prometheus(text, args.metric, args.unit)
    return fit.fit_histogram(histogram, f"{args.prometheus} ({histogram.total:,.0f} observations)")


def _laws(args: argparse.Namespace) -> int:
    from sim.calibrate.laws import infer_work
    from sim.calibrate.report import snippet
    from sim.model.durations import parse_duration

    latency = parse_duration(args.latency) if args.latency is not None else None
    inferred = infer_work(
        args.throughput, args.utilization, args.workers, args.concurrency, latency
    )
    for warning in inferred.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if inferred.mean_work != inferred.mean_work:  # NaN: not enough given
        print(f"queuefull fit: {inferred.how}", file=sys.stderr)
        return EXIT_USAGE
    spec = {"distribution": "exponential", "mean": inferred.mean_work}
    print(f"mean work {inferred.mean_work * 1e3:.4g} ms, by the {inferred.how}")
    print("(the laws give the mean only: an exponential until samples or percentiles tell more)")
    print("\npaste into the model:")
    print(snippet(spec, args.field))
    return EXIT_OK if not inferred.warnings else EXIT_MODEL


def _arrivals(args: argparse.Namespace) -> int:
    from sim.calibrate.arrivals import fit_arrivals, read_timestamps, render_arrivals
    from sim.model.durations import parse_duration

    width = parse_duration(args.bin)
    if not width > 0:
        raise ValueError("--bin: must be a positive duration")
    fit = fit_arrivals(read_timestamps(args.arrivals, args.unit), width)
    print(render_arrivals(fit, args.arrivals))
    if args.json:
        document = {
            "spec": fit.spec,
            "reason": fit.reason,
            "notes": fit.notes,
            "mean_rate": fit.mean_rate,
            "idc": {f"{w:g}": v for w, v in fit.idc.items()},
        }
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=1)
    return EXIT_OK
