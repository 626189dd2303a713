"""Building the compiled modules: Cython to C, the C compiler to a shared library, each
renamed into place under the hash of the source it was built from."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sim import compiled
from sim.compiled import CYTHON_OPTIONS, SUFFIX, build_of, joined, missing, read_inputs


class BuildError(RuntimeError):
    """Cython or the C compiler is missing, or failed on a module."""


def cannot_build() -> str | None:
    """Why this machine cannot build (no C compiler, Python headers or Cython), or None."""
    compiler = str(sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler})"
    if not Path(sysconfig.get_paths()["include"], "Python.h").is_file():
        return "no Python headers (Debian: apt-get install python3-dev)"
    if importlib.util.find_spec("Cython") is None:
        return "Cython is not installed (pip install cython)"
    return None


def build(names: list[str] | None = None, jobs: int | None = None) -> list[str]:
    """Build each of ``names`` (default: every module without a build of its current
    source) and drop its older builds. Returns the names built."""
    names = missing() if names is None else names
    if not names:
        return []
    reason = cannot_build()
    if reason:
        raise BuildError(reason)
    compiled.CACHE.mkdir(exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="queuefull-build-") as work,
        ThreadPoolExecutor(jobs or os.cpu_count() or 1) as pool,
    ):
        list(pool.map(lambda name: _build_one(name, Path(work)), names))
    return names


def _lay_out(name: str, tree: Path) -> tuple[Path, bytes]:
    """Copy module ``name``'s source, and the declarations it is built with (its own and
    those it cimports), into their packages' folders under ``tree`` (where Cython looks
    for declarations). Returns the copy of the source and what it was made from, as
    :func:`inputs_of` hashes it (read once: an edit meanwhile is the next build's)."""
    source, declarations = read_inputs(name)
    py = _placed(tree, name, ".py")
    py.write_bytes(source)
    for module, text in declarations.items():
        _placed(tree, module, ".pxd").write_bytes(text)
    return py, joined(source, declarations)


def _placed(tree: Path, module: str, suffix: str) -> Path:
    """Where module ``module``'s file with ``suffix`` goes under ``tree``, its package
    folders made (each with an ``__init__.py``)."""
    path = tree.joinpath(*module.split(".")).with_suffix(suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    for folder in path.relative_to(tree).parents[:-1]:  # the packages, not the tree itself
        (tree / folder / "__init__.py").touch()
    return path


def _build_one(name: str, work: Path) -> None:
    """Cython, then the C compiler and linker, for one module; the file appears at once
    (renamed into place) or not at all."""
    py, inputs = _lay_out(name, work / name)
    target = build_of(name, inputs)
    c, obj, lib = (work / f"{name}{ext}" for ext in (".c", ".o", SUFFIX))
    config = sysconfig.get_config_var
    include = sysconfig.get_paths()["include"]
    steps = [
        [
            sys.executable,
            "-m",
            "cython",
            *CYTHON_OPTIONS,
            "--module-name",
            name,
            "-o",
            str(c),
            str(py),
        ],
        [
            *str(config("CC")).split(),
            *str(config("CFLAGS")).split(),
            *str(config("CCSHARED")).split(),
            "-g0",  # no debug information: smaller builds, sooner
            f"-I{include}",
            "-c",
            str(c),
            "-o",
            str(obj),
        ],
        [*str(config("LDSHARED")).split(), "-g0", str(obj), "-o", str(lib)],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode:
            raise BuildError(f"{name}: {' '.join(step[:3])} failed:\n{done.stderr[-2000:]}")
    for old in compiled.CACHE.glob(f"{name}.*{SUFFIX}"):
        old.unlink(missing_ok=True)
    os.replace(lib, target)
