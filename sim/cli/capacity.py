"""``queuefull capacity``: the largest load or the smallest resource meeting the SLOs."""

from __future__ import annotations

import argparse
import sys

from sim.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    Dask,
    budget,
    common_options,
    finite,
    overrides,
    parse_slo,
    progress,
    replications_arg,
    set_option,
    slo_option,
)
from sim.model import load

ORDER = 3


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``queuefull capacity`` to the command line."""
    p_cap = sub.add_parser("capacity", help="largest load / smallest resource meeting the SLOs")
    p_cap.add_argument("model")
    p_cap.add_argument(
        "--vary",
        required=True,
        metavar="PATH",
        help="e.g. workload.arrivals.rate or services.api.workers",
    )
    slo_option(p_cap, "bounds to meet (default: the model's slo block)")
    p_cap.add_argument("--low", type=finite)
    p_cap.add_argument("--high", type=finite)
    set_option(p_cap)
    p_cap.add_argument(
        "--replications",
        type=replications_arg,
        help="per point; auto: from the precision block's min_replications, doubled while "
        "a verdict is inconclusive",
    )
    common_options(p_cap)
    p_cap.set_defaults(func=cmd_capacity)


def cmd_capacity(args: argparse.Namespace) -> int:
    """Find the largest load or the smallest resource meeting the SLOs."""
    from sim.report.terminal import render_capacity, use_colour
    from sim.studies.capacity import find_capacity
    from sim.studies.check import as_slos

    model = load(args.model, overrides(args.set))
    slos = [parse_slo(text) for text in args.slo] or None
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
            budget=budget(args),
        )
    print(render_capacity(answer, as_slos(slos or model.slo), use_colour(sys.stdout)))
    return EXIT_OK if answer.value is not None else EXIT_FAIL
