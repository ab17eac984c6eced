"""PDF pages through one renderer per process, and TIFF pages one directory at a time."""

from __future__ import annotations

import json

import pytest
from helpers.documents import (
    damage_tiff_page,
    empty_directories_tiff,
    text_pdf,
    tiff_directory_offsets,
    tiff_pages,
)
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


def pages_of_widths(widths: list[int]) -> list:
    """Bilevel pages told apart by their widths, each with a line of text."""
    from PIL import Image

    pages = []
    for number, width in enumerate(widths, 1):
        line = render([f"Page {number} words"])[0]
        page = Image.new("L", (width, line.height + 40), 255)
        page.paste(line, (0, 20))
        pages.append(page.convert("1"))
    return pages


def test_tiff_pages_are_read_alone_from_every_position(tmp_path):
    widths = [900 + 10 * k for k in range(12)]
    data = tiff_pages(pages_of_widths(widths), compression="group4", dpi=(300, 300))
    path = tmp_path / "many.tif"
    path.write_bytes(data)
    offsets = tiff_directories(str(path))
    assert offsets == tiff_directory_offsets(data)
    for index in reversed(range(len(widths))):
        assert read_tiff_page(str(path), offsets[index], index).width == widths[index]


@pytest.mark.parametrize("damaged", [0, 1, 2, 3])
def test_a_damaged_tiff_page_fails_alone_at_every_position(tmp_path, damaged):
    """Before: one damaged page failed all four and nothing was written."""
    data = tiff_pages(pages_of_widths([800, 810, 820, 830]), compression="group4",
                      dpi=(300, 300))
    (tmp_path / "four.tif").write_bytes(damage_tiff_page(data, damaged))
    summary = run_batch(tmp_path / "four.tif", tmp_path / "out", workers=2)
    records = manifest(tmp_path / "out")
    assert [r["status"] for r in records] == ["failed" if k == damaged else "ok"
                                              for k in range(4)]
    assert "runs past the end" in records[damaged]["error"]["message"]
    assert summary.failed == 1
    text = (tmp_path / "out" / "four.tif.txt").read_text()
    assert [f"Page {k + 1}" in text for k in range(4)] == [k != damaged for k in range(4)]


def test_tiff_pages_judged_alone_against_the_pixel_limit(tmp_path):
    """Before: every page of a 22-page A4 TIFF failed, its pages together being over
    MAX_IMAGE_PIXELS (here: three pages, the limit lowered to hold one)."""
    data = tiff_pages(pages_of_widths([1000, 1000, 1000]), compression="group4")
    (tmp_path / "three.tif").write_bytes(data)
    result = run_limited(f"""
        import tightbind.ocr
        from tightbind.ocr.batch import run_batch
        tightbind.ocr.MAX_IMAGE_PIXELS = 300_000
        print(run_batch({str(tmp_path / "three.tif")!r}, {str(tmp_path / "out")!r}).failed)
        """, seconds=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_a_tiff_page_over_the_pixel_limit_fails_alone(tmp_path):
    data = tiff_pages(pages_of_widths([800, 3000]), compression="group4")
    path = tmp_path / "two.tif"
    path.write_bytes(data)
    offsets = tiff_directories(str(path))
    import tightbind.ocr

    limit = tightbind.ocr.MAX_IMAGE_PIXELS
    tightbind.ocr.MAX_IMAGE_PIXELS = 200_000
    try:
        assert read_tiff_page(str(path), offsets[0], 0).width == 800
        with pytest.raises(ImageError, match="page 2 of the TIFF is 3000x"):
            read_tiff_page(str(path), offsets[1], 1)
    finally:
        tightbind.ocr.MAX_IMAGE_PIXELS = limit


def test_a_tiff_page_bomb_is_refused_past_max_pages(tmp_path):
    """Before: 200,000 empty directories in 1.2 MB left 134,782 .done files after 60 s."""
    (tmp_path / "bomb.tif").write_bytes(empty_directories_tiff(200_000))
    result = run_limited(f"""
        from tightbind.ocr.batch import run_batch
        summary = run_batch({str(tmp_path / "bomb.tif")!r}, {str(tmp_path / "out")!r})
        print(summary.failed, summary.failures[0]["error"]["message"])
        """, seconds=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"1 cannot read the TIFF: TIFF with more than {MAX_PAGES} pages"
    assert not list((tmp_path / "out" / ".tightbind" / "pages").iterdir())


def test_tiff_directories_of_damaged_chains(tmp_path):
    path = tmp_path / "x.tif"
    path.write_bytes(empty_directories_tiff(MAX_PAGES))
    assert len(tiff_directories(str(path))) == MAX_PAGES
    path.write_bytes(empty_directories_tiff(5, loop_to=2))
    assert len(tiff_directories(str(path))) == 5
    path.write_bytes(empty_directories_tiff(3)[:-10])  # the last directory cut
    assert len(tiff_directories(str(path))) == 3
    for data, message in [(b"II*\0\xff\xff\0\0", "first directory"),
                          (b"MM\0+" + b"\0" * 12, "BigTIFF"), (b"GIF89a", "not a TIFF"),
                          (b"", "not a TIFF")]:
        path.write_bytes(data)
        with pytest.raises(ImageError, match=message):
            tiff_directories(str(path))
    with pytest.raises(ImageError, match="cannot read page 1"):
        read_tiff_page(str(path), 8, 0)


@pytest.mark.parametrize("workers", [1, 2, 4])
@pytest.mark.parametrize("count", [1, 3, 300, pytest.param(3000, marks=pytest.mark.slow)])
def test_every_page_of_pdfs_of_any_length_at_any_workers(tmp_path, count, workers):
    """PDFs of 1 to 3,000 pages, every page rendered from ``workers`` threads at once
    (at 20 dpi: the renderer's discipline is under test, not recognition)."""
    (tmp_path / "doc.pdf").write_bytes(text_pdf(count))
    result = run_limited(f"""
        from concurrent.futures import ThreadPoolExecutor
        from tightbind.ocr.inputs import Document, load_page, page_count

        path = {str(tmp_path / "doc.pdf")!r}
        count = page_count(Document(path, "doc.pdf", "pdf", ""))
        with ThreadPoolExecutor({workers}) as pool:
            sizes = set(pool.map(lambda i: load_page(path, "pdf", i, 20).width, range(count)))
        print(count, sorted(sizes))
        """, seconds=300, memory_mib=1024)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [str(count), "[170]"]
