"""Interpreters the benchmarks run contenders in: the built wheel, peers' own venvs."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["locked", "tightbind_wheel", "venv_python", "wheel_python"]


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``.lock while a cached thing at ``path`` is made,
    so two processes (the test command's two lanes, two benches) never make it at once:
    the second waits, then finds it made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def tightbind_wheel() -> Path | None:
    override = os.environ.get("TIGHTBIND_BENCH_WHEEL")
    if override:
        return Path(override)
    wheels = sorted(Path.cwd().glob("wheelhouse/tightbind-*manylinux*.whl"))
    return wheels[-1] if wheels else None


def venv_python(name: str, requirements: list[str], key: str = "") -> tuple[Path | None, str]:
    """A virtual environment under the bench cache holding ``requirements`` (made once,
    remade when they or ``key`` change); returns its python, or None and the reason."""
    cache = Path(os.environ.get("TIGHTBIND_BENCH_VENVS",
                                Path.home() / ".cache" / "tightbind" / "bench"))
    venv = cache / name
    python = venv / "bin" / "python"
    stamp = venv / "requirements.json"
    wanted = json.dumps([requirements, key])
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python, ""
    with locked(venv):
        if python.exists() and stamp.exists() and stamp.read_text() == wanted:
            return python, ""  # made by another process meanwhile
        return _make_venv(venv, requirements, wanted)


def _make_venv(venv: Path, requirements: list[str], wanted: str) -> tuple[Path | None, str]:
    python = venv / "bin" / "python"
    stamp = venv / "requirements.json"
    base = getattr(sys, "_base_executable", sys.executable)
    steps = [[base, "-m", "venv", "--clear", str(venv)],
             [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
              *requirements]]
    # Without PYTHONPATH: a source tree on it (its tightbind.egg-info) would make pip
    # take tightbind as installed already and skip the wheel.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False, env=env)
        if done.returncode:
            return None, (done.stderr.strip().splitlines() or ["failed"])[-1]
    stamp.write_text(wanted)
    return python, ""


def wheel_python(notes: list[str]) -> Path | None:
    """A python with the built wheel installed (venv ``tightbind-wheel``), or None with
    the reason added to ``notes``."""
    wheel = tightbind_wheel()
    if wheel is None:
        notes.append("no tightbind wheel (bash scripts/build-wheels, or set "
                     "TIGHTBIND_BENCH_WHEEL): its row is left out")
        return None
    built = wheel.stat()
    python, why = venv_python("tightbind-wheel", [str(wheel.resolve())],
                              key=f"{built.st_size}:{built.st_mtime_ns}")
    if python is None:
        notes.append(f"could not install {wheel.name}: {why}")
    return python
