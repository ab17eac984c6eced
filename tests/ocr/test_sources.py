"""PDF pages through one renderer per process, and TIFF pages one directory at a time."""

from __future__ import annotations

import json

import pytest
from helpers.documents import a4_page, text_pdf, tiff_pages
from helpers.limits import run_limited
from helpers.pages import render

from tightbind.ocr import ImageError
from tightbind.ocr.batch import run_batch
from tightbind.ocr.pix import MAX_PAGES, MAX_SIDE
from tightbind.ocr.sources import (
    MIN_DPI,
    fitting_dpi,
    read_tiff_page,
    render_pdf_page,
    tiff_directories,
)

pytest.importorskip("pypdfium2")


def manifest(out) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("workers", [2, 4])
def test_a_pdf_rendered_from_several_threads_loses_no_page(tmp_path, workers):
    """Before: PDFium rendered from several threads at once ("Data format error",
    "Failed to load page", segfaults)."""
    (tmp_path / "long.pdf").write_bytes(text_pdf(80))
    summary = run_batch(tmp_path / "long.pdf", tmp_path / "out", workers=workers, dpi=40)
    records = manifest(tmp_path / "out")
    assert [r["status"] for r in records] == ["ok"] * 80, summary.failures[:3]
    assert summary.failed == 0


def test_pdf_pages_loaded_from_four_threads_at_once(tmp_path):
    """Before: a segfault (PDFium used by several threads at once) in every trial."""
    (tmp_path / "long.pdf").write_bytes(text_pdf(300))
    result = run_limited(f"""
        from concurrent.futures import ThreadPoolExecutor
        from tightbind.ocr.inputs import load_page

        def one(index):
            return load_page({str(tmp_path / "long.pdf")!r}, "pdf", index, 72).width

        with ThreadPoolExecutor(4) as pool:
            print(sorted(set(pool.map(one, range(300)))))
        """, seconds=120, memory_mib=1024)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[612]"


def test_fitting_dpi():
    assert fitting_dpi(612, 792, 300) == 300
    limit = 4_000_000
    dpi = fitting_dpi(7800, 7800, 300, limit)
    side = -(-7800 * dpi // 72)
    assert side * side <= limit < (-(-7800 * (dpi + 1) // 72)) ** 2
    assert fitting_dpi(100, 200_000, 300) == 72 * MAX_SIDE // 200_000
    with pytest.raises(ImageError, match=f"even at {MIN_DPI} dpi"):
        fitting_dpi(14_400_000, 14_400_000, 300)
    for width, height in [(0, 10), (10, float("nan")), (float("inf"), 1)]:
        with pytest.raises(ImageError, match="no usable size"):
            fitting_dpi(width, height, 300)


def test_a_huge_pdf_page_is_rendered_at_the_resolution_that_fits(tmp_path):
    """Before: a 416-byte PDF with a 7800-point page was rendered at 300 dpi (4 GB)."""
    (tmp_path / "huge.pdf").write_bytes(text_pdf(1, width=7800, height=7800))
    result = run_limited(f"""
        import json, tightbind.ocr
        from tightbind.ocr.batch import run_batch
        tightbind.ocr.MAX_IMAGE_PIXELS = 4_000_000
        summary = run_batch({str(tmp_path / "huge.pdf")!r}, {str(tmp_path / "out")!r},
                            workers=1)
        print(summary.failed)
        """, seconds=120, memory_mib=1500)
    assert result.returncode == 0, result.stderr
    record, = manifest(tmp_path / "out")
    assert record["status"] == "ok" and record["rendered_dpi"] == fitting_dpi(
        7800, 7800, 300, 4_000_000)
    assert result.peak_mib < 400


def test_render_pdf_page_errors(tmp_path):
    (tmp_path / "one.pdf").write_bytes(text_pdf(1))
    assert render_pdf_page(str(tmp_path / "one.pdf"), 0, 72).pix.width == 612
    with pytest.raises(ImageError, match="no page 2"):
        render_pdf_page(str(tmp_path / "one.pdf"), 1, 72)
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 nothing")
    with pytest.raises(ImageError, match="cannot open the PDF"):
        render_pdf_page(str(tmp_path / "bad.pdf"), 0, 72)
