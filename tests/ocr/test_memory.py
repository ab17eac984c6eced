"""tightbind.ocr keeps memory flat over many pages."""

from __future__ import annotations

import pytest
from helpers import rss
from helpers.pages import (
    render,
)

from tightbind.ocr import (
    PSM,
    RIL_SYMBOL,
    Pix,
    TessApi,
)

# ---- memory ------------------------------------------------------------------------------


@pytest.mark.slow
def test_memory_flat_over_1000_pages():
    image, _ = render(["Memory 42 stays flat"], size=24, margin=10, spacing=5)
    pix = Pix.from_pil(image)
    png = pix.to_png()
    with TessApi(psm=PSM.SINGLE_LINE) as engine:

        def page(n: int) -> None:
            engine.set_image(png if n % 2 else pix)
            engine.recognize()
            assert engine.get_utf8_text().split() == ["Memory", "42", "stays", "flat"]
            engine.results(RIL_SYMBOL)
            engine.get_hocr_text()
            engine.all_word_confidences()

        for n in range(200):
            page(n)
        baseline = rss.current_kib()
        for n in range(800):
            page(n)
        grown = rss.current_kib() - baseline
    assert grown < 8 * 1024, f"RSS grew by {grown} KiB over 800 pages"
