"""pyOpenSSL's own tests as the judge of tightbind.tls.crypto.

pyOpenSSL 23.2.0 (the last release with ``load_pkcs12`` and ``PKCS12``) ships its test
suite in its sdist.  This test downloads that sdist from PyPI at test time (into
``~/.cache/tightbind/pyopenssl``, or ``$TIGHTBIND_CACHE/pyopenssl``; never into the
clone), checks its SHA-256, extracts ``tests/test_crypto.py`` with the helpers it imports
(``tests/util.py``, ``tests/__init__.py``), and runs it in a child pytest against a
stand-in ``OpenSSL`` package: ``OpenSSL.crypto`` *is* ``tightbind.tls.crypto``, and
``OpenSSL._util`` (pyOpenSSL's private cffi handles, which only out-of-scope tests use) is
a stub.  The test bodies are untouched.

In scope, every test must pass: the classes in ``IN_SCOPE`` and TestFunction's
certificate, key and PKCS#12 load/dump tests.  Everything else is deselected explicitly,
with the reason, in ``OUT_OF_SCOPE``.  The counts per class are printed (``-s`` or the
captured output of a failure), with any test skipped and why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from helpers import peer_suites

from conftest import ROOT

VERSION = "23.2.0"
SDIST = f"pyOpenSSL-{VERSION}.tar.gz"
SDIST_SHA256 = "276f931f55a452e7dea69c7173e984eb2a4407ce413c918aa34b55f82f9b8bac"
SUITE_FILES = ("tests/__init__.py", "tests/util.py", "tests/test_crypto.py")

IN_SCOPE = ("TestPKCS12", "TestPKey", "TestX509", "TestX509Name", "TestX509Ext",
            "TestLoadCertificate", "TestLoadPublicKey", "TestFunction",
            # Beyond issue 11's list: the curve objects, which the module needs to import.
            "TestEllipticCurve", "TestEllipticCurveEquality", "TestEllipticCurveHash",
            # Issue 22: requests, SPKI, PKCS#7 types, raw signatures.
            "TestX509Req", "TestNetscapeSPKI", "TestPKCS7", "TestSignVerify")

OUT_OF_SCOPE: dict[str, str] = {}
# Stores and CRLs (issue 22): in scope but for the tests that swap functions of
# pyOpenSSL's private cffi ``lib`` (``OpenSSL._util.lib``) with monkeypatch to watch which
# OpenSSL call pyOpenSSL makes; tightbind makes other calls (its own shim), so they
# test pyOpenSSL's insides, not behaviour.
IN_SCOPE += ("TestX509Store", "TestX509StoreContext", "TestCRL", "TestRevoked")
_PRIVATE_LIB = ("monkeypatches pyOpenSSL's private cffi lib (OpenSSL._util.lib.{}) to "
                "watch pyOpenSSL's own OpenSSL calls; tightbind calls its shim instead")
OUT_OF_SCOPE.update({
    "TestX509Store::test_load_locations_parameters":
        _PRIVATE_LIB.format("X509_STORE_load_locations"),
    "TestX509StoreContext::test_failure_building_untrusted_chain_raises":
        _PRIVATE_LIB.format("sk_X509_push"),
})

# In-scope tests the suite may skip, with the reason; none at present.
ALLOWED_SKIPS: dict[str, str] = {}

# The stand-in package: OpenSSL.crypto is tightbind.tls.crypto itself.
STANDIN_INIT = '''\
"""Stand-in pyOpenSSL for its own test suite: OpenSSL.crypto is tightbind.tls.crypto."""
import sys

from tightbind.tls import crypto

sys.modules[__name__ + ".crypto"] = crypto
'''
STANDIN_UTIL = '''\
"""pyOpenSSL's private cffi handles, which tightbind does not have: only the X509Store
tests that monkeypatch it (deselected) use them; NULL is here so that the test module imports."""
from tightbind.tls.crypto import NotProvided


class _Private:
    NULL = None

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        raise NotProvided(f"OpenSSL._util.{self._name}.{attribute}: pyOpenSSL's private "
                          "cffi handles are not part of tightbind")


ffi = _Private("ffi")
lib = _Private("lib")
'''


def fetch_sdist() -> Path:
    """pyOpenSSL's sdist from PyPI (cached), its SHA-256 checked."""
    return peer_suites.fetch_sdist("pyOpenSSL", VERSION, SDIST, SDIST_SHA256,
                                   peer_suites.cache_dir("pyopenssl"))


def prepare(sdist: Path, work: Path) -> tuple[Path, Path]:
    """The suite's folder (tests/ as in the sdist, a pytest.ini of its own) and the
    stand-in package's folder, under ``work``."""
    suite, standin = work / "suite", work / "standin"
    with tarfile.open(sdist) as archive:
        for name in SUITE_FILES:
            member = archive.getmember(f"pyOpenSSL-{VERSION}/{name}")
            data = archive.extractfile(member)
            assert data is not None, name
            target = suite / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data.read())
    (suite / "pytest.ini").write_text("[pytest]\n")
    (standin / "OpenSSL").mkdir(parents=True)
    (standin / "OpenSSL" / "__init__.py").write_text(STANDIN_INIT)
    (standin / "OpenSSL" / "_util.py").write_text(STANDIN_UTIL)
    return suite, standin


def run_suite(suite: Path, standin: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    report = suite / "report.xml"
    deselect = [arg for node in OUT_OF_SCOPE
                for arg in ("--deselect", f"tests/test_crypto.py::{node}")]
    env = dict(os.environ, PYTHONPATH=peer_suites.child_pythonpath(standin))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_crypto.py", "-c", "pytest.ini",
         "--rootdir", str(suite), "-p", "no:cacheprovider", "-q", "-rs",
         f"--junitxml={report}", *deselect],
        cwd=suite, env=env, capture_output=True, text=True, timeout=900, check=False)
    return done, report


def results(report: Path) -> list[tuple[str, str, str, str]]:
    """(class, test, outcome, message) for every test the child ran."""
    return [(case.classname.rsplit(".", 1)[-1], case.name, case.outcome, case.message)
            for case in peer_suites.junit_cases(report)]


@pytest.mark.slow
def test_pyopenssl_test_crypto_passes_in_scope(tmp_path: Path) -> None:
    assert (ROOT / "python" / "tightbind" / "tls" / "crypto").is_dir()
    suite, standin = prepare(fetch_sdist(), tmp_path)
    source = (suite / "tests" / "test_crypto.py").read_text()
    classes = {line.split()[1].split("(")[0].rstrip(":")
               for line in source.splitlines() if line.startswith("class Test")}
    unknown = classes - set(IN_SCOPE) - {node for node in OUT_OF_SCOPE if "::" not in node}
    assert not unknown, f"test classes neither in scope nor deselected: {sorted(unknown)}"

    done, report = run_suite(suite, standin)
    assert report.exists(), f"the suite did not run:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    rows = results(report)
    counts: dict[str, Counter[str]] = {}
    for cls, _, outcome, _ in rows:
        counts.setdefault(cls, Counter())[outcome] += 1
    lines = [f"pyOpenSSL {VERSION} tests/test_crypto.py against tightbind.tls.crypto:"]
    for cls in IN_SCOPE:
        count = counts.get(cls, Counter())
        lines.append(f"  {cls:<20} {count['passed']:3} passed  "
                     f"{count['failed']:3} failed  {count['skipped']:3} skipped")
    total = Counter[str]()
    for count in counts.values():
        total.update(count)
    lines.append(f"  {'total':<20} {total['passed']:3} passed  "
                 f"{total['failed']:3} failed  {total['skipped']:3} skipped")
    skipped = [(cls, name, message) for cls, name, outcome, message in rows if outcome == "skipped"]
    lines += [f"  skipped: {cls}::{name}: {message}" for cls, name, message in skipped]
    lines += [f"  deselected: {node}: {reason}" for node, reason in OUT_OF_SCOPE.items()]
    print("\n".join(lines))

    assert set(counts) <= set(IN_SCOPE), f"out-of-scope classes ran: {set(counts) - set(IN_SCOPE)}"
    assert all(counts.get(cls) for cls in IN_SCOPE), "an in-scope class ran no test"
    failed = [f"{cls}::{name}: {message[:300]}" for cls, name, outcome, message in rows
              if outcome == "failed"]
    assert not failed, "\n".join(["pyOpenSSL tests failing against tightbind.tls.crypto:",
                                  *failed, done.stdout[-6000:]])
    unexpected = [f"{cls}::{name}: {message}" for cls, name, message in skipped
                  if f"{cls}::{name}" not in ALLOWED_SKIPS]
    assert not unexpected, f"skipped without an allowed reason: {unexpected}"
    assert done.returncode == 0, textwrap.shorten(done.stdout, 4000)
