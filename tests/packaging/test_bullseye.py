"""The wheel's claim of glibc 2.31 checked on a real glibc 2.31: Debian 11 "bullseye".

scripts/bullseye-root makes the root (debootstrap, about a minute; the vendored libraries
are built in the same one).  Inside it, through bubblewrap, with only bullseye's own
files and the unpacked wheel visible, its python3.9 (any Python will do: the check is the
dynamic linker's, not Python's):

- loads every bundled library and every extension module with RTLD_NOW, so every
  symbol must bind against glibc 2.31 and bullseye's libstdc++ right away;
- reads two pages (PNG and TIFF) through the bundled libtesseract and Leptonica with
  ctypes calls into Tesseract's C API, with the wheel's own English model.

tightbind itself needs Python 3.10, so the Python layer is not run there: the test suite
covers it on this machine's interpreters (test_wheel.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

WHEELS = sorted((ROOT / "wheelhouse").glob("tightbind-*manylinux*.whl"))
BULLSEYE = Path(os.environ.get("TIGHTBIND_BULLSEYE_ROOT",
                               Path.home() / ".cache" / "tightbind" / "bullseye-root"))

pytestmark = [
    pytest.mark.wheel,
    pytest.mark.skipif(bool(os.environ.get("TIGHTBIND_WHEEL_SUITE")),
                       reason="inside a wheel suite run"),
    pytest.mark.skipif(not WHEELS, reason="no repaired wheel in wheelhouse/ "
                                          "(bash scripts/build-wheels makes one)"),
]

INSIDE = r"""
import ctypes, glob, json, os, sys
result = {"glibc": os.confstr("CS_GNU_LIBC_VERSION"), "python": sys.version.split()[0],
          "loaded": {}, "failed": {}, "pages": {}}
files = sorted(glob.glob("/tmp/wheel/tightbind.libs/*.so*")) + \
    sorted(glob.glob("/tmp/wheel/tightbind/_*.so"))
for path in files:
    try:
        ctypes.CDLL(path, mode=os.RTLD_NOW)
        result["loaded"][os.path.basename(path)] = True
    except OSError as exc:
        result["failed"][os.path.basename(path)] = str(exc)
lept = ctypes.CDLL(glob.glob("/tmp/wheel/tightbind.libs/libleptonica-*.so*")[0], mode=os.RTLD_NOW)
tess = ctypes.CDLL(glob.glob("/tmp/wheel/tightbind.libs/libtesseract-*.so*")[0], mode=os.RTLD_NOW)
lept.pixRead.restype = ctypes.c_void_p
lept.pixRead.argtypes = [ctypes.c_char_p]
lept.pixDestroy.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
tess.TessVersion.restype = ctypes.c_char_p
tess.TessBaseAPICreate.restype = ctypes.c_void_p
tess.TessBaseAPIInit3.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
tess.TessBaseAPISetImage2.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
tess.TessBaseAPIGetUTF8Text.restype = ctypes.c_void_p
tess.TessBaseAPIGetUTF8Text.argtypes = [ctypes.c_void_p]
tess.TessDeleteText.argtypes = [ctypes.c_void_p]
tess.TessBaseAPIDelete.argtypes = [ctypes.c_void_p]
result["tesseract"] = tess.TessVersion().decode()
api = tess.TessBaseAPICreate()
if tess.TessBaseAPIInit3(api, b"/tmp/wheel/tightbind/tessdata", b"eng") != 0:
    raise SystemExit("TessBaseAPIInit3 failed")
for page in sorted(glob.glob("/tmp/pages/*")):
    pix = ctypes.c_void_p(lept.pixRead(page.encode()))
    if not pix.value:
        result["pages"][os.path.basename(page)] = None
        continue
    tess.TessBaseAPISetImage2(api, pix)
    text = tess.TessBaseAPIGetUTF8Text(api)
    result["pages"][os.path.basename(page)] = ctypes.string_at(text).decode().strip()
    tess.TessDeleteText(text)
    lept.pixDestroy(ctypes.byref(pix))
tess.TessBaseAPIDelete(api)
print(json.dumps(result))
"""

TEXT = "bullseye reads this page"


@pytest.fixture(scope="module")
def bullseye_root() -> Path:
    if not (BULLSEYE / "usr" / "bin" / "python3").exists():
        if os.geteuid() != 0 or shutil.which("debootstrap") is None:
            pytest.skip(f"no bullseye root at {BULLSEYE}, and it cannot be made here "
                        "(needs root and debootstrap: bash scripts/bullseye-root)")
        made = subprocess.run(["bash", str(ROOT / "scripts" / "bullseye-root")],
                              capture_output=True, text=True, timeout=1800, check=False)
        if made.returncode != 0:
            pytest.skip(f"could not make the bullseye root: {made.stderr[-500:]}")
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")
    return BULLSEYE


def write_pages(pages: Path) -> Path:
    """``pages`` holding TEXT drawn once and saved as PNG, LZW TIFF and JPEG (the codecs
    a bundled Leptonica must read)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
    image = Image.new("L", (760, 120), 255)
    ImageDraw.Draw(image).text((20, 30), TEXT, font=font, fill=0)
    image.save(pages / "page.png", dpi=(300, 300))
    image.save(pages / "page.tif", compression="tiff_lzw", dpi=(300, 300))
    image.save(pages / "page.jpg", quality=95, dpi=(300, 300))
    return pages


@pytest.fixture(scope="module")
def inside_report(bullseye_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    unpacked = tmp_path_factory.mktemp("wheel")
    with zipfile.ZipFile(WHEELS[-1]) as archive:
        archive.extractall(unpacked)
    for library in (unpacked / "tightbind.libs").iterdir():
        library.chmod(0o755)
    pages = write_pages(tmp_path_factory.mktemp("pages"))
    command = ["bwrap", "--ro-bind", str(bullseye_root), "/", "--proc", "/proc",
               "--dev", "/dev", "--tmpfs", "/tmp", "--ro-bind", str(unpacked), "/tmp/wheel",
               "--ro-bind", str(pages), "/tmp/pages", "--clearenv",
               "--setenv", "PATH", "/usr/bin:/bin", "/usr/bin/python3", "-c", INSIDE]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_root_is_glibc_2_31(inside_report):
    assert inside_report["glibc"] == "glibc 2.31"


def test_every_bundled_library_and_module_binds_all_symbols(inside_report):
    assert not inside_report["failed"], inside_report["failed"]
    loaded = inside_report["loaded"]
    modules = [name for name in loaded if name.endswith(".abi3.so")]
    assert len(modules) == 3, loaded
    assert len(loaded) >= 3 + 10, loaded   # 3 modules, 10 bundled libraries


def test_ocr_through_the_bundled_libraries(inside_report):
    assert inside_report["tesseract"].startswith("5.5.")
    assert inside_report["pages"] == {"page.jpg": TEXT, "page.png": TEXT, "page.tif": TEXT}
