"""The house style's mechanical part: ruff and mypy are clean over the sources."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import ROOT


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                          cwd=ROOT, check=False)


def test_ruff_clean():
    if shutil.which("ruff") is None and run_tool("ruff", "--version").returncode:
        pytest.skip("ruff is not installed (requirements/test.txt pins it)")
    result = run_tool("ruff", "check", "python", "bench", "tests", "docs", "build_ffi.py",
                      "setup.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_clean():
    if run_tool("mypy", "--version").returncode:
        pytest.skip("mypy is not installed (requirements/test.txt pins it)")
    result = run_tool("mypy", "python/tightbind", "python/protobufp", "bench")
    assert result.returncode == 0, result.stdout + result.stderr
