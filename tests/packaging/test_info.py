"""``tightbind info`` names the native libraries this process really loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tightbind.commands import info


def ldd_paths(module_file: str) -> dict[str, str]:
    """What the dynamic linker resolves for a module: soname -> real path (the oracle)."""
    out = subprocess.run(["ldd", module_file], capture_output=True, text=True,
                         check=True).stdout
    found = {}
    for line in out.splitlines():
        if "=>" in line and "/" in line.split("=>", 1)[1]:
            name, rest = line.split("=>", 1)
            found[name.strip()] = os.path.realpath(rest.split()[0])
    return found


def run_info() -> dict:
    result = subprocess.run([sys.executable, "-m", "tightbind", "info", "--json"],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_info_reports_the_files_the_linker_chose():
    ocr = pytest.importorskip("tightbind._ocr")
    tls = pytest.importorskip("tightbind._tls")
    report = run_info()
    libraries = report["libraries"]
    resolved = {**ldd_paths(ocr.__file__), **ldd_paths(tls.__file__)}
    for name, prefix in (("tesseract", "libtesseract"), ("leptonica", "liblept"),
                         ("libssl", "libssl"), ("libcrypto", "libcrypto")):
        expected = [path for soname, path in resolved.items() if soname.startswith(prefix)]
        assert len(expected) == 1, (name, resolved)
        assert os.path.realpath(libraries[name]["file"]) == expected[0], name


def test_info_versions_come_from_the_loaded_libraries():
    from tightbind import tls
    from tightbind.ocr import version

    libraries = run_info()["libraries"]
    assert libraries["tesseract"]["version"] == version()
    assert libraries["libcrypto"]["version"] == tls.openssl_version()
    leptonica = libraries["leptonica"]["version"]
    assert leptonica and leptonica[0].isdigit() and leptonica.count(".") == 2, leptonica


def test_info_text_names_each_library(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tightbind", "info"], capture_output=True,
                            text=True, check=True, timeout=60)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("tightbind ")
    for name in ("tesseract", "leptonica", "libssl", "libcrypto"):
        assert any(line.startswith(name) and "/" in line for line in lines), result.stdout


def test_mapped_files_picks_libraries_by_name_with_or_without_auditwheel_hash(tmp_path):
    maps = tmp_path / "maps"
    maps.write_text(
        "7f00-7f01 r-xp 00000000 08:01 1 /usr/lib/libtesseract.so.5.0.3\n"
        "7f01-7f02 r-xp 00000000 08:01 2 /v/tightbind.libs/libleptonica-0123abcd.so.6.0.0\n"
        "7f02-7f03 r-xp 00000000 08:01 3 /v/tightbind.libs/libcrypto-89abcdef.so.3\n"
        "7f03-7f04 rw-p 00000000 00:00 0 [heap]\n"
        "7f04-7f05 r-xp 00000000 08:01 4 /usr/lib/libssl3-extra.so\n"
        "7f05-7f06 r-xp 00000000 08:01 5 /usr/lib/libtesseract_fake.so\n")
    assert info.mapped_files(str(maps)) == {
        "tesseract": "/usr/lib/libtesseract.so.5.0.3",
        "leptonica": "/v/tightbind.libs/libleptonica-0123abcd.so.6.0.0",
        "libcrypto": "/v/tightbind.libs/libcrypto-89abcdef.so.3",
    }


def test_mapped_files_without_proc_is_empty(tmp_path):
    assert info.mapped_files(str(tmp_path / "absent")) == {}
