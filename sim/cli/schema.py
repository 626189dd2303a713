"""``queuefull schema``: the JSON Schema of model files, for editors."""

from __future__ import annotations

import argparse
import json

from sim.cli.common import EXIT_OK
from sim.model import json_schema

ORDER = 5


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``queuefull schema`` to the command line."""
    p_schema = sub.add_parser("schema", help="print the JSON Schema of model files")
    p_schema.set_defaults(func=cmd_schema)


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of the model file."""
    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK
