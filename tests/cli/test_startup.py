"""The command line starts light: ``import sim``, ``queuefull --help`` and ``validate`` load
neither numpy, numba, pandas, scipy, matplotlib nor the engine (their cost is measured by
``benchmarks/bench_startup.py``, not timed here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "numpy",
    "numba",
    "pandas",
    "scipy",
    "matplotlib",
    "simpy",
    "dask",
    "streamlit",
    "sim.engine",
)


def modules_loaded(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        "import sim",
        "from sim.cli import build_parser\nbuild_parser().format_help()",
        "from sim.cli import main\nassert main(['validate', 'models/default.yaml']) == 0",
    ],
)
def test_starts_without_the_heavy_packages(code):
    loaded = modules_loaded(code)
    assert not [name for name in HEAVY if name in loaded]


def test_public_names_still_load_on_use():
    loaded = modules_loaded(
        "import sim\nimport sim.diagnose.findings\n"
        "assert callable(sim.diagnose) and sim.run.__name__ == 'run'\n"
        "assert sim.analytic.__name__ == 'sim.analytic' and sim.Results.__name__ == 'Results'"
    )
    assert "pandas" in loaded


def test_a_run_and_its_report_leave_scipy_stats_unloaded():
    """Intervals need only the Student-t quantile, from scipy.special; scipy.stats (three
    times its import) loads only for a baseline comparison's t-tests."""
    loaded = modules_loaded(
        "from sim.cli import main\n"
        "assert main(['run', 'models/default.yaml', '--replications', '3', '--quiet']) == 0"
    )
    assert "scipy.special" in loaded and "pandas" in loaded
    assert "scipy.stats" not in loaded
