"""Drive every native path of tightbind.ocr once; run under valgrind by test_ocr.py.

Usage: python exercise.py WORKDIR [--quick].  Prints "ok" at the end; any failure raises.
--quick covers the shim (page walks at every level, Pix raw I/O, error paths) on one
small image and skips batches, threads, renderers and layout.
"""

from __future__ import annotations

import io
import sys
import threading
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tightbind.ocr import (
    PSM,
    RIL_BLOCK,
    RIL_PARA,
    RIL_SYMBOL,
    RIL_TEXTLINE,
    RIL_WORD,
    OcrError,
    Pix,
    TessApi,
    ocr_many,
    pix_read_pages,
)

work = Path(sys.argv[1])
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 36)
image = Image.new("L", (760, 220), 255)
draw = ImageDraw.Draw(image)
draw.text((40, 40), "Valgrind checks 1234 words", font=font, fill=0)
draw.text((40, 120), "and their boxes too.", font=font, fill=0)
image.save(work / "page.png", dpi=(300, 300))
buffer = io.BytesIO()
image.save(buffer, "TIFF", save_all=True, append_images=[image.rotate(90, expand=True)])

quick = "--quick" in sys.argv
with TessApi(psm=PSM.SINGLE_BLOCK if quick else None) as api:
    sources = [np.asarray(image), image.convert("RGBA")] if quick else [
        work / "page.png", np.asarray(image), image.convert("RGBA"), image.convert("1"),
        Pix.from_pil(image).to_gray()]
    for source in sources:
        api.set_image(source)
        api.recognize()
        assert "Valgrind" in api.get_utf8_text(), api.get_utf8_text()
    for level in (RIL_BLOCK, RIL_PARA, RIL_TEXTLINE, RIL_WORD, RIL_SYMBOL):
        assert api.results(level)
    api.get_hocr_text(), api.get_tsv_text(), api.get_alto_text(), api.get_box_text()
    api.get_unlv_text(), api.all_word_confidences(), api.mean_text_confidence()
    api.get_text_direction()
    for bad in (b"", b"junk", (work / "page.png").read_bytes()[:200], buffer.getvalue()[:900]):
        try:
            api.set_image(bad)
        except OcrError:
            pass
    Pix.from_numpy(np.zeros((3, 5, 4), np.uint8)).to_pil(), Pix.from_pil(image).rotate(1)
    jpeg = io.BytesIO()
    image.convert("CMYK").save(jpeg, "JPEG")
    Pix.from_bytes(jpeg.getvalue()).to_numpy()
    for cut in (300, len(jpeg.getvalue()) - 10):
        try:
            Pix.from_bytes(jpeg.getvalue()[:cut])
        except OcrError:
            pass
    # Every format through the image check (tb_ocr_image_check) and its decoder, whole
    # and cut; an 8 bpp JPEG of odd width (the shim's reader fills each row's padding).
    small = image.crop((0, 0, 75, 30))
    for fmt, options in (("PNG", {}), ("PNG", {"interlace": 1}), ("TIFF", {}),
                         ("TIFF", {"compression": "tiff_lzw"}),
                         ("TIFF", {"compression": "tiff_adobe_deflate"}),
                         ("TIFF", {"compression": "packbits"}), ("GIF", {}), ("BMP", {}),
                         ("PPM", {}), ("WEBP", {}), ("JPEG2000", {}), ("JPEG", {}),
                         ("JPEG", {"progressive": True})):
        encoded = io.BytesIO()
        small.save(encoded, fmt, **options)
        data = encoded.getvalue()
        Pix.from_bytes(data).to_numpy()
        for cut in (len(data) // 3, len(data) - 1):
            try:
                Pix.from_bytes(data[:cut])
            except OcrError:
                pass
    pages_data = io.BytesIO()
    small.save(pages_data, "TIFF", save_all=True, append_images=[small.convert("1")] * 2,
               compression="packbits")
    assert len(pix_read_pages(pages_data.getvalue())) == 3
    # The batch's TIFF reading: the directory chain, then each page alone, whole and cut.
    import tempfile

    from tightbind.ocr.sources import read_tiff_page, tiff_directories
    with tempfile.NamedTemporaryFile(suffix=".tif") as tiff:
        for data in (pages_data.getvalue(), pages_data.getvalue()[:-40]):
            tiff.seek(0)
            tiff.truncate()
            tiff.write(data)
            tiff.flush()
            for page, offset in enumerate(tiff_directories(tiff.name)):
                try:
                    read_tiff_page(tiff.name, offset, page)
                except OcrError:
                    pass
    # Layout after layout or recognition: Tesseract's AnalyseLayout() would overwrite
    # (leak) the page it holds unless the image is set again first.
    api.set_image(image)
    api.get_text_lines()
    api.analyse_layout()
    api.analyse_layout(RIL_TEXTLINE)
    api.recognize()
    api.analyse_layout(RIL_WORD)
    # Every row of a page in one call (ocr_layout.cpp): layout only, then recognised with
    # LSTM choices and each symbol's choice iterator; twice (choices are put back).
    api.analyse_layout(None).items(RIL_WORD)
    api.set_variable("lstm_choice_mode", 2)
    api.set_image(image)
    api.recognize()
    for _ in range(2):
        rows = api.page_rows()
        [rows.items(level) for level in range(5)]
    api.set_variable("lstm_choice_mode", 0)
    if quick:
        print("ok")
        sys.exit(0)
    api.set_rectangle(0, 100, 760, 100)
    api.recognize()
    assert api.get_utf8_text().startswith("and"), api.get_utf8_text()
    api.set_image(image)
    api.analyse_layout(RIL_WORD), api.get_words(images=True), api.get_regions()
    api.get_thresholded_image().to_png()
    try:
        api.detect_orientation_script()
    except OcrError:
        pass
    try:
        api.set_image(image)
        api.recognize(timeout=0.001)
    except OcrError:
        pass
    pages = pix_read_pages(buffer.getvalue())
    [p.rotate(1).scale(0.5).deskew().to_numpy() for p in pages]
    api.process_pages(pages, str(work / "doc"), ("pdf", "hocr", "tsv", "alto", "txt"))
try:
    TessApi(None, "xyz")
except OcrError:
    pass
texts = [r.text for r in ocr_many([image, image], workers=2)]
assert texts[0] == texts[1]
thread = threading.Thread(target=lambda: TessApi().ocr(image))
thread.start()
thread.join()
print("ok")
