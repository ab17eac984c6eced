"""The sdist builds against the system's libraries (pkg-config) and works.

scripts/build-wheels puts the sdist beside the wheel; this installs it into a fresh
virtual environment the way a user without a matching wheel would (``pip install
tightbind-*.tar.gz``), then checks that the system's Tesseract, Leptonica and OpenSSL
were linked and that each area works.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SDISTS = sorted((ROOT / "wheelhouse").glob("tightbind-*.tar.gz"))
SYSTEM_LIBS = "/usr/lib/x86_64-linux-gnu/"

pytestmark = [
    pytest.mark.wheel,
    pytest.mark.skipif(bool(os.environ.get("TIGHTBIND_WHEEL_SUITE")),
                       reason="inside a wheel suite run"),
    pytest.mark.skipif(not SDISTS, reason="no sdist in wheelhouse/ "
                                          "(bash scripts/build-wheels makes one)"),
]


@pytest.fixture(scope="module")
def sdist_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("sdist-venv")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "CC", "PKG_CONFIG_LIBDIR",
                        "PKG_CONFIG_SYSROOT_DIR")}
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(SDISTS[-1]), "Pillow"],
                   check=True, timeout=1200, env={**env, "TIGHTBIND_REQUIRE": "all"})
    return python


def run(python: Path, code: str) -> str:
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                            cwd=python.parent, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_sdist_links_the_system_libraries(sdist_python):
    report = json.loads(run(sdist_python, "from tightbind.__main__ import main; "
                                          "main(['info', '--json'])"))
    assert report["package"].startswith(str(sdist_python.parent.parent))
    for name in ("tesseract", "leptonica", "libssl", "libcrypto"):
        assert report["libraries"][name]["file"].startswith(SYSTEM_LIBS), report
    assert not report["errors"]


def test_sdist_build_works_in_every_area(sdist_python):
    out = run(sdist_python, (
        "import tightbind._frame\n"
        "from tightbind import tls\n"
        "from tightbind.ocr import TessApi\n"
        "from PIL import Image, ImageDraw, ImageFont\n"
        "font = ImageFont.truetype('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', 40)\n"
        "image = Image.new('L', (700, 120), 255)\n"
        "ImageDraw.Draw(image).text((20, 30), 'built from the sdist', font=font, fill=0)\n"
        "with TessApi() as api:\n"
        "    api.set_image(image)\n"
        "    api.recognize()\n"
        "    print(api.get_utf8_text().strip())\n"
        "print(tightbind._frame.__name__)\n"
        "print(tls.openssl_version().split()[0])\n"
    ))
    assert out.split("\n")[:3] == ["built from the sdist", "tightbind._frame",
                                  "OpenSSL"]
