"""The OCR shim under valgrind: no invalid access, no definite leak."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# ---- memory errors -----------------------------------------------------------------------

NATIVE = ("tightbind/_ocr", "_ocr.c", "tb_ocr", "ocr.c", "libtesseract", "liblept")


def native_valgrind_errors(log: str) -> list[str]:
    """Valgrind records (errors and definite leaks) with a frame in our shim, Tesseract
    or Leptonica.  CPython's own start-up reports (no suppression file) are ignored, as
    are one-time allocations of cffi's module initialisation."""
    records = []
    current: list[str] = []
    for line in log.splitlines():
        body = line.split("== ", 1)[1] if "== " in line else ""
        if not body.strip():
            if current:
                records.append("\n".join(current))
            current = []
        else:
            current.append(body)
    if current:
        records.append("\n".join(current))
    bad = []
    for record in records:
        head = record.splitlines()[0]
        if not any(word in head for word in ("Invalid", "uninitialised", "definitely lost",
                                             "Mismatched", "free'd", "overlap")):
            continue
        if "_cffi_init" in record:
            continue
        if any(name in record for name in NATIVE):
            bad.append(record)
    return bad


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_native_paths_under_valgrind(tmp_path):
    script = Path(__file__).parent / "ocr_exercise.py"
    log = tmp_path / "valgrind.log"
    done = subprocess.run(
        ["valgrind", "--leak-check=full", "--show-leak-kinds=definite", "--num-callers=40",
         f"--log-file={log}", sys.executable, str(script), str(tmp_path), "--quick"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False,
        env={**os.environ, "PYTHONMALLOC": "malloc"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    errors = native_valgrind_errors(log.read_text())
    assert not errors, "\n\n".join(errors[:5])


def test_valgrind_log_filter_sees_native_errors():
    log = ("==1== Invalid write of size 4\n==1==    at 0x1: tb_ocr_walk (ocr.c:200)\n==1== \n"
           "==1== Invalid read of size 8\n==1==    at 0x2: strncmp (strcmp-sse2.S:160)\n"
           "==1== \n==1== 24 bytes in 1 blocks are definitely lost\n"
           "==1==    by 0x3: _cffi_init (tightbind._ocr.c:442)\n==1== \n")
    errors = native_valgrind_errors(log)
    assert len(errors) == 1 and "tb_ocr_walk" in errors[0]
