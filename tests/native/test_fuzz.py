"""Short libFuzzer runs under AddressSanitizer and UBSan: the frame scanner and the OCR
shim's image checks.

scripts/fuzz-frame and scripts/fuzz-ocr are the same harnesses for long runs (see the
README).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_frame_scanner_fuzz_short_run(tmp_path):
    if not (shutil.which("clang") or shutil.which("clang-14")):
        pytest.skip("clang is not installed (scripts/test installs it)")
    env = {**os.environ, "FUZZ_OUT": str(tmp_path / "out"), "FUZZ_CORPUS": str(tmp_path / "corpus")}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "fuzz-frame"), "15", "-seed=1"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = [line for line in result.stderr.splitlines() if "number_of_executed_units" in line]
    assert runs and int(runs[0].rsplit(":", 1)[1]) > 10_000, result.stderr[-2000:]


@pytest.mark.slow
def test_ocr_image_check_fuzz_short_run(tmp_path):
    """scripts/fuzz-ocr for 15 s: tightbind's image checks and JPEG decoder under
    AddressSanitizer and UBSan, what they accept decoded by Leptonica as tightbind does."""
    if not (shutil.which("clang") or shutil.which("clang-14")):
        pytest.skip("clang is not installed (scripts/test installs it)")
    env = {**os.environ, "FUZZ_OUT": str(tmp_path / "out"),
           "FUZZ_CORPUS": str(tmp_path / "corpus")}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "fuzz-ocr"), "15", "-seed=1"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(list((tmp_path / "corpus").glob("seed-*"))) > 10  # every format seeded
    runs = [line for line in result.stderr.splitlines() if "number_of_executed_units" in line]
    assert runs and int(runs[0].rsplit(":", 1)[1]) > 50_000, result.stderr[-2000:]
