"""Fixtures shared by the packaging tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
WHEELS = sorted((ROOT / "wheelhouse").glob("tightbind-*manylinux*x86_64.whl"))


def clean_env(**updates: str) -> dict[str, str]:
    """This process's environment without what would point a child at the tree's
    tightbind or its libraries."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "TESSDATA_PREFIX", "VIRTUAL_ENV", "OPENSSL_MODULES")}
    env.update(updates)
    return env


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """``wheel_venv(base)``: the python of a venv of the CPython ``base`` holding the
    built wheel and requirements/wheel-test.txt, made once per interpreter per session,
    so test_wheel.py (the suite and its smoke subset) and test_platforms.py (the smoke
    program) share one install per interpreter."""
    made: dict[Path, Path] = {}

    def get(base: Path) -> Path:
        key = Path(base).resolve()
        if key not in made:
            venv = tmp_path_factory.mktemp(f"wheel-venv-{key.parent.parent.name}")
            subprocess.run([str(base), "-m", "venv", str(venv)], check=True, timeout=300)
            python = venv / "bin" / "python"
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                 str(WHEELS[-1]), "-r", str(ROOT / "requirements" / "wheel-test.txt")],
                check=True, env=clean_env(), timeout=1200)
            made[key] = python
        return made[key]

    return get
