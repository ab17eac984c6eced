"""pytesseract's own repository tests as the judge of tightbind.ocr.pytesseract.

pytesseract's PyPI sdists (0.3.13 and every earlier 0.3.x) ship no tests, and this
machine reaches no other host, so the suite cannot be fetched here: point
``TIGHTBIND_PYTESSERACT_SUITE`` at a checkout of pytesseract's repository (the folder
holding ``tests/``), or place one at ``~/.cache/tightbind/pytesseract-repo``; without
one the test skips and says so.  The clone never holds it.

The suite runs twice in child pytests, test bodies untouched, from the checkout's
folder (its ``images.txt`` names ``./tests/data/...``), each with a private TMPDIR
(the suite checks that no ``tess_*`` file is left in the temporary folder, which other
programs on a shared machine also write):

- against the real pytesseract and the ``tesseract`` command (results cached per
  checkout, pytesseract and Tesseract version);
- against the stand-in: a ``pytesseract`` package whose module and ``pytesseract``
  submodule *are* ``tightbind.ocr.pytesseract``.

Every test the real pytesseract passes must pass against the stand-in, except those in
``DIFFERENT`` (deselected from the stand-in's run, each with its reason).  The suite's
own ``slow`` tests (blank pages of 5000 and 20000 pixels a side) are left out of both.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import peer_suites

pytestmark = pytest.mark.slow

STANDIN = '''\
"""Stand-in pytesseract for its own test suite: the package and its pytesseract
submodule are tightbind.ocr.pytesseract."""
import sys

from tightbind.ocr import pytesseract

sys.modules[__name__] = pytesseract
sys.modules[__name__ + ".pytesseract"] = pytesseract
'''
PYTEST_INI = "[pytest]\nmarkers =\n    pytesseract\n    lang_fra\n    slow\n"

_MOCKED = ("mocks subprocess.{} to feed pytesseract made-up output of the tesseract "
           "command; the stand-in runs no command, so the mock never reaches it")
#: Test id prefixes deselected from the stand-in's run, with the reason.
DIFFERENT: dict[str, str] = {
    # test_get_tesseract_version and test_get_tesseract_version_invalid
    "tests/pytesseract_test.py::test_get_tesseract_version": _MOCKED.format("check_output"),
    "tests/test_error_handling.py::TestInvalidVersionHandling": _MOCKED.format("check_output"),
    "tests/test_error_handling.py::TestSubprocessErrors::test_tesseract_returns_error":
        _MOCKED.format("Popen"),
}


def suite_folder() -> Path | None:
    """The checkout of pytesseract's repository to run, if there is one."""
    given = os.environ.get("TIGHTBIND_PYTESSERACT_SUITE")
    folder = Path(given) if given else peer_suites.cache_dir("pytesseract-repo")
    return folder if (folder / "tests").is_dir() else None


def _fingerprint(folder: Path, python: str) -> str:
    """The suite's files, the real pytesseract's version and Tesseract's, hashed."""
    digest = hashlib.sha256()
    for path in sorted((folder / "tests").rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    versions = subprocess.run(
        [python, "-c", "import pytesseract; print(pytesseract.__version__, "
                       "pytesseract.get_tesseract_version())"],
        capture_output=True, text=True, timeout=120, check=False)
    digest.update(versions.stdout.encode())
    return digest.hexdigest()[:16]


def run_suite(folder: Path, work: Path, label: str, pythonpath: str | None,
              deselect: list[str]) -> dict[str, str]:
    """Test id -> outcome of one child pytest over the suite."""
    (work / label / "tmp").mkdir(parents=True)
    (work / "pytest.ini").write_text(PYTEST_INI)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(OMP_THREAD_LIMIT="1", TMPDIR=str(work / label / "tmp"))
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    junit = work / label / "report.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "-q", "-c", str(work / "pytest.ini"),
         "--rootdir", str(folder), "-p", "no:cacheprovider", "-p", "no:randomly",
         "-m", "not slow", f"--junitxml={junit}",
         *[arg for prefix in deselect for arg in ("--deselect", prefix)]],
        cwd=folder, env=env, capture_output=True, text=True, timeout=1800, check=False)
    assert junit.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return {case.id: case.outcome for case in peer_suites.junit_cases(junit)}


def _node(test_id: str) -> str:
    """JUnit's ``tests.pytesseract_test::test_x[a]`` as pytest's node id."""
    classname, _, name = test_id.partition("::")
    parts = classname.split(".")
    for index in range(len(parts), 0, -1):
        module = "/".join(parts[:index]) + ".py"
        if parts[index - 1].startswith("test") or index == 2:
            return "::".join([module, *parts[index:], name])
    return test_id


def _reads_jpeg2000() -> bool:
    """Whether the loaded Leptonica decodes JPEG 2000 (Debian's does; the wheel's is built
    without OpenJPEG)."""
    import io

    from PIL import Image

    from tightbind.ocr import OcrError, pix_read_pages

    buffer = io.BytesIO()
    try:
        Image.new("L", (16, 16), 255).save(buffer, "JPEG2000")
    except (OSError, KeyError):  # Pillow without OpenJPEG: nothing to compare
        return True
    try:
        pix_read_pages(buffer.getvalue())
    except OcrError:
        return False
    return True


def test_pytesseract_suite_against_the_standin(tmp_path: Path) -> None:
    pytest.importorskip("pytesseract", reason="the real pytesseract is the oracle")
    folder = suite_folder()
    if folder is None:
        pytest.skip("pytesseract's PyPI sdists ship no tests: set TIGHTBIND_PYTESSERACT_SUITE "
                    "to a checkout of its repository (or place one at "
                    f"{peer_suites.cache_dir('pytesseract-repo')})")
    cached = peer_suites.cache_dir("pytesseract-repo-results") / \
        f"real-{_fingerprint(folder, sys.executable)}.json"
    if cached.exists():
        real = dict(json.loads(cached.read_text()))
    else:
        real = run_suite(folder, tmp_path, "real", None, [])
        if any(outcome == "passed" for outcome in real.values()):  # never cache a broken set-up
            peer_suites.write_atomically(cached, json.dumps(real, indent=1))
    standin = tmp_path / "standin" / "pytesseract"
    standin.mkdir(parents=True)
    (standin / "__init__.py").write_text(STANDIN)
    ours = run_suite(folder, tmp_path, "ours", peer_suites.child_pythonpath(standin.parent),
                     list(DIFFERENT))
    counts = {label: sum(v == "passed" for v in results.values())
              for label, results in (("real", real), ("stand-in", ours))}
    print(f"pytesseract repository suite: {len(real)} tests; the real pytesseract passes "
          f"{counts['real']}, tightbind.ocr.pytesseract passes {counts['stand-in']} of "
          f"{len(ours)} run ({len(real) - len(ours)} deselected)")
    for name in sorted(real):
        print(f"  {name}: real {real[name]}, stand-in {ours.get(name, 'deselected')}")
    for prefix, reason in DIFFERENT.items():
        print(f"  deselected {prefix}: {reason}")
    deselected = [name for name in real if name not in ours]
    assert all(_node(name).startswith(tuple(DIFFERENT)) for name in deselected), deselected
    missed = [name for name, outcome in real.items()
              if outcome == "passed" and name in ours and ours[name] != "passed"]
    if not _reads_jpeg2000():
        # The real one runs Debian's tesseract, whose Leptonica links OpenJPEG; this
        # build's Leptonica (the wheel's) has no JPEG 2000 reader.
        print(f"  not judged: {[name for name in missed if 'jpeg2000' in name]} "
              "(this Leptonica reads no JPEG 2000)")
        missed = [name for name in missed if "jpeg2000" not in name]
    assert not missed, f"the real pytesseract passes these, the stand-in does not: {missed}"
