"""The ``queuefull`` command: run, sweep, check, size and describe capacity models.

One module per command; each defines ``register(sub)``, which adds its subcommand and
arguments, and ``ORDER``, its place in the help. A new command is one new module here.

Exit codes: 0 success (check: every SLO passed), 1 a model is invalid or unstable (check:
an SLO failed or regressed), 2 bad command-line usage, 3 (check) an SLO stayed
inconclusive, 4 incomplete (a worker process died twice), 130 interrupted (Ctrl-C), 143
terminated (SIGTERM), 141 the reader
of the output went away (``| head``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from sim.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_INCOMPLETE,
    EXIT_MODEL,
    EXIT_USAGE,
    interrupted_code,
    stop_on_sigterm,
)
from sim.model import ModelError, UnstableError

_SHARED = {"common"}  # modules of the package that are not commands


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``queuefull`` command, from every command module."""
    parser = argparse.ArgumentParser(
        prog="queuefull",
        description="Simulate capacity models: queue depth, rejections and latency with CIs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    modules = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if info.name not in _SHARED and not info.name.startswith("_")
    ]
    for module in sorted(modules, key=lambda m: m.ORDER):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``queuefull`` command; returns the exit code.

    Each command imports the engine, pandas and scipy only when it runs, so ``--help``
    and ``validate`` start in a fraction of a second."""
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(words)
    args.argv = words  # what reproduces the run (the HTML report quotes it)
    stop_on_sigterm()
    try:
        return args.func(args)
    except ModelError as exc:
        if _about_the_whole_file(exc):
            exc.source = exc.source or getattr(args, "model", None)
        print(str(exc), file=sys.stderr)
        return EXIT_MODEL
    except RuntimeError as exc:
        from sim.studies.parallel import WorkerLost

        if not isinstance(exc, WorkerLost):
            raise
        print(f"queuefull: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE
    except ValueError as exc:  # arguments that parse but make no sense together
        print(f"queuefull: {str(exc)[:400]}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # files that cannot be written, a cluster that cannot be reached
        if isinstance(exc, BrokenPipeError):
            return _reader_gone()
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"queuefull: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_MODEL
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return interrupted_code()
    except MemoryError:
        print("queuefull: out of memory: lower the horizon, rate or replications", file=sys.stderr)
        return EXIT_MODEL


def _about_the_whole_file(exc: ModelError) -> bool:
    """Unstable, over the budget, or stalled: an error of the model as a whole, which
    names the file rather than a field."""
    from sim.engine.clock import StalledError
    from sim.studies.budget import BudgetError

    return isinstance(exc, UnstableError | BudgetError | StalledError)


def _reader_gone() -> int:
    """The reader of stdout went away (``| head``): stop quietly, as Unix tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE
