"""Running a peer package's own test suite against a tightbind face.

Shared by the suites of tesserocr (tests/ocr/test_tesserocr_suite.py), pytesseract
(tests/ocr/test_pytesseract_suite.py) and pyOpenSSL (tests/tls/test_crypto_pyopenssl_suite.py):
the cache folder, the sdist fetched from PyPI with its SHA-256 checked, the child's
PYTHONPATH with the stand-in package first, and the JUnit report read back.
Third-party sources are fetched at test time into the cache, never into the clone.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from bench._venvs import locked


def cache_dir(name: str) -> Path:
    """``~/.cache/tightbind/<name>`` (or ``$TIGHTBIND_CACHE/<name>``)."""
    base = os.environ.get("TIGHTBIND_CACHE") or Path.home() / ".cache" / "tightbind"
    return Path(base) / name


def fetch_sdist(project: str, version: str, filename: str, sha256: str,
                folder: Path) -> Path:
    """``project``'s sdist ``filename`` from PyPI into ``folder`` (kept there), its
    SHA-256 checked."""
    path = folder / filename
    with locked(path):  # the test command's two lanes may both want it
        if not path.exists():
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                 "--disable-pip-version-check", "-d", str(folder), f"{project}=={version}"],
                capture_output=True, text=True, timeout=600, check=False)
            assert path.exists(), \
                f"cannot download {filename} from PyPI:\n{done.stdout}\n{done.stderr}"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == sha256, f"{path} has SHA-256 {digest}, not {sha256}"
    return path


def write_atomically(path: Path, text: str) -> None:
    """Write a cache file whole or not at all: another process may read it meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text)
    os.replace(partial, path)


def child_pythonpath(*first: Path) -> str:
    """A child's PYTHONPATH: ``first`` (the stand-in packages), then this process's own
    (the installed tightbind, or the tree's in the --fast loop: never the tree's
    sources by themselves, which have no native modules in a full run)."""
    inherited = [os.path.abspath(entry)
                 for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    return os.pathsep.join([*map(str, first), *inherited])


@dataclass(frozen=True)
class Case:
    """One test of a JUnit report: pytest's class path, the test's name, passed,
    failed (a failure or an error) or skipped, and the message of that outcome."""

    classname: str
    name: str
    outcome: str
    message: str = ""

    @property
    def id(self) -> str:
        return f"{self.classname}::{self.name}"


def junit_cases(report: Path) -> list[Case]:
    """The tests of a JUnit XML report written by ``pytest --junitxml``."""
    cases = []
    for node in ET.parse(report).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for tag, name in (("failure", "failed"), ("error", "failed"), ("skipped", "skipped")):
            found = node.find(tag)
            if found is not None:
                outcome, message = name, (found.get("message") or "").strip()
                break
        cases.append(Case(node.get("classname", ""), node.get("name", ""), outcome, message))
    return cases
