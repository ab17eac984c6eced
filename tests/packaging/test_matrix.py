"""The dependency matrix's files (requirements/matrix/*.txt) test what pyproject promises.

``bash scripts/test`` runs the matrix itself (scripts/matrix); these checks keep its
declarations honest in every run, --fast included: each floor in pyproject.toml is the
version a matrix venv pins, every protobuf version runs with both implementations, the
newest pins are not older than the main suite's, and every path a run names exists.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys

import pytest

from conftest import ROOT


def load_runner():
    spec = importlib.util.spec_from_file_location("tightbind_matrix", ROOT / "scripts" /
                                                  "_matrix.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


runner = load_runner()
DEPENDENCIES = runner.DEPENDENCIES
CELLS = [runner.Cell.read(path) for path in sorted(runner.MATRIX.glob("*.txt"))]


def release(version: str) -> tuple[int, ...]:
    """``"9.2"`` -> (9, 2, 0): releases compared with missing parts as zeros."""
    parts = [int(part) for part in version.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def pins(cell) -> dict[str, str]:
    """``{name: version}`` of the cell's ``name==version`` lines."""
    found = {}
    for line in cell.requirements:
        name = runner.requirement_name(line)
        if name and "==" in line:
            found[name] = line.split("==", 1)[1].strip()
    return found


def pyproject_floors() -> dict[str, list[str]]:
    """Every ``name>=version`` requirement string in pyproject.toml, by name."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    floors: dict[str, list[str]] = {}
    for name, version in re.findall(r'"([A-Za-z0-9_.-]+)>=([0-9.]+)"', text):
        floors.setdefault(runner.canonical(name), []).append(version)
    return floors


@pytest.mark.parametrize("name", DEPENDENCIES)
def test_each_floor_is_a_matrix_pin(name):
    floors = pyproject_floors()[name]
    assert len(set(floors)) == 1, f"pyproject.toml gives {name} two floors: {floors}"
    pinned = [pins(cell).get(name) for cell in CELLS]
    assert any(v is not None and release(v) == release(floors[0]) for v in pinned), (
        f"no requirements/matrix file pins {name}=={floors[0]}, pyproject.toml's floor")


@pytest.mark.parametrize("name", DEPENDENCIES)
def test_pins_lie_within_the_allowed_range(name):
    floor = release(pyproject_floors()[name][0])
    main = runner.main_pins()[name].split("==")[1]
    assert release(main) >= floor, f"requirements/test.txt pins {name} below its floor"
    for cell in CELLS:
        version = pins(cell).get(name)
        if version is not None:
            assert release(version) >= floor, (cell.name, version)


def test_every_protobuf_version_runs_with_both_implementations():
    main = runner.main_pins()["protobuf"].split("==")[1]
    seen: dict[str, set[str]] = {main: {"upb"}}  # the main suite runs its pin with upb
    for cell in CELLS:
        version = pins(cell).get("protobuf")
        if version is None and "protobuf" in map(runner.requirement_name, cell.requirements):
            version = main  # unpinned here: requirements/test.txt's pin
        for run in cell.runs:
            if version is not None and any("framing" in arg for arg in run.args):
                implementation = run.env.get("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "upb")
                seen.setdefault(version, set()).add(implementation)
    assert len(seen) >= 4, seen  # the floor, 5.x, 6.x and the newest
    for version, implementations in seen.items():
        assert implementations == {"upb", "python"}, (version, implementations)


@pytest.mark.parametrize("cell", CELLS, ids=[cell.name for cell in CELLS])
def test_runs_name_existing_tests(cell):
    for run in cell.runs:
        paths = [arg.split("=", 1)[-1].split("::")[0] for arg in run.args
                 if arg.startswith(("tests", "--ignore", "--deselect"))]
        assert paths, f"{cell.name}: a run names no tests: {shlex.join(run.args)}"
        for path in paths:
            assert (ROOT / path).exists(), f"{cell.path.name} names {path}, which is gone"


def test_a_tree_that_is_no_git_checkout_gives_the_same_sources(tmp_path, monkeypatch):
    """Unpacked from an archive (no .git), the tree gives the matrix the files git lists
    in a checkout, and none of the set-up's venv, build output or in-place modules."""
    in_checkout = runner.tree_files()
    tree = tmp_path / "tree"
    for relative in in_checkout:
        (tree / relative).parent.mkdir(parents=True, exist_ok=True)
        (tree / relative).write_bytes((ROOT / relative).read_bytes())
    for junk in (".venv/bin/python", "build/wheel/x.whl", "python/tightbind/_ocr.abi3.so",
                 "python/tightbind/__pycache__/api.cpython-311.pyc", "wheelhouse/a.whl"):
        (tree / junk).parent.mkdir(parents=True, exist_ok=True)
        (tree / junk).write_bytes(b"")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.setattr(runner, "ROOT", tree)
    assert sorted(runner.tree_files()) == sorted(in_checkout)
