"""Start-up cost of the command line: CPU seconds (user + system) of ``queuefull --help``
and ``queuefull validate models/default.yaml``, best of five, against the target of 0.4 s.
Also what ``import sim`` loads: pandas, scipy and the engine must wait until a command or
a name needs them. Run with ``make bench``; a measurement, not a pass/fail test.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

from targets import record

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.4
COMMANDS = {
    "queuefull --help": ["--help"],
    "queuefull validate models/default.yaml": ["validate", "models/default.yaml"],
}


def cpu_seconds(argv: list[str]) -> float:
    """CPU time of one run of ``python -m sim.cli ARGV``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "sim.cli", *argv], cwd=ROOT, check=True, capture_output=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def loaded_by_import() -> list[str]:
    """The heavy packages ``import sim`` loads (none, if names load on first use)."""
    probe = (
        "import sys, sim; "
        "print(' '.join(m for m in ('pandas', 'scipy', 'matplotlib', 'simpy', 'dask', "
        "'streamlit') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.split()


def main() -> None:
    """Print each command's best CPU time beside the target."""
    print(f"{'command':<42} {'CPU s':>6}  target")
    for name, argv in COMMANDS.items():
        best = min(cpu_seconds(argv) for _ in range(5))
        record(f"start-up CPU: {name}", best, TARGET, "s", False)
    heavy = loaded_by_import()
    print("import sim loads:", ", ".join(heavy) if heavy else "none of the heavy packages")


if __name__ == "__main__":
    main()
