"""tesserocr's own tests as the judge of tightbind.ocr.tesserocr.

tesserocr 2.13.0 ships its tests in its sdist.  This test downloads that sdist from PyPI
at test time (into ``~/.cache/tightbind/tesserocr``, or ``$TIGHTBIND_CACHE/tesserocr``;
never into the clone), checks its SHA-256, extracts ``tests/`` and runs it twice, test
bodies untouched:

- against the real tesserocr: its PyPI wheel (its own Tesseract 5.5) in a cached virtual
  environment, each test in its own process, because the wheel aborts the interpreter in
  ``test_detect_os`` with Debian's osd model; an abort is recorded as a crash;
- against the stand-in: a ``tesserocr`` package whose module *is*
  ``tightbind.ocr.tesserocr``, in one child pytest.

Every test the real tesserocr passes here must pass against the stand-in.  Both pass
counts are printed (``-s``, or the captured output of a failure) for the README.
``tests/test_build.py`` checks tesserocr's own build templates (not extracted: it skips).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from helpers import peer_suites

VERSION = "2.13.0"
SDIST = f"tesserocr-{VERSION}.tar.gz"
SDIST_SHA256 = "475460f736e5ac23dfcfbd414435581fa6eb0e849e80c816da2ff1b4af7d88ed"
WHEEL = [f"tesserocr=={VERSION}", "--only-binary", "tesserocr", "Pillow==13.0.0",
         "pytest==9.0.3"]
STANDIN = '''\
"""Stand-in tesserocr for its own test suite: the module is tightbind.ocr.tesserocr."""
import sys

from tightbind.ocr import tesserocr

sys.modules[__name__] = tesserocr
'''

pytestmark = pytest.mark.slow


def system_tessdata() -> str | None:
    """Debian's tessdata folder: both runs read their models from it (tesserocr's wheel
    has no models of its own)."""
    found = sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata/eng.traineddata"))
    return str(found[-1].parent) if found else None


def cache_dir() -> Path:
    return peer_suites.cache_dir("tesserocr")


def fetch_sdist() -> Path:
    """tesserocr's sdist from PyPI (cached), its SHA-256 checked."""
    return peer_suites.fetch_sdist("tesserocr", VERSION, SDIST, SDIST_SHA256, cache_dir())


def extract_tests(sdist: Path, into: Path) -> Path:
    prefix = f"tesserocr-{VERSION}/tests/"
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            if member.name.startswith(prefix) and member.isfile():
                target = into / "tests" / member.name[len(prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None
                target.write_bytes(source.read())
    return into / "tests"


def _outcomes(junit: Path) -> dict[str, str]:
    """Test id -> passed/failed/skipped from a JUnit XML report."""
    return {case.id: case.outcome for case in peer_suites.junit_cases(junit)}


def run_real(python: str, folder: Path, tessdata: str) -> dict[str, str]:
    """Each test in its own process against the real tesserocr; cached per wheel and
    tessdata folder (the real package's results do not change between runs)."""
    key = hashlib.sha256(f"{python}:{tessdata}".encode()).hexdigest()[:12]
    cached = cache_dir() / f"real-{VERSION}-{key}.json"
    if cached.exists():
        return dict(json.loads(cached.read_text()))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.update(OMP_THREAD_LIMIT="1", TESSDATA_PREFIX=tessdata)
    listed = subprocess.run([python, "-m", "pytest", "--collect-only", "-q", "tests"],
                            cwd=folder, env=env, capture_output=True, text=True, timeout=300,
                            check=False)
    ids = [line for line in listed.stdout.splitlines() if "::" in line]
    assert ids, listed.stdout + listed.stderr
    results = {}
    for test_id in ids:
        junit = folder / "real.xml"
        junit.unlink(missing_ok=True)
        done = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               f"--junitxml={junit}", test_id], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        name = test_id.replace("/", ".").replace(".py::", ".", 1)
        if done.returncode < 0 or not junit.exists():
            results[name] = f"crashed (signal {-done.returncode})"
        else:
            results.update(_outcomes(junit))
    if any(outcome == "passed" for outcome in results.values()):  # never cache a broken set-up
        peer_suites.write_atomically(cached, json.dumps(results, indent=1))
    return results


def run_standin(folder: Path, tessdata: str, *select: str) -> dict[str, str]:
    """The suite's outcomes with the stand-in as ``tesserocr`` (``select``: pytest -k
    arguments, for a re-run of some tests alone)."""
    package = folder / "standin" / "tesserocr"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(STANDIN)
    env = dict(os.environ, OMP_THREAD_LIMIT="1", TESSDATA_PREFIX=tessdata,
               PYTHONPATH=os.pathsep.join([peer_suites.child_pythonpath(folder / "standin"),
                                           str(folder)]))
    junit = folder / "standin.xml"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:randomly", f"--junitxml={junit}", "tests", *select],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=1800,
                          check=False)
    assert junit.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return _outcomes(junit)


def test_tesserocr_suite_against_the_standin(tmp_path: Path) -> None:
    from bench._venvs import venv_python

    tessdata = system_tessdata()
    if tessdata is None:
        pytest.skip("no system tessdata folder with eng (apt-get install tesseract-ocr-eng)")
    sdist = fetch_sdist()
    extract_tests(sdist, tmp_path)
    python, why = venv_python("tesserocr-suite", WHEEL)
    if python is None:
        pytest.skip(f"cannot install tesserocr's wheel: {why}")
    real = run_real(str(python), tmp_path, tessdata)
    ours = run_standin(tmp_path, tessdata)
    counts = {label: sum(v == "passed" for v in results.values())
              for label, results in (("real tesserocr", real), ("stand-in", ours))}
    print(f"tesserocr {VERSION} suite: {len(real)} tests; real tesserocr wheel passes "
          f"{counts['real tesserocr']}, tightbind.ocr.tesserocr passes {counts['stand-in']}")
    for name in sorted(real):
        print(f"  {name}: real {real[name]}, stand-in {ours.get(name, 'missing')}")
    missed = [name for name, outcome in real.items()
              if outcome == "passed" and ours.get(name) != "passed"]
    for name in missed[:3]:
        # The real side's outcomes come from one test per process (and are cached); a
        # timing test of the suite (signals, threads) that the stand-in missed in the
        # whole run on a busy machine gets that chance too: up to three runs alone, each
        # printed.
        test_class, _, test_name = name.rpartition("::")
        for attempt in range(1, 4):
            again = run_standin(tmp_path, tessdata, "-k",
                                f"{test_class.rsplit('.', 1)[-1]} and {test_name}")
            print(f"  {name}: run alone ({attempt} of 3): {again.get(name, 'missing')}")
            if again.get(name) == "passed":
                ours[name] = "passed"
                break
    counts["stand-in"] = sum(v == "passed" for v in ours.values())
    missed = [name for name, outcome in real.items()
              if outcome == "passed" and ours.get(name) != "passed"]
    # What the stand-in's last run (the re-run alone, if any) said of each.
    said = {case.id: case.message
            for case in peer_suites.junit_cases(tmp_path / "standin.xml")}
    assert not missed, ("the real tesserocr passes these, the stand-in does not:\n"
                        + "\n".join(f"{name}: {said.get(name, '')[-2000:]}"
                                     for name in missed))
    assert counts["stand-in"] >= counts["real tesserocr"]
