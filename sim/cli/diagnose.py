"""``queuefull diagnose``: where the queues fill, why, and which fix works."""

from __future__ import annotations

import argparse
import json

from sim.cli.common import (
    EXIT_OK,
    Dask,
    at_least,
    budget,
    common_options,
    overrides,
    parse_slo,
    progress,
    set_option,
    slo_option,
    writable,
)
from sim.measure.display import format_interval, format_value
from sim.measure.registry import METRICS
from sim.model import load

ORDER = 4.5


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``queuefull diagnose`` to the command line."""
    p_diag = sub.add_parser(
        "diagnose", help="bottleneck, root cause and the fixes that work, simulated"
    )
    p_diag.add_argument("model")
    slo_option(p_diag, "bounds to judge by (default: the model's slo block)")
    set_option(p_diag)
    p_diag.add_argument("--replications", type=at_least(2))
    p_diag.add_argument("--json", metavar="FILE", help="write the diagnosis as JSON")
    p_diag.add_argument(
        "--no-fixes", action="store_true", help="findings only: one run, no fix variants"
    )
    common_options(p_diag)
    p_diag.set_defaults(func=cmd_diagnose)


def cmd_diagnose(args: argparse.Namespace) -> int:
    """Diagnose a model: the report first, then every fix tried with its evidence."""
    from sim.diagnose import diagnose

    model = load(args.model, overrides(args.set))
    slos = [parse_slo(text) for text in args.slo] or None
    with Dask(args.dask) as client:
        found = diagnose(
            model,
            slos,
            args.replications,
            executor=client,
            progress=progress(args),
            budget=budget(args),
            fixes=not args.no_fixes,
        )
    print(found.report())
    if found.fixes:
        print("\nFixes tried (each on the same random numbers as the model as it is):")
        for tried in found.fixes:
            print(f"\n  {tried.fix.name} [{tried.effect}] ({tried.fix.term} term: {tried.fix.why})")
            for change in tried.changes:
                unit = METRICS[change.metric].unit
                print(
                    f"    {change.slo:<40} {format_value(change.before, unit):>9} -> "
                    f"{format_value(change.after, unit):>9}  change "
                    f"{format_interval(change.ci_low, change.ci_high, unit)} {change.effect}"
                )
            print("    patch:")
            for line in tried.patch_yaml.splitlines():
                print(f"      {line}")
            print(f"    try it: queuefull run {args.model} {tried.set_options}")
    if args.json:
        writable(args.json).write_text(json.dumps(found.to_dict(), indent=1))
    return EXIT_OK
