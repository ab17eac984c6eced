"""The repaired wheel, installed into a fresh virtual environment, works on its own.

scripts/build-wheels makes wheelhouse/*.whl (scripts/test runs it first, so CI always
checks a fresh wheel); without one these tests skip.  The suite then runs a second
time, against the installed wheel instead of the tree's build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

WHEELS = sorted((ROOT / "wheelhouse").glob("tightbind-*manylinux*.whl"))

pytestmark = [
    pytest.mark.wheel,
    pytest.mark.skipif(not WHEELS, reason="no repaired wheel in wheelhouse/ "
                                          "(bash scripts/build-wheels makes one)"),
]

# Suites that test the source tree itself rather than the installed package.
SOURCE_ONLY = ["test_wheel.py", "test_lint.py", "test_build.py", "test_fuzz.py"]


def clean_env(**updates: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "TESSDATA_PREFIX", "VIRTUAL_ENV")}
    env.update(updates)
    return env


@pytest.fixture(scope="module")
def wheel_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("wheel-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         str(WHEELS[-1]), "-r", str(ROOT / "requirements" / "test.txt")],
        check=True, env=clean_env(),
    )
    return python


def run_in(python: Path, code: str, **env: str) -> str:
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                            cwd=python.parent, env=clean_env(**env), check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_wheel_carries_its_native_libraries(wheel_python):
    out = run_in(wheel_python, "import tightbind, os; print(os.path.dirname(tightbind.__file__))")
    package = Path(out.strip())
    assert str(package).startswith(str(wheel_python.parent.parent)), package
    modules = sorted(package.glob("_*.so"))
    assert any(m.name.startswith("_frame") for m in modules)
    wanted = {"_ocr": ("libtesseract", "liblept"), "_tls": ("libssl", "libcrypto")}
    for module in modules:
        needs = wanted.get(module.name.split(".")[0])
        if not needs:
            continue
        ldd = subprocess.run(["ldd", str(module)], capture_output=True, text=True,
                             check=True).stdout
        for library in needs:
            lines = [line for line in ldd.splitlines() if library in line]
            assert lines, (module, library, ldd)
            # auditwheel's RPATH resolves them inside the venv: .../tightbind.libs/...
            assert all("=> " + str(package.parent) in line and "/tightbind.libs/" in line
                       for line in lines), lines


def test_wheel_carries_english_and_osd_models(wheel_python):
    out = run_in(wheel_python, "import tightbind, os; print(os.path.dirname(tightbind.__file__))")
    tessdata = Path(out.strip()) / "tessdata"
    for name in ("eng.traineddata", "osd.traineddata", "COPYING.eng"):
        assert (tessdata / name).is_file(), name


def test_suite_passes_against_the_installed_wheel(wheel_python, tmp_path):
    tests = ROOT / "tests"
    ignore = [f"--ignore={tests / name}" for name in SOURCE_ONLY]
    result = subprocess.run(
        [str(wheel_python), "-m", "pytest", "-p", "no:cacheprovider",
         f"--rootdir={tests}", "-c", os.devnull, str(tests), *ignore],
        capture_output=True, text=True, cwd=tmp_path, env=clean_env(), check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert f"tightbind 0.1.0 from {wheel_python.parent.parent}" in result.stdout


def test_wheel_ocr_uses_its_own_models(wheel_python):
    code = (
        "from tightbind.ocr import TessApi\n"
        "from PIL import Image, ImageDraw, ImageFont\n"
        "font = ImageFont.truetype('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', 40)\n"
        "image = Image.new('L', (700, 120), 255)\n"
        "ImageDraw.Draw(image).text((20, 30), 'wheel models work', font=font, fill=0)\n"
        "with TessApi() as api:\n"
        "    api.set_image(image)\n"
        "    api.recognize()\n"
        "    print(api.data_path)\n"
        "    print(api.get_utf8_text().strip())\n"
    )
    data_path, text = run_in(wheel_python, code).strip().splitlines()
    assert data_path.rstrip("/").endswith("site-packages/tightbind/tessdata")
    assert data_path.startswith(str(wheel_python.parent.parent))
    assert text == "wheel models work"
