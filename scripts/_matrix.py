"""The dependency matrix (run by ``bash scripts/matrix``; see that script for the usage).

Each file ``requirements/matrix/<name>.txt`` is one virtual environment: a pip
requirements file naming the versions under test, and comment lines that say what to do
with it::

    # run: [NAME=value ...] PYTEST ARGS      one pytest run in the venv (one or more)
    # build: source                          build tightbind from the tree with this venv's
                                             cffi, instead of installing the shared wheel

Packages the file names without a version, and the test runner (pytest, hypothesis,
cffi), are pinned as ``requirements/test.txt`` and ``build.txt`` pin them, so a matrix
venv differs from the main one only in what it is there to test.

The venvs live in ``$TIGHTBIND_MATRIX_DIR`` (default ``~/.cache/tightbind/matrix``),
outside the clone, and are reused while the interpreter and the file's requirements are
unchanged and every package installed from requirements/ still has its pinned version:
editing a ``# run:`` line, or bumping a pin the venv does not hold, keeps the venv.
tightbind itself is reinstalled every time: a wheel built once from the tree, or
(``build: source``) a build in a copy of the tree.
Each run's output goes to ``<venv>/last-run-<n>.log``; a failing run's tail is printed.
The last line counts the runs: ``matrix: N passed, N failed``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MATRIX = ROOT / "requirements" / "matrix"
PINNED = [ROOT / "requirements" / "test.txt", ROOT / "requirements" / "build.txt"]
# Every matrix venv runs the tests with these, pinned as in PINNED unless the file pins them.
BASE = ["cffi", "pytest", "hypothesis"]
# The dependencies whose ranges the matrix covers (pyproject.toml's floors).
DEPENDENCIES = ["protobuf", "pillow", "numpy", "cffi"]
# Bump to rebuild every venv after a change to how they are made.
RECIPE = "1"
RUN_TIMEOUT = 1200  # seconds for one pytest run
INSTALL_TIMEOUT = 900  # seconds for one pip or build command
PIP = ["-m", "pip", "--disable-pip-version-check", "-q"]

_print_lock = threading.Lock()


def say(message: str) -> None:
    with _print_lock:
        print(f"[matrix] {message}", flush=True)


def canonical(name: str) -> str:
    """A package name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str | None:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return canonical(match.group(1)) if match else None


def main_pins() -> dict[str, str]:
    """``name==version`` lines of requirements/test.txt and build.txt, by name."""
    pins: dict[str, str] = {}
    for path in PINNED:
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            name = requirement_name(line)
            if name and "==" in line:
                pins[name] = line
    return pins


@dataclass
class Run:
    env: dict[str, str]
    args: list[str]

    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.env.items()) or "defaults"


@dataclass
class Cell:
    """One requirements/matrix/<name>.txt: a venv and the pytest runs made in it."""

    name: str
    path: Path
    requirements: list[str] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    build_from_source: bool = False

    @classmethod
    def read(cls, path: Path) -> Cell:
        cell = cls(path.stem, path)
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if line.startswith("# run:"):
                words = shlex.split(line[len("# run:"):])
                env = {}
                while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
                    key, value = words.pop(0).split("=", 1)
                    env[key] = value
                cell.runs.append(Run(env, words))
            elif line.startswith("# build:"):
                if line[len("# build:"):].strip() != "source":
                    raise SystemExit(f"{path}: unknown build: line {line!r}")
                cell.build_from_source = True
            elif line and not line.startswith("#"):
                cell.requirements.append(line)
        if not cell.runs:
            raise SystemExit(f"{path}: no '# run:' line")
        return cell

    def pinned_here(self) -> set[str]:
        names = set()
        for line in self.requirements:
            name = requirement_name(line)
            if name and "==" in line:
                names.add(name)
        return names

    def constraints(self, pins: dict[str, str]) -> str:
        """The main pins this venv takes: all but those the file pins itself."""
        mine = self.pinned_here()
        return "".join(f"{line}\n" for name, line in sorted(pins.items()) if name not in mine)

    def key(self, python: str) -> str:
        """What the venv is made from, but for the main pins (checked one by one)."""
        text = json.dumps([RECIPE, python, self.requirements])
        return hashlib.sha256(text.encode()).hexdigest()


# What a tree unpacked from an archive (no .git) holds beside its sources: the set-up's
# venv, build output and caches, and modules built in place.
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "wheelhouse", "dist",
                                     "*.egg-info", "__pycache__", ".pytest_cache",
                                     ".hypothesis", "*.so", "*.pyc")


def tree_files() -> list[str]:
    """The tree's files, relative to it: in a git checkout the tracked ones and the
    untracked ones git does not ignore; in a tree that is not one (an unpacked archive),
    every file but NOT_SOURCES."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
         "--exclude-standard"], capture_output=True, check=False)
    if listed.returncode == 0:
        return [name for name in listed.stdout.decode().split("\0") if name]
    files = []
    for folder, subfolders, names in os.walk(ROOT):
        ignored = NOT_SOURCES(folder, subfolders + names)
        subfolders[:] = sorted(d for d in subfolders if d not in ignored)
        files += [os.path.relpath(os.path.join(folder, n), ROOT)
                  for n in sorted(names) if n not in ignored]
    return files


def run_logged(command: list[str], log: Path, timeout: int, **kwargs) -> int:
    """Run ``command`` with its output appended to ``log``; return its exit status."""
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {shlex.join(command)}\n")
        out.flush()
        try:
            return subprocess.run(command, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=timeout,
                                  **kwargs).returncode
        except subprocess.TimeoutExpired:
            out.write(f"timed out after {timeout} s\n")
            return 124


def installed(python: Path) -> dict[str, str]:
    """``{name: version}`` of what the venv of ``python`` holds (empty if it cannot tell)."""
    code = ("import json, importlib.metadata as m; "
            "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))")
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                            timeout=120)
    if result.returncode:
        return {}
    return {canonical(name): version for name, version in json.loads(result.stdout).items()}


def tail(log: Path, lines: int = 60) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


class Matrix:
    def __init__(self, cache: Path, python: str) -> None:
        self.cache = cache
        self.python = python
        self.version = subprocess.run(
            [python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True,
            check=True).stdout.strip()
        self.pins = main_pins()
        self.work = Path(tempfile.mkdtemp(prefix="tightbind-matrix-"))
        self._wheel: Path | None = None
        self._wheel_lock = threading.Lock()
        self._source: Path | None = None

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)

    def child_env(self, **updates: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
               and not k.startswith(("COVERAGE_", "PROTOCOL_BUFFERS_"))}
        env["PIP_NO_INPUT"] = "1"
        return {**env, **updates}

    def wheel(self, log: Path) -> Path:
        """tightbind's wheel, built once from the tree with the main venv's cffi."""
        with self._wheel_lock:
            if self._wheel is None:
                out = self.work / "wheel"
                status = run_logged(
                    [sys.executable, *PIP, "wheel", "--no-build-isolation", "--no-deps",
                     "-w", str(out), str(ROOT)],
                    log, INSTALL_TIMEOUT, env=self.child_env(TIGHTBIND_REQUIRE="all"))
                wheels = sorted(out.glob("tightbind-*.whl"))
                if status or not wheels:
                    raise RuntimeError(f"building tightbind's wheel failed (see {log})")
                self._wheel = wheels[0]
            return self._wheel

    def source_copy(self, name: str) -> Path:
        """A copy of the tree's files (see tree_files)."""
        target = self.work / f"src-{name}"
        for relative in tree_files():
            source = ROOT / relative
            if source.is_file():
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination)
        return target

    def prepare(self, cell: Cell) -> tuple[Path, Path]:
        """Create or reuse the cell's venv and install tightbind into it; return the venv's
        python and the setup log."""
        venv = self.cache / cell.name
        python = venv / "bin" / "python"
        key = cell.key(self.version)
        stamp = venv / "matrix-key.json"
        log = self.work / f"{cell.name}-setup.log"
        wanted = cell.constraints(self.pins).splitlines()
        try:
            made = json.loads(stamp.read_text(encoding="utf-8"))
            # Stale when the file changed or a main pin the venv holds has moved.
            fresh = (not python.exists() or made["key"] != key
                     or not set(made["held"]) <= set(wanted))
        except (OSError, ValueError, KeyError, TypeError):
            fresh = True
        env = self.child_env()
        if fresh:
            say(f"{cell.name}: creating {venv}")
            shutil.rmtree(venv, ignore_errors=True)
            constraints = self.work / f"{cell.name}-constraints.txt"
            constraints.write_text(cell.constraints(self.pins), encoding="utf-8")
            steps = [
                [self.python, "-m", "venv", str(venv)],
                [str(python), *PIP, "install", "-r", str(cell.path), "-c", str(constraints),
                 *[name for name in BASE if name not in cell.pinned_here()]],
            ]
            for step in steps:
                if run_logged(step, log, INSTALL_TIMEOUT, env=env):
                    raise RuntimeError(f"setting up {venv} failed:\n{tail(log)}")
            # The main pins this venv holds (not, say, the setuptools venv bundles).
            have = installed(python)
            held = [line for line in wanted
                    if have.get(requirement_name(line) or "") == line.split("==", 1)[1]]
            stamp.write_text(json.dumps({"key": key, "held": held}), encoding="utf-8")
        if cell.build_from_source:
            source = self.source_copy(cell.name)
            step = [str(python), *PIP, "install", "--no-build-isolation", "--no-deps",
                    "--force-reinstall", str(source)]
            what = "building tightbind with this venv's cffi"
            status = run_logged(step, log, INSTALL_TIMEOUT,
                                env=self.child_env(TIGHTBIND_REQUIRE="all"))
        else:
            step = [str(python), *PIP, "install", "--no-deps", "--force-reinstall",
                    str(self.wheel(log))]
            what = "installing tightbind's wheel"
            status = run_logged(step, log, INSTALL_TIMEOUT, env=env)
        if status:
            raise RuntimeError(f"{cell.name}: {what} failed:\n{tail(log)}")
        return python, log

    def run_cell(self, cell: Cell) -> list[tuple[str, bool]]:
        """Prepare the cell's venv and make its runs; return (label, passed) per run."""
        started = time.monotonic()
        try:
            python, _ = self.prepare(cell)
        except RuntimeError as exc:
            say(f"{cell.name}: FAILED to set up: {exc}")
            return [(f"{cell.name} ({run.label()})", False) for run in cell.runs]
        say(f"{cell.name}: ready in {time.monotonic() - started:.0f} s")
        results = []
        for index, run in enumerate(cell.runs, start=1):
            label = f"{cell.name} ({run.label()})"
            log = python.parent.parent / f"last-run-{index}.log"
            log.unlink(missing_ok=True)
            started = time.monotonic()
            status = run_logged(
                [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *run.args],
                log, RUN_TIMEOUT, cwd=ROOT, env=self.child_env(**run.env))
            summary = tail(log, 1).strip("= ")
            took = time.monotonic() - started
            if status:
                say(f"{label}: FAILED ({summary}; {took:.0f} s); the log's end, from {log}:\n"
                    f"{tail(log)}")
            else:
                say(f"{label}: {summary} ({took:.0f} s)")
            results.append((label, status == 0))
        return results


def newest(cells: list[Cell]) -> int:
    """Print, per dependency, the versions tested and the registry's newest release."""
    tested: dict[str, set[str]] = {name: set() for name in DEPENDENCIES}
    for line in [*main_pins().values(), *(r for cell in cells for r in cell.requirements)]:
        name = requirement_name(line)
        if name in tested and "==" in line:
            tested[name].add(line.split("==", 1)[1].strip())
    for name, versions in tested.items():
        result = subprocess.run([sys.executable, "-m", "pip", "index", "versions", name],
                                capture_output=True, text=True, timeout=120)
        match = re.search(rf"^{name}\s+\((\S+)\)", result.stdout, re.I | re.M)
        ordered = sorted(versions, key=lambda v: [int(x) for x in re.findall(r"\d+", v)])
        print(f"{name:10} newest on the registry: {match.group(1) if match else '?':10} "
              f"tested: {', '.join(ordered)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cells", nargs="*", help="matrix files to run (default: all)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("TIGHTBIND_MATRIX_JOBS",
                                                                       "2")))
    parser.add_argument("--list", action="store_true", help="list the cells and runs")
    parser.add_argument("--newest", action="store_true",
                        help="ask the registry for each dependency's newest release")
    options = parser.parse_args()
    cells = [Cell.read(path) for path in sorted(MATRIX.glob("*.txt"))]
    if options.cells:
        unknown = set(options.cells) - {cell.name for cell in cells}
        if unknown:
            parser.error(f"unknown cells {sorted(unknown)}; see --list")
        cells = [cell for cell in cells if cell.name in options.cells]
    python = getattr(sys, "_base_executable", sys.executable)
    if options.list:
        for cell in cells:
            for run in cell.runs:
                print(f"{cell.name:16} {run.label():45} {shlex.join(run.args)}")
        return 0
    if options.newest:
        return newest(cells)
    cache = Path(os.environ.get("TIGHTBIND_MATRIX_DIR")
                 or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                 / "tightbind" / "matrix")
    cache.mkdir(parents=True, exist_ok=True)
    matrix = Matrix(cache, python)
    started = time.monotonic()
    say(f"{sum(len(c.runs) for c in cells)} runs in {len(cells)} venvs under {cache}, "
        f"{options.jobs} at a time, on Python {matrix.version.split()[0]}")
    try:
        with concurrent.futures.ThreadPoolExecutor(max(1, options.jobs)) as pool:
            results = [r for rs in pool.map(matrix.run_cell, cells) for r in rs]
    finally:
        matrix.close()
    failed = [label for label, passed in results if not passed]
    say(f"took {time.monotonic() - started:.0f} s" +
        (f"; failed: {', '.join(failed)}" if failed else ""))
    print(f"matrix: {len(results) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
