"""The compiled engine: a build is used only for the source it was built from, the switch
turns every build off, and a compiled run gives the same numbers as its source."""

from __future__ import annotations

import ast
import copy
import json
import os
import pickle
import re
import subprocess
import sys
from importlib.machinery import ExtensionFileLoader
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from typing import Any

import pytest

from sim import compiled
from sim.compiled.build import build, cannot_build

ROOT = Path(__file__).resolve().parents[2]

# Runs a short graph model with breakers, retries, pools and an incident; prints its
# numbers and the modules that came from a build.
RUN = """
import json, sim
from sim.engine.replication import run_replication
model = sim.load("models/slow_database.yaml").model_copy(update={"horizon": 120.0})
output = run_replication(model, 0, 7)
print(json.dumps(sim.compiled.loaded()))
print(json.dumps(output.metrics, default=repr, sort_keys=True))
"""


def _run(switch: str | None) -> tuple[list[str], str]:
    """The modules loaded from builds, and the numbers as text (NaN equal to NaN)."""
    env = dict(os.environ)
    env.pop(compiled.SWITCH, None)
    if switch is not None:
        env[compiled.SWITCH] = switch
    done = subprocess.run(
        [sys.executable, "-c", RUN], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    loaded, metrics = done.stdout.splitlines()
    return json.loads(loaded), metrics


def test_a_build_is_found_only_for_the_source_it_was_built_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compiled, "CACHE", tmp_path)
    name = "sim.measure.gauge"
    finder = compiled.CompiledFinder()
    stale = compiled.build_of(name, compiled.source_of(name).read_bytes() + b"\n# edited\n")
    stale.touch()
    assert finder.find_spec(name) is None  # an edited source: its build is not this one
    assert compiled.missing().count(name) == 1
    current = compiled.build_of(name)
    current.touch()
    spec = finder.find_spec(name)
    assert spec is not None and spec.origin == str(current)
    assert isinstance(spec.loader, ExtensionFileLoader)
    assert name not in compiled.missing()
    assert finder.find_spec("sim.model") is None  # not one of the compiled modules


def test_every_compiled_module_has_its_source() -> None:
    for name in compiled.MODULES:
        assert compiled.source_of(name).is_file(), name
    assert "sim.engine.kernel" not in compiled.MODULES  # numba's


def test_the_switch_runs_every_module_from_its_source() -> None:
    assert _run("0")[0] == []


def test_a_compiled_run_gives_the_numbers_of_its_source() -> None:
    from_source, default = _run("0"), _run(None)
    assert default[1] == from_source[1]
    reason = cannot_build()
    if reason is None:  # make builds them before the tests; plain pytest may run on edits
        assert default[0], "nothing compiled is built: run `python -m sim.compiled`"


def test_a_module_builds_and_behaves_as_its_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = cannot_build()
    if reason:
        pytest.skip(reason)
    monkeypatch.setattr(compiled, "CACHE", tmp_path)
    name = "sim.measure.gauge"
    older = compiled.build_of(name, b"an older source")
    older.touch()
    assert build([name]) == [name]
    assert [path.name for path in tmp_path.iterdir()] == [compiled.build_of(name).name]
    spec = compiled.CompiledFinder().find_spec(name)
    assert spec is not None and spec.loader is not None
    native = spec.loader.create_module(spec)  # type: ignore[attr-defined]
    spec.loader.exec_module(native)  # type: ignore[union-attr]
    assert native.__file__ == spec.origin and "cython" in repr(type(native.Gauge.add)).lower()
    source_spec = spec_from_file_location("gauge_from_source", compiled.source_of(name))
    assert source_spec is not None and source_spec.loader is not None
    source = module_from_spec(source_spec)
    source_spec.loader.exec_module(source)
    gauges = [native.Gauge(1.0, 4), source.Gauge(1.0, 4)]
    for gauge in gauges:
        for now, delta in [(0.25, 1), (0.5, 2), (1.75, -1), (2.5, 3), (3.9, -5)]:
            gauge.add(now, delta)
    # repr: an int stays an int, as in the source (Cython would make a float-hinted one a
    # C double by default)
    assert [repr((g.area, g.bins, g.peak, g.value)) for g in gauges[:1]] == [
        repr((g.area, g.bins, g.peak, g.value)) for g in gauges[1:]
    ]
    # built as an extension type (its declarations were found), which copies and pickles
    assert type(vars(native.Gauge)["area"]).__name__ == "getset_descriptor"
    assert type(vars(source.Gauge)["area"]).__name__ == "member_descriptor"
    for again in (copy.copy(gauges[0]), pickle.loads(pickle.dumps(_imported_gauge(gauges[0])))):
        assert repr((again.area, again.bins, again.t)) == repr(
            (gauges[0].area, gauges[0].bins, gauges[0].t)
        )


def _imported_gauge(like: Any) -> Any:
    """A gauge of the imported module (a build, where built: pickles name their module)
    in ``like``'s state."""
    from sim.measure.gauge import Gauge

    gauge = Gauge(like.width, len(like.bins))
    for name in ("value", "t", "area", "peak", "bins", "index", "edge"):
        setattr(gauge, name, getattr(like, name))
    return gauge


def test_a_modules_declarations_are_part_of_its_builds_name() -> None:
    declared = "sim.measure.gauge"
    assert compiled.declarations_of(declared).is_file()
    source = compiled.source_of(declared).read_bytes()
    assert compiled.build_of(declared) != compiled.build_of(declared, source)
    plain = "sim.engine.clock"  # no declarations
    assert not compiled.declarations_of(plain).is_file()
    assert compiled.build_of(plain) == compiled.build_of(
        plain, compiled.source_of(plain).read_bytes()
    )


def test_a_module_is_built_with_the_declarations_it_cimports() -> None:
    """A service's build calls its recorder's and pools' methods as C: it cimports their
    declarations, directly and through theirs."""
    assert set(compiled.cimports_of("sim.engine.service")) >= {
        "sim.engine.pool",
        "sim.engine.replica",
        "sim.engine.tasks",
        "sim.measure.gauge",
        "sim.measure.recorders",
    }
    assert compiled.cimports_of("sim.measure.gauge") == ()
    _source, declarations = compiled.read_inputs("sim.engine.service")
    assert set(declarations) == {"sim.engine.service", *compiled.cimports_of("sim.engine.service")}


def _tree(tmp_path: Path) -> Path:
    """A copy of the compiled modules' sources and declarations: the ``sim`` package."""
    package = tmp_path / "sim"
    for name in compiled.MODULES:
        for path in (compiled.source_of(name), compiled.declarations_of(name)):
            if path.is_file():
                copy_to = package / path.relative_to(compiled.PACKAGE)
                copy_to.parent.mkdir(parents=True, exist_ok=True)
                copy_to.write_bytes(path.read_bytes())
    return package


def test_a_build_is_named_by_the_declarations_it_cimports_not_their_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit to a gauge's declarations changes the layout a service's build assumes:
    a new build. An edit to the gauge's source does not."""
    monkeypatch.setattr(compiled, "PACKAGE", _tree(tmp_path))
    service, gauge = "sim.engine.service", "sim.measure.gauge"
    before = compiled.build_of(service)
    with compiled.source_of(gauge).open("a") as source:
        source.write("\n# edited\n")
    assert compiled.build_of(service) == before
    with compiled.declarations_of(gauge).open("a") as declarations:
        declarations.write("\n# edited\n")
    assert compiled.build_of(service) != before


def test_a_build_is_used_only_beside_the_builds_it_cimports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that calls a gauge as C would fail to import beside the gauge's source (or
    its build of other declarations): the module then runs from its source too."""
    monkeypatch.setattr(compiled, "CACHE", tmp_path)
    name = "sim.measure.recorders"  # cimports the gauge only
    (gauge,) = compiled.cimports_of(name)
    finder = compiled.CompiledFinder()
    compiled.build_of(name).touch()
    monkeypatch.delitem(sys.modules, gauge, raising=False)
    assert finder.find_spec(name) is None  # the gauge has no build
    compiled.build_of(gauge).touch()
    assert finder.find_spec(name) is not None  # it will come from its build
    source = type(sys)(gauge)
    source.__file__ = str(compiled.source_of(gauge))
    monkeypatch.setitem(sys.modules, gauge, source)
    assert finder.find_spec(name) is None  # imported from its source already


def _declared(pxd: str) -> dict[str, tuple[str | None, set[str]]]:
    """The extension types a ``.pxd`` declares: each one's base and attributes."""
    classes: dict[str, tuple[str | None, set[str]]] = {}
    current: set[str] = set()
    for line in pxd.splitlines():
        if match := re.match(r"cdef class (\w+)(?:\((\w+)\))?:", line):
            current = set()
            classes[match[1]] = (match[2], current)
        elif (match := re.match(r"\s+cdef (.+)", line)) and "(" not in line:  # not a method
            first, *others = match[1].split(",")  # [public] type name, name, ...
            current.update([first.split()[-1], *(name.strip() for name in others)])
    return classes


def _cimported(name: str) -> set[str]:
    """The extension types module ``name``'s declarations cimport from other modules."""
    return {
        cls
        for module in compiled.cimports_of(name)
        for cls in _declared(compiled.declarations_of(module).read_text())
    }


def _assigned(cls: ast.ClassDef) -> set[str]:
    """The attributes ``cls``'s methods set on ``self``."""
    names: set[str] = set()
    for node in ast.walk(cls):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            for part in ast.walk(target):
                if (
                    isinstance(part, ast.Attribute)
                    and isinstance(part.value, ast.Name)
                    and part.value.id == "self"
                ):
                    names.add(part.attr)
    return names


def _setters(cls: ast.ClassDef) -> set[str]:
    """The properties ``cls`` defines a setter for (set through the property, not stored)."""
    return {
        node.name
        for node in cls.body
        if isinstance(node, ast.FunctionDef)
        for decorator in node.decorator_list
        if isinstance(decorator, ast.Attribute) and decorator.attr == "setter"
    }


@pytest.mark.parametrize(
    "name",
    [
        name
        for name in compiled.MODULES
        if compiled.declarations_of(name).is_file()
        and "cdef class" in compiled.declarations_of(name).read_text()
    ],
)
def test_an_extension_type_declares_every_attribute_its_source_sets(name: str) -> None:
    """An attribute missing from the declarations would be an AttributeError in the build
    only: caught here, from the source, whether or not the machine can build."""
    declared = _declared(compiled.declarations_of(name).read_text())
    for module in compiled.cimports_of(name):  # bases declared in the modules it cimports
        declared = {**_declared(compiled.declarations_of(module).read_text()), **declared}
    tree = ast.parse(compiled.source_of(name).read_text())
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    assert declared, name
    for cls, (base, attributes) in declared.items():
        if cls not in classes and cls in _cimported(name):
            continue
        assert cls in classes, f"{name}: {cls} is declared but not defined"
        inherited = declared[base][1] if base else set()
        missing = _assigned(classes[cls]) - _setters(classes[cls]) - attributes - inherited
        assert not missing, f"{name}.{cls}: declare {sorted(missing)} in its .pxd"
        assert not attributes & _setters(classes[cls]), f"{name}.{cls}: a property is declared"


def test_a_machine_that_cannot_build_is_told_so_and_the_command_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.compiled import __main__ as command
    from sim.compiled import build as building

    monkeypatch.setattr(compiled, "CACHE", tmp_path / "builds")  # nothing built there
    monkeypatch.setattr(building, "cannot_build", lambda: "no C compiler (cc)")
    assert command.main([]) == 0
    out = capsys.readouterr().out
    assert "not built (no C compiler (cc)); the engine runs from its source" in out
    (tmp_path / "builds").mkdir()
    assert command.main(["--clean"]) == 0 and not (tmp_path / "builds").exists()
    assert command.main(["--what"]) == 2
