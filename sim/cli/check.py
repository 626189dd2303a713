"""``queuefull check``: judge the models' SLOs, the CI gate (exit 0 pass, 1 fail, 3 unsure)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import (
    EXIT_FAIL,
    EXIT_INCONCLUSIVE,
    EXIT_OK,
    Dask,
    at_least,
    budget,
    common_options,
    non_negative,
    overrides,
    progress,
    set_option,
    writable,
)
from sim.model import Model, ModelError, load
from sim.studies.verdict import Verdict

ORDER = 2


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``queuefull check`` to the command line."""
    p_check = sub.add_parser("check", help="judge the models' SLOs (CI gate)")
    p_check.add_argument("models", nargs="+")
    set_option(p_check)
    p_check.add_argument("--replications", type=at_least(1), help="start with this many")
    p_check.add_argument(
        "--max-replications",
        type=at_least(2),
        help="add replications while inconclusive, up to this (default 4x)",
    )
    p_check.add_argument("--junit", metavar="FILE", help="write JUnit XML")
    p_check.add_argument("--json", metavar="FILE", help="write the verdicts as JSON")
    p_check.add_argument("--baseline", metavar="FILE", help="results JSON to compare against")
    p_check.add_argument(
        "--tolerance",
        type=non_negative,
        default=0.05,
        help="relative worsening tolerated against the baseline (0.05)",
    )
    common_options(p_check)
    p_check.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    """Judge every model's SLOs; exit 0 pass, 1 fail, 3 inconclusive."""
    from sim.measure.results import Results
    from sim.report.terminal import render_checks, use_colour
    from sim.studies.check import CheckResult, check, junit_xml, verdict_table

    baseline = Results.from_json(args.baseline) if args.baseline else None
    checks: list[CheckResult] = []
    with Dask(args.dask) as client:
        for path in args.models:
            try:
                model = load(path, overrides(args.set))
                if args.replications:
                    model = model.model_copy(update={"replications": args.replications})
                if not model.slo:
                    raise ModelError(["slo: the model has no SLOs to check"], path)
                checks.append(
                    check(
                        model,
                        path,
                        args.max_replications,
                        baseline,
                        args.tolerance,
                        executor=client,
                        progress=progress(args),
                        budget=budget(args),
                    )
                )
            except ModelError as exc:
                placeholder = Model.model_construct(name=Path(path).stem)
                checks.append(CheckResult(path, placeholder, None, error=str(exc)))
    table = verdict_table(checks)
    print(render_checks(checks, use_colour(sys.stdout)))
    if args.junit:
        writable(args.junit).write_text(junit_xml(checks))
        print(f"wrote {args.junit}")
    if args.json:
        writable(args.json).write_text(table.to_json(orient="records", indent=1))
        print(f"wrote {args.json}")
    overall = Verdict.combine(c.verdict for c in checks)
    return {Verdict.FAIL: EXIT_FAIL, Verdict.INCONCLUSIVE: EXIT_INCONCLUSIVE}.get(overall, EXIT_OK)
