"""``queuefull estimate``: the instant estimate of a model, without simulating it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.cli.common import EXIT_MODEL, EXIT_OK, overrides, set_option
from sim.model import ModelError, load

ORDER = 4.2


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``queuefull estimate`` to the command line."""
    p_est = sub.add_parser(
        "estimate",
        help="instant estimate of every service and end to end, from queueing theory",
        description=(
            "Estimate utilisation, queues, latency (mean and p99) and refusals of every "
            "service and end to end, in milliseconds and without simulating: each service "
            "a queue fed by its callers, sync calls holding workers (see docs/estimates.md)."
        ),
    )
    p_est.add_argument("models", nargs="+", help="capacity models (YAML)")
    set_option(p_est)
    p_est.add_argument("--json", metavar="FILE", help="also write the estimate as JSON")
    p_est.set_defaults(func=cmd_estimate)


def cmd_estimate(args: argparse.Namespace) -> int:
    """Print each model's estimate; exit 1 if a model is invalid or has none."""
    from sim.estimate import NoEstimate, estimate_graph
    from sim.report.estimate import render_estimate

    status, written = EXIT_OK, {}
    for path in args.models:
        try:
            model = load(path, overrides(args.set))
            estimate = estimate_graph(model)
        except (ModelError, NoEstimate) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            status = EXIT_MODEL
            continue
        print(render_estimate(estimate, f"{model.name}: {estimate.method}"))
        written[path] = estimate.to_dict()
    if args.json:
        data = next(iter(written.values())) if len(written) == 1 else written
        Path(args.json).write_text(json.dumps(data, indent=1))
    return status
