"""``python -m sim.compiled [--clean]``: build the compiled modules that are missing."""

from __future__ import annotations

import shutil
import sys
import time

from sim import compiled
from sim.compiled.build import BuildError, build


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.compiled [--clean]``: build what is missing, or remove every build.
    A machine that cannot build is told so and what it costs, and the command succeeds:
    every module still runs from its source."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--clean"]:
        shutil.rmtree(compiled.CACHE, ignore_errors=True)
        print(f"removed {compiled.CACHE.name}: every module runs from its source")
        return 0
    if args:
        print("usage: python -m sim.compiled [--clean]", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        built = build()
    except (BuildError, OSError) as error:  # OSError: e.g. a read-only install
        print(
            f"compiled engine: not built ({error}); the engine runs from its source, "
            "with about four times the CPU"
        )
        return 0
    if built:
        print(f"compiled engine: built {len(built)} modules in {time.perf_counter() - start:.0f} s")
    else:
        print(f"compiled engine: all {len(compiled.MODULES)} modules up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
