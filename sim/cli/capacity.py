"""``queuefull capacity``: the largest load or the smallest resource meeting the SLOs."""

from __future__ import annotations

import argparse

from sim.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    Dask,
    at_least,
    budget,
    common_options,
    finite,
    overrides,
    progress,
    set_option,
)
from sim.model import ModelError, load
from sim.studies.capacity import find_capacity

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
    p_cap.add_argument(
        "--slo",
        action="append",
        default=[],
        metavar="[SERVICE.]METRIC<=X",
        help="bounds to meet (default: the model's slo block)",
    )
    p_cap.add_argument("--low", type=finite)
    p_cap.add_argument("--high", type=finite)
    set_option(p_cap)
    p_cap.add_argument("--replications", type=at_least(1))
    common_options(p_cap)
    p_cap.set_defaults(func=cmd_capacity)


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


def cmd_capacity(args: argparse.Namespace) -> int:
    """Find the largest load or the smallest resource meeting the SLOs."""
    model = load(args.model, overrides(args.set))
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
            progress=progress(args),
            budget=budget(args),
        )
    print(answer.evaluations.to_string(index=False))
    print(answer.message)
    return EXIT_OK if answer.value is not None else EXIT_FAIL
