"""``tightbind info``: which Tesseract, Leptonica and OpenSSL this process loaded, and
from which files.

A wheel carries its own copies (``tightbind.libs/``); a build from source links the
system's.  The answer comes from the process itself: versions from the libraries' own
version calls, files from ``/proc/self/maps`` after the extension modules are imported.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import sys
from typing import Any

from tightbind import __version__

HELP = "print the Tesseract, Leptonica and OpenSSL versions loaded and their files"

# Library file name patterns, matched against the names in /proc/self/maps.  auditwheel
# renames bundled copies (libtesseract-1a2b3c4d.so.5.5.0), hence the optional hash.
LIBRARIES = {
    "tesseract": re.compile(r"^libtesseract(-[0-9a-f]{8})?\.so"),
    "leptonica": re.compile(r"^lib(leptonica|lept)(-[0-9a-f]{8})?\.so"),
    "libssl": re.compile(r"^libssl(-[0-9a-f]{8})?\.so"),
    "libcrypto": re.compile(r"^libcrypto(-[0-9a-f]{8})?\.so"),
}


def mapped_files(maps: str = "/proc/self/maps") -> dict[str, str]:
    """Each library of :data:`LIBRARIES` mapped into this process -> its file path."""
    found: dict[str, str] = {}
    try:
        with open(maps, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return found
    for line in lines:
        fields = line.split(None, 5)
        if len(fields) < 6 or not fields[5].startswith("/"):
            continue
        path = fields[5]
        for name, pattern in LIBRARIES.items():
            if name not in found and pattern.match(os.path.basename(path)):
                found[name] = path
    return found


def leptonica_version(path: str) -> str | None:
    """``getLeptonicaVersion()`` of the already loaded Leptonica at ``path``.

    tightbind's OCR binding does not declare this call, so it is made through ctypes on
    the same mapping (RTLD_NOLOAD: never a second copy).
    """
    try:
        handle = ctypes.CDLL(path, mode=os.RTLD_NOLOAD | os.RTLD_NOW)
    except OSError:
        return None
    get_version = handle.getLeptonicaVersion
    get_version.restype = ctypes.c_void_p
    raw = get_version()
    if not raw:
        return None
    text = ctypes.string_at(raw).decode()
    ctypes.CDLL(None).free(ctypes.c_void_p(raw))
    return text.removeprefix("leptonica-")


def collect() -> dict[str, Any]:
    """The report: tightbind's own location and, per native library, version and file."""
    import tightbind

    report: dict[str, Any] = {
        "tightbind": __version__,
        "package": os.path.dirname(tightbind.__file__),
        "python": sys.version.split()[0],
        "libraries": {},
        "errors": {},
    }
    versions: dict[str, str | None] = {}
    try:
        from tightbind import ocr
        from tightbind.ocr.api import default_data_path

        versions["tesseract"] = ocr.version()
        report["tessdata"] = default_data_path(["eng"])
    except ImportError as exc:
        report["errors"]["ocr"] = str(exc)
    try:
        from tightbind import tls

        versions["libssl"] = versions["libcrypto"] = tls.openssl_version()
    except ImportError as exc:
        report["errors"]["tls"] = str(exc)
    files = mapped_files()
    if "leptonica" in files:
        versions["leptonica"] = leptonica_version(files["leptonica"])
    for name in LIBRARIES:
        if name in files or versions.get(name):
            report["libraries"][name] = {"version": versions.get(name), "file": files.get(name)}
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    report = collect()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"tightbind {report['tightbind']} from {report['package']} "
          f"(Python {report['python']})")
    for name, entry in report["libraries"].items():
        print(f"{name:<10} {entry['version'] or '?':<34} {entry['file'] or '(not mapped)'}")
    if "tessdata" in report:
        print(f"{'tessdata':<10} {report['tessdata'] or '(Tesseract default)'}")
    for area, error in report["errors"].items():
        print(f"{area}: {error}")
    return 0
