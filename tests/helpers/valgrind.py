"""Run a Python workload under valgrind and keep the reports that concern tightbind.

One filter for every area: CPython makes valgrind talk at start-up (no suppression file
is used), so a report counts when it is an invalid access or free anywhere, or another
error (uninitialised value, definite leak) with a frame in our shim or a library it
drives.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

#: Frames that make a report ours: the shim (tb_*, its C files, the cffi modules) and the
#: libraries it drives.
#: (CPython has a frame.c of its own, so the frame scanner is known by its tb_ names.)
OURS = re.compile(r"\btb_\w+|tightbind/_(?:frame|ocr|tls)|tightbind\._(?:frame|ocr|tls)\.c\b"
                  r"|[( /](?:ocr|tls\w*)\.c:|libtesseract|liblept|libssl|libcrypto")
#: The report kinds that are errors (uninitialised values, bad accesses, leaks).
ERRORS = ("Invalid", "uninitialised", "definitely lost", "Mismatched", "free'd", "overlap")
#: The first frame of a false report by a vectorised glibc string function.
VECTOR_STRING = re.compile(r"\b_*(?:str|mem)\w*(?:_sse2|_avx2|_evex)?\b.*\((?:str|mem)\w*-"
                           r"(?:sse2|avx2|evex)\w*\.S:\d+\)|_avx2\b")
#: Errors that count wherever they are: memory is never read or freed wrongly.
STRICT = re.compile(r"Invalid (read|write|free)|Mismatched free")


def available() -> bool:
    return shutil.which("valgrind") is not None


def reports(log: str) -> list[str]:
    """Split a valgrind log into its reports (blank ``==PID==`` lines separate them)."""
    records: list[str] = []
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
    return records


def our_errors(log: str) -> list[str]:
    """The error reports of ``log`` with a frame in tightbind's native code.

    Ignored: one-time allocations of cffi's module set-up (``_cffi_init``), and reads by
    glibc's vectorised string functions (``strcmp-sse2.S``, ``__strncmp_avx2``...), which
    read whole vectors inside a valid block (a known false report)."""
    bad = []
    for record in reports(log):
        head, *frames = record.splitlines()
        if not any(kind in head for kind in ERRORS):
            continue
        if "_cffi_init" in record or (frames and VECTOR_STRING.search(frames[0])):
            continue
        if OURS.search(record) or STRICT.search(head):
            bad.append(record)
    return bad


def run(script: Path, args: Sequence[str], log: Path, *, cwd: Path,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``python script args`` under valgrind (full leak check, definite leaks shown),
    its log in ``log``; CPython's allocator is bypassed so valgrind sees every block."""
    return subprocess.run(
        ["valgrind", "--leak-check=full", "--show-leak-kinds=definite", "--num-callers=40",
         f"--log-file={log}", sys.executable, str(script), *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False,
        env={**os.environ, "PYTHONMALLOC": "malloc"})
