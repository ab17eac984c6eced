"""Short libFuzzer runs under AddressSanitizer and UBSan: the frame scanner, the TLS
shim's parsers (PKCS#12, certificates, PEM bundles, private keys) and the OCR shim's
image checks (what they accept decoded by Leptonica, as tightbind does).

scripts/fuzz-frame, scripts/fuzz-tls and scripts/fuzz-ocr are the same harnesses for long
runs (see the
README).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

# The least each 15-second run must execute: the frame scanner runs ~millions, the TLS
# parsers ~1500 a second here (each input is parsed, decoded, re-encoded and verified).
MIN_RUNS = {"fuzz-frame": 10_000, "fuzz-tls": 3_000, "fuzz-ocr": 10_000}


@pytest.mark.slow
@pytest.mark.parametrize("script", MIN_RUNS)
def test_fuzz_short_run(tmp_path, script):
    if not (shutil.which("clang") or shutil.which("clang-14")):
        pytest.skip("clang is not installed (scripts/test installs it)")
    env = {**os.environ, "FUZZ_OUT": str(tmp_path / "out"),
           "FUZZ_CORPUS": str(tmp_path / "corpus"), "PYTHON": sys.executable}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / script), "15", "-seed=1"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = [line for line in result.stderr.splitlines() if "number_of_executed_units" in line]
    assert runs and int(runs[0].rsplit(":", 1)[1]) > MIN_RUNS[script], result.stderr[-2000:]
    if script == "fuzz-tls":
        assert len(list((tmp_path / "corpus").iterdir())) >= 8  # the seeds, and what grew
    if script == "fuzz-ocr":
        assert len(list((tmp_path / "corpus").glob("seed-*"))) > 10  # every format seeded
