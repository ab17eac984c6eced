"""tightbind.ocr.documents: process_pages through Tesseract's renderers."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.pages import (
    cli,
)
from PIL import Image

from tightbind.ocr import (
    ImageError,
    ImageFileNotFound,
    RecognitionTimeout,
    pix_read,
    process_pages,
)


def test_process_pages(api, pages, tmp_path):
    written = api.process_pages(pages["paragraph"], tmp_path / "doc")
    assert sorted(Path(p).name for p in written) == sorted(
        ["doc.pdf", "doc.hocr", "doc.tsv", "doc.xml", "doc.txt"])
    assert (tmp_path / "doc.txt").read_text() == cli(pages["paragraph"])
    pdf = (tmp_path / "doc.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"GlyphLessFont" in pdf  # the invisible text layer
    assert (tmp_path / "doc.tsv").read_text() == cli(pages["paragraph"], "tsv")
    tiff = tmp_path / "two.tif"
    Image.open(pages["line"]).save(tiff, save_all=True,
                                   append_images=[Image.open(pages["paragraph"])])
    process_pages(tiff, str(tmp_path / "new" / "multi"), ("hocr", "txt"))  # makes new/
    assert (tmp_path / "new" / "multi.hocr").read_text().count("class='ocr_page'") == 2
    api.process_pages([pages["line"], Image.open(pages["blocks"])], tmp_path / "list",
                      ["txt"])
    both = tmp_path / "both.tif"
    Image.open(pages["line"]).save(both, save_all=True, dpi=(300, 300),
                                   append_images=[Image.open(pages["blocks"])])
    assert (tmp_path / "list.txt").read_text() == cli(both)
    with pytest.raises(RecognitionTimeout):
        api.process_pages([pix_read(pages["paragraph"]).scale(3)], tmp_path / "slow", ["txt"],
                          timeout=0.001)
    with pytest.raises(ValueError):
        api.process_pages(pages["line"], tmp_path / "x", ["docx"])
    with pytest.raises(ImageFileNotFound):
        api.process_pages(tmp_path / "missing.tif", tmp_path / "x", ["txt"])
    with pytest.raises(ImageError):
        api.process_pages([], tmp_path / "x", ["txt"])
