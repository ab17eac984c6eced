"""The documentation site builds cleanly, links hold, and it lists what it must.

The build runs Sphinx as ``bash scripts/docs`` does: every warning is an error, every
cross-reference must resolve (nitpicky), and MyST reports a Markdown link to a page or
anchor that does not exist.  The pages' examples run in test_readme.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")

LINK = re.compile(r"\]\((?!https?://|mailto:|#)([^)#\s]+)(?:#[^)]*)?\)")


def test_docs_build_with_warnings_as_errors(tmp_path):
    out = tmp_path / "html"
    run = subprocess.run(
        [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-n", "-q",
         "-b", "html", "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert run.returncode == 0, run.stderr[-6000:]
    assert not run.stderr.strip(), run.stderr[-6000:]
    # The reference covers every public module, and the charts were drawn.
    pages = {path.name for path in (out / "reference" / "api").glob("*.html")}
    for module in ("tightbind.framing.processor", "tightbind.ocr.api", "tightbind.tls.x509",
                   "tightbind.tls.crypto.x509", "protobufp.processor", "tightocr"):
        assert f"{module}.html" in pages
    charts = list((out / "_images").glob("*.png"))
    assert charts, "the benchmarks page shows no chart"


def markdown_files():
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md"]
    return files + sorted(p for p in (ROOT / "docs").rglob("*.md") if "api" not in p.parts)


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_at_files(path):
    """GitHub renders the README and CHANGELOG: their links must hold there too."""
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    missing = [target for target in LINK.findall(text)
               if not (path.parent / target).exists()]
    assert not missing, f"{path.name} links to missing files: {missing}"


def test_every_environment_variable_is_documented():
    """docs/environment.md lists every TIGHTBIND_* variable the tree reads, and no other."""
    read: set[str] = set()
    for folder in ("python", "bench", "scripts", "tests", "vendor", ".ci"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in ("", ".py", ".sh", ".txt", ".md") \
                    and "__pycache__" not in path.parts:
                read |= set(re.findall(r"TIGHTBIND_[A-Z0-9_]*[A-Z0-9]",
                                       path.read_text(encoding="utf-8", errors="replace")))
    for name in ("build_ffi.py", "setup.py"):
        read |= set(re.findall(r"TIGHTBIND_[A-Z0-9_]*[A-Z0-9]", (ROOT / name).read_text()))
    listed = set(re.findall(r"`(TIGHTBIND_[A-Z0-9_]+)`",
                            (ROOT / "docs" / "environment.md").read_text(encoding="utf-8")))
    assert read - listed == set(), f"read but not documented: {sorted(read - listed)}"
    assert listed - read == set(), f"documented but never read: {sorted(listed - read)}"
