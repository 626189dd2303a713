"""The engine's modules compiled by Cython, each used only while it matches its source.

A run spends nearly all its time in the Python of a few modules: the event loop, the
services, calls, pools, policies and the recorders. Compiled by Cython, they run the same
steps with less interpreter work between them, every number the same. The code is the
source as it is; only a ``.pxd`` beside a module adds something, and only for the build:
which of its classes become extension types, every attribute declared as a Python object
stored in the object itself. Their methods then read and write ``self``'s attributes
directly instead of through Python's attribute lookup, which compiled code, unlike the
interpreter, cannot specialise. Without them the builds save about 15 % of the CPU per
request; with them, about a third.

A few declarations go further, for the request's hot path: a service's recorder is
declared a ``Recorder``, a replica's pool a ``WorkerPool``, a recorder's gauges ``Gauge``, and
their hot methods (a recorder's ``completed``, a pool's ``admit``, a gauge's ``add``) C
methods (``cpdef``), as are the event heap's ``push`` and ``pop``. A build that cimports
those declarations calls the methods and reads the attributes as C, without Python's
lookup by name and call protocol.

``python -m sim.compiled`` builds them (``make`` does, after installing) into
``sim/__compiled__`` (see :mod:`sim.compiled.build`), each file named by a hash of the
source and declarations it was built from (its own and those it cimports) and the
interpreter. An import then finds the build of exactly the files on disk, or else runs
the source: a module edited since it was built runs from its source (slower, never
stale) until the next build. A build that cimports another module's declarations is
used only where that module runs from its build too (its layout is the one compiled
in); otherwise it runs from its source as well. Without Cython or a C compiler nothing is
built and every module runs from its source.
``QUEUEFULL_COMPILED=0`` runs every module from its source anyway: profilers and
debuggers see only the Python of modules run from their source.
"""

from __future__ import annotations

import os
import re
import sys
from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader, ModuleSpec
from pathlib import Path
from types import ModuleType

_ENGINE = "admission arrivals autoscaler calls choice clock heap pool replica request retrying"
_ENGINE += " service streams tasks timers tracing workload"
_POLICIES = "balancer circuit_breaker codel concurrency gc healthcheck hpa incidents outlier"
_POLICIES += " ratelimit retry scalability scaling stepscaling threadpool"
MODULES: tuple[str, ...] = (
    "sim.distributions",
    *(f"sim.engine.{name}" for name in _ENGINE.split()),
    "sim.measure.edges",
    "sim.measure.gauge",
    "sim.measure.recorders",
    *(f"sim.policies.{name}" for name in _POLICIES.split()),
)
"""The modules a run's events pass through: compiled when built. (``sim.engine.kernel``
and ``sim.engine.fastpath`` are numba's to compile.)"""

_NAMES = frozenset(MODULES)

CYTHON_OPTIONS: tuple[str, ...] = ("-3", "-X", "annotation_typing=False")
"""How Cython compiles: Python 3, and type hints left as hints. (By default Cython would
make a ``float`` argument a C double, so an ``int`` passed in would come back a float:
not the source's behaviour.) Part of each build's hash: new options, new builds."""

SWITCH = "QUEUEFULL_COMPILED"
"""Environment variable: ``0`` runs every module from its source, built or not."""

PACKAGE = Path(__file__).resolve().parent.parent  # sim
CACHE = PACKAGE / "__compiled__"
SUFFIX = EXTENSION_SUFFIXES[0]


def enabled() -> bool:
    """Whether imports may use built modules (``QUEUEFULL_COMPILED`` is not ``0``)."""
    return os.environ.get(SWITCH, "1") != "0"


def source_of(name: str) -> Path:
    """The source file of module ``name`` (one of :data:`MODULES`)."""
    return PACKAGE.parent.joinpath(*name.split(".")).with_suffix(".py")


def declarations_of(name: str) -> Path:
    """The Cython declarations beside module ``name``'s source (``.pxd``: which of its
    classes are built as extension types, their attributes stored in the object itself),
    whether or not there are any."""
    return source_of(name).with_suffix(".pxd")


_CIMPORT = re.compile(rb"^from\s+([\w.]+)\s+cimport\b", re.MULTILINE)
"""A declarations file's ``from sim.x cimport Y``."""


def cimports_of(name: str) -> tuple[str, ...]:
    """The compiled modules whose declarations module ``name``'s declarations cimport
    (``from sim.x cimport Y``), directly or through theirs: its build calls their
    extension types' methods and reads their attributes as C, so it is built with their
    declarations and used only beside their builds."""
    found: list[str] = []
    todo = [name]
    while todo:
        declarations = declarations_of(todo.pop())
        text = declarations.read_bytes() if declarations.is_file() else b""
        for match in _CIMPORT.finditer(text):
            other = match[1].decode()
            if other in _NAMES and other != name and other not in found:
                found.append(other)
                todo.append(other)
    return tuple(sorted(found))


def read_inputs(name: str) -> tuple[bytes, dict[str, bytes]]:
    """Module ``name``'s source, and the declarations it is built with (read now), by
    module: its own, if any, and those of every module it cimports."""
    declarations = {
        module: declarations_of(module).read_bytes()
        for module in (name, *cimports_of(name))
        if declarations_of(module).is_file()
    }
    return source_of(name).read_bytes(), declarations


def joined(source: bytes, declarations: dict[str, bytes]) -> bytes:
    """A module's source and the declarations it is built with, as its build's name
    hashes them."""
    parts = [source]
    for module in sorted(declarations):
        parts += [b"\0declarations ", module.encode(), b"\0", declarations[module]]
    return b"".join(parts)


def inputs_of(name: str) -> bytes:
    """What a build of module ``name`` from its files now is made from, as hashed."""
    return joined(*read_inputs(name))


def build_of(name: str, source: bytes | None = None) -> Path:
    """Where the build of module ``name`` from ``source`` (default: its files now, see
    :func:`inputs_of`) lives: named by a hash of that source, this interpreter and the
    Cython options, so no other source (or older recipe) matches it."""
    import hashlib  # here: only an import of a compiled module pays for it

    if source is None:
        source = inputs_of(name)
    recipe = " ".join((sys.implementation.cache_tag, *CYTHON_OPTIONS)).encode()
    digest = hashlib.sha256(source + recipe).hexdigest()
    return CACHE / f"{name}.{digest[:16]}{SUFFIX}"


class CompiledFinder:
    """Finds the build of a compiled module's current source, if there is one; otherwise
    leaves the import to the finders after it (the source)."""

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """The spec of ``fullname``'s build, or None to import its source."""
        if fullname not in _NAMES:
            return None
        try:
            built = build_of(fullname)
        except OSError:
            return None
        if not built.is_file():
            return None
        if not all(_runs_from_build(other) for other in cimports_of(fullname)):
            return None  # built against declarations that will not be there: the source
        spec = ModuleSpec(fullname, ExtensionFileLoader(fullname, str(built)), origin=str(built))
        spec.has_location = True  # so the module's __file__ is the build
        return spec


def _runs_from_build(name: str) -> bool:
    """Whether module ``name`` runs from its build in this process: imported from it, or
    not imported yet with a build of its files now."""
    module = sys.modules.get(name)
    if module is not None:
        return str(getattr(module, "__file__", "")).endswith(SUFFIX)
    try:
        return build_of(name).is_file()
    except OSError:
        return False


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once), unless ``QUEUEFULL_COMPILED=0``."""
    if enabled() and not any(isinstance(f, CompiledFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, CompiledFinder())


def loaded() -> list[str]:
    """The modules of :data:`MODULES` imported from a build in this process."""
    return [
        name
        for name in MODULES
        if str(getattr(sys.modules.get(name), "__file__", "")).endswith(SUFFIX)
    ]


def missing() -> list[str]:
    """The modules of :data:`MODULES` with no build of their current source."""
    return [name for name in MODULES if not build_of(name).is_file()]
