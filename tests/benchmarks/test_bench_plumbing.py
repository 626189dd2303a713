"""The benchmarks' own plumbing: the programs ``bench_instructions`` counts run as written
(a renamed constant or function fails here, not a quarter of an hour into ``make bench``),
and a figure without a target is shown without a verdict and left out of the count."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_instructions
import targets


@pytest.mark.parametrize(
    "name", [name for name in bench_instructions.PROGRAMS if "ciw" not in name]
)
def test_each_counted_program_runs(name: str) -> None:
    source = bench_instructions._source(name, bench_instructions.MOMENT)
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_valgrinds_count_is_read_from_its_summary() -> None:
    summary = "==27904== Collected : 1\n==27904== I   refs:      6,687,578,449\n"
    found = bench_instructions.REFS.search(summary)
    assert found is not None and int(found.group(1).replace(",", "")) == 6_687_578_449


def test_a_figure_without_a_target_has_no_verdict(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(targets, "RESULTS", tmp_path / "bench.jsonl")
    targets.record("judged", 1.0, 2.0, "x", False)
    targets.record("shown", 3.0, None, "x", False)
    table = targets.table()
    assert "shown" in table and "(no target)" in table
    assert table.endswith("1 of 1 targets met")


ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = sorted((ROOT / "benchmarks").glob("bench_*.py"))


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda path: path.stem)
def test_each_benchmark_the_makefile_runs_runs_its_main(path: Path) -> None:
    # A script whose `if __name__ == "__main__": main()` went missing runs nothing, and
    # `make bench` moves on without its figures.
    tree = ast.parse(path.read_text())
    guards = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and ast.unparse(node.test) == "__name__ == '__main__'"
        and any("main(" in ast.unparse(statement) for statement in node.body)
    ]
    assert guards, f"{path.name} never calls main()"
    assert path.stem in (ROOT / "Makefile").read_text()
