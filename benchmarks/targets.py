"""One table of every performance figure beside its target (and the timing helper the
benchmarks share).

Each benchmark calls :func:`record` for its figures; they are appended to
``out/bench.jsonl``. ``make bench`` empties the file, runs the benchmarks, then runs this
module, which prints the table with the machine it was measured on.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "out" / "bench.jsonl"


def record(
    figure: str, value: float, target: float | None, unit: str, higher_is_better: bool
) -> None:
    """Keep one measured ``figure`` and print it with its verdict (``target`` None: a
    figure shown for what it explains, with no verdict)."""
    value = float(value)  # numpy scalars too
    met = None if target is None else bool(value >= target if higher_is_better else value <= target)
    row = {
        "figure": figure,
        "value": value,
        "target": target,
        "unit": unit,
        "higher": higher_is_better,
        "met": met,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as handle:
        handle.write(json.dumps(row) + "\n")
    print(_line(row))


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    """Least CPU time of ``repeats`` calls of ``fn``: the figure least disturbed by the
    machine's other work."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def _number(value: float, unit: str) -> str:
    if unit == "%":  # values are fractions
        return f"{value * 100:.3g} %"
    if abs(value) >= 1000:
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


def _line(row: dict) -> str:
    if row["target"] is None:
        return f"{row['figure']:<58} {_number(row['value'], row['unit']):>14}  (no target)"
    sign = ">=" if row["higher"] else "<="
    verdict = "met" if row["met"] else "NOT met"
    value = _number(row["value"], row["unit"])
    target = _number(row["target"], row["unit"])
    return f"{row['figure']:<58} {value:>14}  {sign} {target:<12} {verdict}"


def machine() -> str:
    """The processor and core count the figures were measured on."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} cores, Python {platform.python_version()}, {engine()}"


def engine() -> str:
    """How the engine's modules ran: compiled (how many of them) or from their source."""
    from sim import compiled

    if not compiled.enabled():
        return f"engine from source ({compiled.SWITCH}=0)"
    built = len(compiled.MODULES) - len(compiled.missing())
    return f"engine compiled ({built} of {len(compiled.MODULES)} modules)"


def table() -> str:
    """Every recorded figure, one line each, under the machine's description."""
    if not RESULTS.exists():
        return "no figures recorded: run make bench"
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    lines = [f"measured on {machine()}", ""]
    lines += [f"{'figure':<58} {'measured':>14}  target"]
    lines += [_line(row) for row in rows]
    judged = [row for row in rows if row["target"] is not None]
    missed = sum(not row["met"] for row in judged)
    lines += ["", f"{len(judged) - missed} of {len(judged)} targets met"]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
