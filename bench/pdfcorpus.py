"""Scanned and born-digital PDFs made here, with the text drawn on them, for the
searchable-PDF tests and ``tightbind bench pdf``.

Pages are drawn with Pillow (DejaVu Sans, 300 dpi A4 unless said) and embedded with
pikepdf: 1-bit pages as CCITT G4 (through img2pdf) or JBIG2 (a generic region, MMR-coded,
written here), grey, colour and CMYK pages as JPEG,
vector pages as text in a font; the kinds the tests need (rotated, offset CropBox,
UserUnit, links, a form field, an outline, an earlier OCR layer) are built on those.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["WORDS", "DrawnPage", "draw_page", "scanned_pdf", "vector_pdf"]

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
_WORD_LIST = (
    "archive record letter invoice council library harbour station market railway county "
    "meeting minutes annual district general special evening treasurer committee report "
    "number between during ordinary summer winter garden village bridge river mountain "
    "yellow orange purple window kitchen theatre museum hospital school college")
WORDS = tuple(_WORD_LIST.split(" "))
A4_POINTS = (595.276, 841.89)


@dataclass
class DrawnPage:
    """A page image and what was drawn on it: ``words`` as (text, box in pixels)."""

    image: Any
    words: list[tuple[str, tuple[int, int, int, int]]]
    dpi: int

    @property
    def text(self) -> str:
        return " ".join(word for word, _ in self.words)


def draw_page(seed: int, *, dpi: int = 300, size: tuple[float, float] = A4_POINTS,
              lines: int = 18, mode: str = "L", skew: float = 0.0,
              colour: tuple[int, int, int] = (20, 20, 20),
              paper: tuple[int, int, int] = (255, 255, 255)) -> DrawnPage:
    """A page of ``lines`` lines of words at ``dpi``, in Pillow ``mode`` ("1", "L",
    "RGB"), turned by ``skew`` degrees; word boxes are those before the skew."""
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(seed)
    width, height = round(size[0] / 72 * dpi), round(size[1] / 72 * dpi)
    font = ImageFont.truetype(FONT, round(dpi * 0.16))
    image = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(image)
    margin = round(dpi * 0.8)
    line_height = round(dpi * 0.32)
    words: list[tuple[str, tuple[int, int, int, int]]] = []
    y = margin
    for _ in range(lines):
        if y + line_height > height - margin:
            break
        x = margin
        while True:
            word = rng.choice(WORDS)
            box = draw.textbbox((x, y), word, font=font)
            if box[2] > width - margin:
                break
            draw.text((x, y), word, font=font, fill=colour)
            left, top, right, bottom = (round(v) for v in box)
            words.append((word, (left, top, right, bottom)))
            x = right + round(font.getlength(" "))  # the font's own word space
        y += line_height
    if skew:
        image = image.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=paper)
    if mode == "1":
        image = image.convert("L").point(lambda v: 255 if v > 128 else 0).convert("1")
    elif mode != "RGB":
        image = image.convert(mode)
    return DrawnPage(image, words, dpi)


def _jpeg(image: Any, quality: int = 75) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, dpi=(300, 300))
    return out.getvalue()


def _g4_page(page: DrawnPage) -> bytes:
    import img2pdf

    image = page.image
    if image.mode != "1":
        image = image.convert("L").point(lambda v: 255 if v > 128 else 0).convert("1")
    tiff = io.BytesIO()
    image.save(tiff, "TIFF", compression="group4", dpi=(page.dpi, page.dpi))
    data = img2pdf.convert(tiff.getvalue())
    assert isinstance(data, bytes)
    return data


def _jbig2(page: DrawnPage) -> bytes:
    """``page`` as a JBIG2 embedded stream (as PDF holds it): a page information segment
    and one immediate lossless generic region, MMR-coded (the T.6 data of a G4 encoding
    whose 0 bits are the paper), and an end of page."""
    import struct

    import img2pdf
    import pikepdf
    from PIL import ImageOps

    inverted = ImageOps.invert(page.image.convert("L")).point(
        lambda v: 255 if v > 128 else 0).convert("1")
    tiff = io.BytesIO()
    inverted.save(tiff, "TIFF", compression="group4")
    single = img2pdf.convert(tiff.getvalue())
    assert isinstance(single, bytes)
    with pikepdf.open(io.BytesIO(single)) as pdf:
        [stream] = pdf.pages[0].get_images().values()
        mmr = stream.read_raw_bytes()

    def segment(number: int, kind: int, data: bytes) -> bytes:
        return struct.pack(">IBBBI", number, kind, 0, 1, len(data)) + data

    width, height = page.image.size
    per_metre = round(page.dpi / 0.0254)
    info = struct.pack(">IIIIBH", width, height, per_metre, per_metre, 0, 0)
    region = struct.pack(">IIIIB", width, height, 0, 0, 0) + b"\x01" + mmr  # MMR on
    return segment(0, 48, info) + segment(1, 39, region) + segment(2, 49, b"")


def _image_page(pdf: Any, page: DrawnPage, encoding: str) -> Any:
    """A new page of ``pdf`` showing ``page`` as one image encoded as ``encoding``
    ("g4", "jbig2", "jpeg", "cmyk-jpeg", "flate")."""
    import pikepdf

    image = page.image
    width_pt, height_pt = image.width * 72 / page.dpi, image.height * 72 / page.dpi
    if encoding == "g4":
        with pikepdf.open(io.BytesIO(_g4_page(page))) as single:
            pdf.pages.append(single.pages[0])
        return pdf.pages[-1]
    bits = 8
    if encoding == "jbig2":
        stream = pikepdf.Stream(pdf, _jbig2(page))
        space, filters, bits = pikepdf.Name.DeviceGray, pikepdf.Name.JBIG2Decode, 1
    elif encoding == "cmyk-jpeg":
        cmyk = image.convert("CMYK")
        stream = pikepdf.Stream(pdf, _jpeg(cmyk))
        space, filters = pikepdf.Name.DeviceCMYK, pikepdf.Name.DCTDecode
        stream.Decode = pikepdf.Array([1, 0, 1, 0, 1, 0, 1, 0])  # Adobe's inverted CMYK
    elif encoding == "jpeg":
        stream = pikepdf.Stream(pdf, _jpeg(image))
        space = pikepdf.Name.DeviceRGB if image.mode == "RGB" else pikepdf.Name.DeviceGray
        filters = pikepdf.Name.DCTDecode
    else:
        import zlib
        stream = pikepdf.Stream(pdf, zlib.compress(image.convert("L").tobytes()))
        space, filters = pikepdf.Name.DeviceGray, pikepdf.Name.FlateDecode
    stream.Type, stream.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    stream.Width, stream.Height, stream.BitsPerComponent = image.width, image.height, bits
    stream.ColorSpace, stream.Filter = space, filters
    content = f"q {width_pt:.4f} 0 0 {height_pt:.4f} 0 0 cm /Im0 Do Q".encode()
    new = pikepdf.Dictionary(
        Type=pikepdf.Name.Page, MediaBox=[0, 0, width_pt, height_pt],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=stream)),
        Contents=pikepdf.Stream(pdf, content))
    pdf.pages.append(pikepdf.Page(new))
    return pdf.pages[-1]


def scanned_pdf(pages: Sequence[tuple[DrawnPage, str]]) -> bytes:
    """A PDF of scanned pages: each (drawn page, encoding) as one image page."""
    import pikepdf

    pdf = pikepdf.new()
    for page, encoding in pages:
        _image_page(pdf, page, encoding)
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def vector_pdf(text_lines: Sequence[str], *, invisible: bool = False,
               under_image: DrawnPage | None = None) -> bytes:
    """A born-digital page: ``text_lines`` in Helvetica (``invisible``: render mode 3,
    as an OCR layer draws them), over ``under_image`` (a grey JPEG) when given."""
    import pikepdf

    pdf = pikepdf.new()
    if under_image is not None:
        page = _image_page(pdf, under_image, "jpeg")
        resources = page.obj.Resources
        width, height = (float(v) for v in page.mediabox[2:])
    else:
        width, height = A4_POINTS
        resources = pikepdf.Dictionary()
        pdf.pages.append(pikepdf.Page(pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, width, height], Resources=resources)))
        page = pdf.pages[-1]
    resources.Font = pikepdf.Dictionary(F1=pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica))
    ops = ["BT", "3 Tr" if invisible else "0 Tr", "/F1 14 Tf"]
    for number, line in enumerate(text_lines):
        ops.append(f"1 0 0 1 72 {height - 72 - 24 * number:.2f} Tm ({line}) Tj")
    ops.append("ET")
    page.contents_add(pdf.make_stream("\n".join(ops).encode()), prepend=False)
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()
