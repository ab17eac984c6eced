"""Fixtures of the command-line tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def run_cli() -> RunCli:
    """``run_cli(*args, timeout=300, cwd="/", env=None)`` runs ``python -m tightbind ARGS``
    in a child process with no standard input and returns the finished process (text
    output, never raising on exit status).  ``env`` adds variables; a password variable
    of the user's (TIGHTBIND_P12_PASSWORD) is never inherited."""

    def run(*args: str, timeout: float = 300, cwd: str = "/",
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        inherited = {k: v for k, v in os.environ.items() if k != "TIGHTBIND_P12_PASSWORD"}
        return subprocess.run([sys.executable, "-m", "tightbind", *args], capture_output=True,
                              text=True, timeout=timeout, cwd=cwd, stdin=subprocess.DEVNULL,
                              env={**inherited, **(env or {})}, check=False)

    return run
