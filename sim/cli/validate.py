"""``queuefull validate``: every check a run makes, without running."""

from __future__ import annotations

import argparse
import sys

from sim.cli.common import EXIT_MODEL, EXIT_OK, budget, budget_option, overrides, set_option
from sim.model import ModelError, load
from sim.studies.preflight import preflight

ORDER = 4


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``queuefull validate`` to the command line."""
    p_val = sub.add_parser("validate", help="check model files and report every problem")
    p_val.add_argument("models", nargs="+", help="capacity models (YAML)")
    set_option(p_val)
    budget_option(p_val)
    p_val.set_defaults(func=cmd_validate)


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
