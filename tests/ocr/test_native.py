"""tightbind.ocr._native: OpenMP limited at load, native messages kept off stderr."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import pytest
from PIL import Image

from tightbind.ocr import (
    ImageError,
    Pix,
    openmp_thread_limit,
)


def run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=environment, timeout=120, cwd="/", check=False)


def test_nothing_on_stderr(pages, tmp_path):
    done = run_python(f"""
        import logging
        from PIL import Image
        from tightbind.ocr import TessApi, OcrError
        try:
            TessApi(None, "xyz")
        except OcrError:
            pass
        api = TessApi()
        import io
        whole = open({str(pages['paragraph'])!r}, "rb").read()
        jpeg = io.BytesIO()
        Image.open(io.BytesIO(whole)).save(jpeg, "JPEG")
        for bad in (b"junk", whole[:300], whole[:-20], jpeg.getvalue()[:2000]):
            try:
                api.set_image(bad)
            except OcrError:
                pass
        api.set_image(Image.new("L", (2, 40), 0))     # "Image too small to scale"
        api.recognize()
        api.set_image(Image.new("L", (600, 100), 255))  # no dpi, empty page
        api.recognize()
        print(repr(api.get_utf8_text()))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.strip() == "''"


def test_leptonica_messages_go_to_logging(caplog, pages):
    buffer = io.BytesIO()
    Image.open(pages["paragraph"]).save(buffer, "WEBP", lossless=True)
    data = bytearray(buffer.getvalue())
    data[40:400] = bytes(360)  # damaged pixels inside a whole file: only libwebp can tell
    with caplog.at_level("DEBUG", logger="tightbind.ocr"), pytest.raises(ImageError) as info:
        Pix.from_bytes(bytes(data))
    assert "leptonica" in str(info.value).lower()
    assert any(r.name == "tightbind.ocr" and "leptonica" in r.getMessage()
               for r in caplog.records)


def test_openmp_defaults_to_one_thread():
    code = """
        import os
        import tightbind.ocr as ocr
        print(ocr.openmp_thread_limit(), ocr.OMP_DEFAULTED, os.environ.get("OMP_THREAD_LIMIT"))
    """
    assert run_python(code).stdout.split() == ["1", "True", "None"]
    assert run_python(code, {"OMP_THREAD_LIMIT": "2"}).stdout.split() == ["2", "False", "2"]
    assert openmp_thread_limit() in (1, int(os.environ.get("OMP_THREAD_LIMIT", "1")))
