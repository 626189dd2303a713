"""Do two versions of the code give the same numbers? Run every shipped model with a fixed
seed and write its results JSON, then compare two such folders byte for byte.

    python benchmarks/same_numbers.py write OUT_DIR [--horizon 120]
    python benchmarks/same_numbers.py compare DIR_A DIR_B

A restructure that changes no behaviour must leave every file identical: run ``write``
on the old commit (a git worktree) and on the new one, then ``compare``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402


def write(out: Path, horizon: float) -> None:
    """Results JSON of every model in models/, shortened to ``horizon`` seconds."""
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "models").glob("*.yaml")):
        model = sim.load(path, {"horizon": horizon, "warmup": horizon / 10})
        results = sim.run(model, replications=2, seed=11, executor="inline", progress=False)
        (out / f"{path.stem}.json").write_text(results.to_json())
        print(f"wrote {path.stem}")


def compare(first: Path, second: Path) -> int:
    """0 when both folders hold the same files with the same bytes, else 1."""
    names = sorted({p.name for p in first.glob("*.json")} | {p.name for p in second.glob("*.json")})
    different = [
        name
        for name in names
        if not (first / name).exists()
        or not (second / name).exists()
        or (first / name).read_bytes() != (second / name).read_bytes()
    ]
    for name in names:
        print(f"{'DIFFERENT' if name in different else 'same'}  {name}")
    return 1 if different else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_write = sub.add_parser("write")
    p_write.add_argument("out", type=Path)
    p_write.add_argument("--horizon", type=float, default=120.0)
    p_compare = sub.add_parser("compare")
    p_compare.add_argument("first", type=Path)
    p_compare.add_argument("second", type=Path)
    args = parser.parse_args()
    if args.command == "write":
        write(args.out, args.horizon)
        return 0
    return compare(args.first, args.second)


if __name__ == "__main__":
    sys.exit(main())
