"""Fixtures of the command-line tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def run_cli() -> RunCli:
    """``run_cli(*args, timeout=300, cwd="/")`` runs ``python -m tightbind ARGS`` in a child
    process and returns the finished process (text output, never raising on exit status)."""

    def run(*args: str, timeout: float = 300, cwd: str = "/",
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tightbind", *args], capture_output=True,
                              text=True, timeout=timeout, cwd=cwd, check=False)

    return run
