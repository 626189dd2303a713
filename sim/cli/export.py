"""``queuefull export``: a model's workload in another tool's terms (k6, for now)."""

from __future__ import annotations

import argparse
import sys

from sim.cli.common import EXIT_MODEL, EXIT_OK, overrides, set_option, writable
from sim.model import load

ORDER = 4.8


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``queuefull export`` to the command line."""
    p = sub.add_parser(
        "export",
        help="write a model's workload as a k6 script, to offer the same load to a real system",
    )
    p.add_argument("format", choices=["k6"], help="k6: a load-test script")
    p.add_argument("model", help="capacity model (YAML)")
    set_option(p)
    p.add_argument("--base-url", default="http://localhost:8080", help="the system under test")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of printing")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    """Write the script; exit 1 when the workload has no k6 equivalent."""
    from sim.calibrate.k6 import ExportError, k6_script

    model = load(args.model, overrides(args.set))
    try:
        script = k6_script(model, args.base_url)
    except ExportError as exc:
        print(f"{args.model}: {exc}", file=sys.stderr)
        return EXIT_MODEL
    if args.output:
        writable(args.output).write_text(script, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(script, end="")
    return EXIT_OK
