"""The shims under valgrind: no invalid access, no use of uninitialised memory, no
definite leak, for OCR (Tesseract, Leptonica) and TLS (OpenSSL) workloads."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import valgrind
from helpers.pki import PASSWORD, Pki

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(not valgrind.available(), reason="valgrind is not installed")


@pytest.mark.slow
def test_ocr_paths_under_valgrind(tmp_path: Path) -> None:
    log = tmp_path / "valgrind.log"
    done = valgrind.run(HERE / "ocr_exercise.py", [str(tmp_path), "--quick"], log, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    errors = valgrind.our_errors(log.read_text())
    assert not errors, "\n\n".join(errors[:5])


@pytest.mark.slow
def test_tls_paths_under_valgrind(pki: Pki, tmp_path: Path) -> None:
    log = tmp_path / "valgrind.log"
    done = valgrind.run(HERE / "tls_workload.py", [str(pki.dir), PASSWORD], log, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "workload done" in done.stdout
    errors = valgrind.our_errors(log.read_text())
    assert not errors, "\n\n".join(errors[:5])


@pytest.mark.parametrize("log, found", [
    ("==1== Invalid write of size 4\n==1==    at 0x1: tb_ocr_walk (ocr.c:200)\n==1== \n", 1),
    ("==1== Conditional jump depends on uninitialised value(s)\n"
     "==1==    at 0x1: tb_tls_cert_decode (tls_x509.c:90)\n==1== \n", 1),
    ("==1== Invalid free() / delete / delete[]\n==1==    at 0x1: free (vg_replace.c:1)\n"
     "==1==    by 0x2: PyMem_RawFree (obmalloc.c:1)\n==1== \n", 1),
    ("==1== Invalid read of size 8\n==1==    at 0x2: __strncmp_avx2 (strcmp-avx2.S:160)\n"
     "==1== \n", 0),
    ("==1== 24 bytes in 1 blocks are definitely lost\n"
     "==1==    by 0x3: _cffi_init (tightbind._ocr.c:442)\n==1== \n", 0),
    ("==1== Conditional jump depends on uninitialised value(s)\n"
     "==1==    at 0x1: PyObject_Malloc (obmalloc.c:1)\n==1== \n", 0),
])
def test_log_filter(log: str, found: int) -> None:
    assert len(valgrind.our_errors(log)) == found
