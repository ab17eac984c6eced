"""PDF pages for recognition: what text a page has, at what resolution and in what colour
to render it, and the rendering itself (pypdfium2).

:func:`prepare_page` is what a batch worker calls for each page of a PDF input; the graft
(:mod:`tightbind.ocr.pdfgraft`) then lays the recognised text over the original page.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tightbind.ocr._native import ffi
from tightbind.ocr.errors import ImageError, OcrError
from tightbind.ocr.pix import Pix

if TYPE_CHECKING:  # pragma: no cover
    from tightbind.ocr.api import TessApi

__all__ = ["MIN_DPI", "ORIENTATION_THRESHOLD", "PDF_TEXT_MODES", "PreparedPage",
           "classify_text", "orient_page", "prepare_page", "render_plan"]

#: What ``--pdf-text`` accepts: pages that already have text are skipped (copied as they
#: are), redone (an earlier invisible OCR layer replaced) or forced (rasterised, OCRed).
PDF_TEXT_MODES = ("skip", "redo", "force")
#: A page is rendered for recognition at no less than this (tiny images are not starved).
MIN_DPI = 150
#: The largest side, in pixels, pdfium is asked to render.
_MAX_RENDER_SIDE = 32767
#: The orientation confidence a page must reach to be turned (OCRmyPDF's default).
ORIENTATION_THRESHOLD = 14.0
_INVISIBLE_MODES = (3, 7)  # text render modes that paint nothing (7: clip only)


@dataclass
class PreparedPage:
    """A PDF page ready for recognition: ``pix`` (None when ``skip``), the ``dpi`` it
    was rendered at, whether in ``colour``, the page's ``text`` kind ("none",
    "invisible": an earlier OCR layer only, "visible") and, for skipped pages, the
    page's own text in ``own_text``."""

    pix: Pix | None
    dpi: int
    colour: bool
    text: str
    skip: bool = False
    own_text: str = ""
    #: The resolution planned before the pixel cap (``dpi`` is lower when it bit).
    planned: int = 0

    def notes(self, mode: str) -> dict[str, object]:
        """The page's record in the manifest (under "pdf"): what was done with it
        ("skipped": it has text; "ocr"; "redo": an earlier layer replaced; "force":
        rasterised) and the resolution and colour it was rendered in."""
        if self.skip:
            action = "skipped"
        elif mode == "force":
            action = "force"
        elif mode == "redo" and self.text != "none":
            action = "redo"
        else:
            action = "ocr"
        return {"action": action, "dpi": self.dpi, "colour": self.colour}

    def skipped_parts(self, formats: tuple[str, ...], index: int) -> dict[str, bytes]:
        """The parts of a skipped page: its own text (txt, json), nothing in the page
        layouts (hocr, tsv, alto) and an empty PDF part (the page is kept as it is)."""
        parts = {}
        for fmt in formats:
            if fmt == "txt":
                parts[fmt] = self.own_text.encode()
            elif fmt == "json":
                parts[fmt] = json.dumps({"page": index + 1, "skipped": "the page has text",
                                         "text": self.own_text, "words": []},
                                        ensure_ascii=False).encode()
            else:
                parts[fmt] = b""
        return parts


def orient_page(api: TessApi, pix: Pix, threshold: float = ORIENTATION_THRESHOLD
                ) -> tuple[Pix, int]:
    """``pix`` turned upright when Tesseract's orientation detection is at least
    ``threshold`` confident (as OCRmyPDF's ``--rotate-pages-threshold``), and the
    clockwise degrees it was turned (0 when left alone, or too little text to tell)."""
    api.set_image_pix(pix)
    try:
        found = api.detect_orientation_script()
    except OcrError:
        return pix, 0
    if found.orientation % 360 == 0 or found.orientation_confidence < threshold:
        return pix, 0
    turned = found.orientation % 360  # clockwise; found.rotation is the same, anticlockwise
    resolution = pix.resolution
    upright = pix.rotate(turned // 90)
    upright.resolution = resolution
    return upright, turned


def _pdfium() -> Any:
    """The pypdfium2 module (PdfSupportMissing without it); callers hold the PDFium lock
    (:func:`tightbind.ocr.sources.pdfium`)."""
    from tightbind.ocr.sources import _module
    return _module()


def classify_text(page: Any) -> str:
    """"visible" when the pdfium ``page`` shows text, "invisible" when its only text
    is drawn invisibly (an OCR layer), "none" when it has no text at all."""
    pdfium = _pdfium()
    raw = pdfium.raw
    kind = "none"
    for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_TEXT]):
        mode = raw.FPDFTextObj_GetTextRenderMode(obj.raw)
        if mode in _INVISIBLE_MODES:
            kind = "invisible"
        else:
            return "visible"
    return kind


def render_plan(page: Any, dpi: int, max_dpi: int | None) -> tuple[int, bool]:
    """The resolution and colour to render ``page`` at: its largest image's own
    resolution (at most ``dpi`` and ``max_dpi``, at least :data:`MIN_DPI`), ``dpi`` for a
    page without images; colour only when that image is in colour."""
    pdfium = _pdfium()
    raw = pdfium.raw
    cap = dpi if max_dpi is None else min(dpi, max_dpi)
    best_area = 0.0
    best_dpi = float(cap)
    colour = False
    for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE]):
        left, bottom, right, top = obj.get_bounds()
        area = max(right - left, 0.0) * max(top - bottom, 0.0)
        if area <= best_area:
            continue
        try:
            width, height = obj.get_px_size()
            metadata = obj.get_metadata()
        except pdfium.PdfiumError:
            continue
        if width <= 0 or height <= 0:
            continue
        best_area = area
        best_dpi = 72.0 * math.sqrt(width * height / area)
        colour = (metadata.bits_per_pixel >= 24
                  or metadata.colorspace == raw.FPDF_COLORSPACE_INDEXED)
    return max(min(cap, round(best_dpi)), min(MIN_DPI, cap)), colour


def _render(page: Any, index: int, dpi: int, colour: bool) -> Pix:
    width, height = page.get_size()
    scale = dpi / 72
    if max(width, height) * scale > _MAX_RENDER_SIDE:
        raise ImageError(f"PDF page {index + 1} is {width:.0f}x{height:.0f} points: "
                         f"too large at {dpi} dpi")
    bitmap = page.render(scale=scale, grayscale=not colour, rev_byteorder=True)
    try:
        pix = Pix._from_raw(ffi.from_buffer(bitmap.buffer), bitmap.width, bitmap.height,
                            bitmap.n_channels, bitmap.stride)
    finally:
        bitmap.close()
    pix.resolution = (dpi, dpi)
    return pix


def _hide_text(pdfium: Any, page: Any) -> None:
    """Leave the page's text out of the picture, in this in-memory copy (never saved):
    top-level text objects removed, those inside form XObjects (which PDFium cannot
    remove from there) drawn invisibly, so visible text in a form is not read again."""
    raw = pdfium.raw
    for obj in list(page.get_objects(filter=[raw.FPDF_PAGEOBJ_TEXT], max_depth=1)):
        page.remove_obj(obj)
    for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_TEXT]):
        raw.FPDFTextObj_SetTextRenderMode(obj.raw, raw.FPDF_TEXTRENDERMODE_INVISIBLE)


def prepare_page(path: str | os.PathLike[str], index: int, *, dpi: int = 300,
                 max_dpi: int | None = None, mode: str = "skip") -> PreparedPage:
    """Open page ``index`` (from 0) of the PDF at ``path`` and make it ready for
    recognition under ``mode`` (one of :data:`PDF_TEXT_MODES`): a page with text (or an
    earlier OCR layer) is skipped in "skip" mode (its own text returned instead); in
    "redo" mode its text objects are left out of the rendering, so only what is not text
    yet is recognised;
    in "force" mode everything is rendered.  Raises ValueError for an unknown mode,
    :class:`ImageError` for a page that cannot be opened or rendered."""
    if mode not in PDF_TEXT_MODES:
        raise ValueError(f"unknown pdf text mode {mode!r}; choose from "
                         f"{', '.join(PDF_TEXT_MODES)}")
    from tightbind.ocr.sources import _document, fitting_dpi
    from tightbind.ocr.sources import pdfium as pdfium_session

    # Under the process's one PDFium lock (PDFium is not thread-safe), on the document the
    # renderer keeps open; "redo" edits a page in memory, so it opens its own copy.
    with pdfium_session() as pdfium:
        fresh = mode == "redo"
        try:
            pdf = pdfium.PdfDocument(os.fspath(path)) if fresh else _document(pdfium,
                                                                               os.fspath(path))
        except pdfium.PdfiumError as exc:
            raise ImageError(f"cannot open the PDF: {exc}") from None
        try:
            if not 0 <= index < len(pdf):
                raise ImageError(f"the PDF has no page {index + 1}")
            page = pdf[index]
            try:
                text = classify_text(page)
                planned, colour = render_plan(page, dpi, max_dpi)
                # Checked against MAX_IMAGE_PIXELS before a pixel is allocated: a page too
                # large at the planned resolution is rendered at the largest that fits.
                width, height = page.get_size()
                render_dpi = fitting_dpi(width, height, planned)
                if text != "none" and mode == "skip":
                    textpage = page.get_textpage()
                    try:
                        own = textpage.get_text_bounded()
                    finally:
                        textpage.close()
                    return PreparedPage(None, render_dpi, colour, text, skip=True,
                                        own_text=own, planned=planned)
                if text != "none" and mode == "redo":
                    _hide_text(pdfium, page)
                pix = _render(page, index, render_dpi, colour)
            finally:
                page.close()
        except pdfium.PdfiumError as exc:
            raise ImageError(f"cannot render PDF page {index + 1}: {exc}") from None
        finally:
            if fresh:
                pdf.close()
    return PreparedPage(pix, render_dpi, colour, text, planned=planned)
