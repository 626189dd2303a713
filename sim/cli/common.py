"""What every ``queuefull`` command shares: exit codes, argument types and options,
overrides, outputs, Dask, progress."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path

from sim.model import ModelError, parse_assignment
from sim.studies.budget import BUDGET_VARIABLE, DEFAULT_BUDGET

EXIT_OK, EXIT_MODEL, EXIT_USAGE, EXIT_INCONCLUSIVE, EXIT_INCOMPLETE = 0, 1, 2, 3, 4
EXIT_FAIL = EXIT_MODEL
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM


_terminated = False


def stop_on_sigterm() -> None:
    """Treat SIGTERM (a CI job cancelled, ``kill``) as Ctrl-C: the command stops the same
    way, writes what finished and stops its workers, then exits 143 instead of 130."""
    import signal
    import threading

    def terminated(signum: int, frame: object) -> None:
        global _terminated
        _terminated = True
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminated)


def interrupted_code() -> int:
    """143 after SIGTERM, 130 after Ctrl-C."""
    return EXIT_TERMINATED if _terminated else EXIT_INTERRUPTED


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a reader that went away


def finite(text: str) -> float:
    """An argparse type: a finite number (no nan, no inf)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a finite number")
    return value


def non_negative(text: str) -> float:
    """An argparse type: a finite number >= 0."""
    value = finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text[:40]}")
    return value


def replications_arg(text: str) -> int | str:
    """An argparse type: a whole number of replications >= 1, or ``auto`` (run until the
    model's precision block is met)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return at_least(1)(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc}: give a whole number >= 1, or auto") from None


replications_arg.__name__ = "whole number >= 1 or auto"


def at_least(lowest: int):
    """An argparse type: a whole number >= ``lowest``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"must be >= {lowest}, not {value}")
        return value

    parse.__name__ = f"whole number >= {lowest}"
    return parse


def budget(args: argparse.Namespace) -> float | None:
    """The work budget from ``--budget`` (None: the environment's or the default)."""
    return getattr(args, "budget", None)


def writable(path: str) -> Path:
    """The output path, with its folder created."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def overrides(assignments: Sequence[str]) -> dict[str, object]:
    """``--set`` arguments as a dotted-path mapping."""
    return dict(parse_assignment(text) for text in assignments)


class Dask:
    """``--dask ADDRESS`` or ``--dask local``: a dask.distributed Client for the command."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        self.client = None
        self.cluster = None

    def __enter__(self):
        if not self.address:
            return None
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise SystemExit("--dask needs the dask extra: pip install 'queuefull[dask]'") from None
        if self.address == "local":
            self.cluster = LocalCluster(
                threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = Client(self.cluster)
        else:
            self.client = Client(self.address)
        return self.client

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def progress(args: argparse.Namespace) -> bool | None:
    """No progress bar with ``--quiet``, else the default (on a terminal)."""
    return False if getattr(args, "quiet", False) else None


def set_option(parser: argparse.ArgumentParser) -> None:
    """``--set PATH=VALUE``, repeatable."""
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field by dotted path, e.g. services.api.workers=12; list items by "
        "index: services.api.calls.0.timeout=1s or services.api.calls[0].timeout=1s",
    )


def budget_option(parser: argparse.ArgumentParser) -> None:
    """``--budget N``: the work budget of the command."""
    parser.add_argument(
        "--budget",
        type=finite,
        metavar="N",
        help=f"most request visits to simulate (default {DEFAULT_BUDGET:.0e}, "
        f"or {BUDGET_VARIABLE})",
    )


def common_options(parser: argparse.ArgumentParser) -> None:
    """``--dask``, ``--quiet`` and ``--budget``: what every simulating command takes."""
    parser.add_argument(
        "--dask", metavar="ADDRESS", help="run on a Dask cluster: tcp://scheduler:8786, or 'local'"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    budget_option(parser)


def parse_slo(text: str) -> dict[str, object]:
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


def slo_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--slo [SERVICE.]METRIC<=X``, repeatable (read with :func:`parse_slo`)."""
    parser.add_argument(
        "--slo", action="append", default=[], metavar="[SERVICE.]METRIC<=X", help=help_text
    )
