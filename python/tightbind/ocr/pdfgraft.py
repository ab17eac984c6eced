"""Searchable PDFs by grafting: the original document, with an invisible text layer laid
over each recognised page.

The text layer of a page is Tesseract's own text-only PDF page (``textonly_pdf=1``, for
its GlyphLessFont) with the words laid out by :mod:`tightbind.ocr.pdftext` (each
stretched over its recognised box, in every writing direction), made by the worker.
:func:`graft_text_layer` opens the original with pikepdf (qpdf), turns each text page
into a Form XObject and draws it over the page,
scaled and turned into the page's own coordinate space (its CropBox, ``/Rotate`` and
UserUnit), after the page's own content (wrapped in ``q``/``Q`` so a content stream
that leaves the graphics state changed cannot move the layer).  Everything else in the
file is copied as it is: content streams, images (same bytes, same filters), fonts,
annotations, forms, outlines and metadata.

Pages that cannot be written back, and every page in "force" mode, are rasterised
instead (rendered with pypdfium2, drawn as one JPEG image under the text layer).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tightbind.ocr.errors import OcrError
from tightbind.ocr.pdfstrip import strip_invisible_text
from tightbind.ocr.pdftext import layout_text_page

__all__ = ["PageLayer", "PdfWriteMissing", "graft_text_layer", "layout_text_page", "page_matrix",
           "require_pdf_writers", "searchable_pdf", "strip_invisible_text"]

_JPEG_QUALITY = 85


class PdfWriteMissing(OcrError, ImportError):
    """A searchable PDF needs pikepdf (and img2pdf for image inputs), not installed."""


def require_pdf_writers() -> None:
    """Raise :class:`PdfWriteMissing` unless the ``[pdf]`` extra's writers (pikepdf,
    img2pdf) import: a batch asked for searchable PDFs checks this before any page runs,
    rather than failing every page."""
    _pikepdf()
    _img2pdf()


def _img2pdf() -> Any:
    try:
        import img2pdf
    except ImportError:
        raise PdfWriteMissing("searchable PDFs of images need img2pdf: "
                              "pip install 'tightbind[pdf]'") from None
    return img2pdf


def _pikepdf() -> Any:
    try:
        import pikepdf
    except ImportError:
        raise PdfWriteMissing("searchable PDFs need pikepdf: pip install 'tightbind[pdf]'") \
            from None
    return pikepdf


@dataclass
class PageLayer:
    """What to do with one page: lay ``text_pdf`` (a one-page text-only PDF) over it;
    ``rasterise`` it first at ``dpi`` (in ``colour``) instead of keeping its content;
    ``strip`` an earlier invisible text layer first; turn it by ``rotate`` degrees
    clockwise (added to its ``/Rotate``)."""

    text_pdf: bytes | None = None
    rasterise: bool = False
    dpi: int = 300
    colour: bool = False
    strip: bool = False
    rotate: int = 0


def _inherited(page_obj: Any, key: str) -> Any:
    node = page_obj
    for _ in range(64):  # a /Parent loop ends here
        if key in node:
            return node[key]
        if "/Parent" not in node:
            return None
        node = node["/Parent"]
    return None


def _box(page_obj: Any) -> tuple[float, float, float, float]:
    """The page's visible box in its user space: CropBox within MediaBox."""
    media = [float(v) for v in _inherited(page_obj, "/MediaBox")]
    crop_obj = _inherited(page_obj, "/CropBox")
    mx0, mx1 = sorted((media[0], media[2]))
    my0, my1 = sorted((media[1], media[3]))
    if crop_obj is None:
        return mx0, my0, mx1, my1
    crop = [float(v) for v in crop_obj]
    cx0, cx1 = sorted((crop[0], crop[2]))
    cy0, cy1 = sorted((crop[1], crop[3]))
    box = max(cx0, mx0), max(cy0, my0), min(cx1, mx1), min(cy1, my1)
    if box[2] <= box[0] or box[3] <= box[1]:
        return mx0, my0, mx1, my1
    return box


def _rotation(page_obj: Any) -> int:
    value = _inherited(page_obj, "/Rotate")
    try:
        return int(value) % 360 // 90 * 90 if value is not None else 0
    except (TypeError, ValueError):
        return 0


def page_matrix(box: tuple[float, float, float, float], rotate: int, width: float,
                height: float) -> tuple[float, float, float, float, float, float]:
    """The ``cm`` matrix that maps a ``width`` x ``height`` rectangle drawn upright (as
    the page is displayed, turned by ``rotate``) onto the page's visible ``box`` in its
    own user space."""
    x0, y0, x1, y1 = box
    shown_w, shown_h = (y1 - y0, x1 - x0) if rotate in (90, 270) else (x1 - x0, y1 - y0)
    sx, sy = shown_w / width, shown_h / height
    if rotate == 90:
        return 0.0, sx, -sy, 0.0, x1, y0
    if rotate == 180:
        return -sx, 0.0, 0.0, -sy, x1, y1
    if rotate == 270:
        return 0.0, -sx, sy, 0.0, x0, y1
    return sx, 0.0, 0.0, sy, x0, y0


def _cm(matrix: tuple[float, ...]) -> bytes:
    return (" ".join(f"{v:.6f}".rstrip("0").rstrip(".") or "0" for v in matrix)
            + " cm").encode()


class _Grafter:
    """One output document: copies text pages in, sharing one copy of their font."""

    def __init__(self, pikepdf: Any, pdf: Any, source: str | io.BytesIO) -> None:
        self.pikepdf = pikepdf
        self.pdf = pdf
        self.source = source
        self.fonts: dict[bytes, Any] = {}

    def _dedupe_fonts(self, form: Any) -> None:
        try:
            fonts = form.Resources.Font
        except AttributeError:
            return
        for name in list(fonts.keys()):
            font = fonts[name]
            try:
                digest = hashlib.sha256(repr(font.to_json(dereference=True))
                                        .encode()).digest()
            except Exception:
                continue
            if digest in self.fonts:
                fonts[name] = self.fonts[digest]
            else:
                self.fonts[digest] = font

    def overlay(self, page: Any, text_pdf: bytes) -> None:
        pikepdf = self.pikepdf
        with pikepdf.open(io.BytesIO(text_pdf)) as text:
            tpage = text.pages[0]
            tbox = [float(v) for v in tpage.mediabox]
            form = self.pdf.copy_foreign(tpage.as_form_xobject())
        self._dedupe_fonts(form)
        width, height = abs(tbox[2] - tbox[0]), abs(tbox[3] - tbox[1])
        matrix = page_matrix(_box(page.obj), _rotation(page.obj), width, height)
        resources = _inherited(page.obj, "/Resources")
        taken = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
        number = 0  # the first free name: the same input gives the same output
        while isinstance(taken, pikepdf.Dictionary) and f"/TbOCR{number}" in taken:
            number += 1
        name = page.add_resource(form, pikepdf.Name.XObject,
                                 name=pikepdf.Name(f"/TbOCR{number}"), replace_existing=False)
        self._wrap(page)
        page.contents_add(self.pdf.make_stream(b"q " + _cm(matrix) + b" " + str(name).encode()
                                               + b" Do Q\n"), prepend=False)

    def _wrap(self, page: Any) -> None:
        """Wrap the page's own content in q/Q, leaving its streams as they are."""
        page.contents_add(self.pdf.make_stream(b"q\n"), prepend=True)
        page.contents_add(self.pdf.make_stream(b"\nQ\n"), prepend=False)

    def rasterise(self, page: Any, index: int, dpi: int, colour: bool) -> None:
        """Replace the page's content by an image of it (its annotations stay)."""
        pikepdf = self.pikepdf
        from tightbind.ocr.sources import fitting_dpi
        from tightbind.ocr.sources import pdfium as pdfium_session

        source = self.source.getvalue() if isinstance(self.source, io.BytesIO) else self.source
        with pdfium_session() as pdfium:  # the process's one PDFium lock
            document = pdfium.PdfDocument(source)
            try:
                source_page = document[index]
                try:
                    width, height = source_page.get_size()
                    dpi = fitting_dpi(width, height, dpi)  # the pixel cap
                    bitmap = source_page.render(scale=dpi / 72, grayscale=not colour)
                    image = bitmap.to_pil()
                finally:
                    source_page.close()
            finally:
                document.close()
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=_JPEG_QUALITY)
        stream = pikepdf.Stream(self.pdf, buffer.getvalue())
        stream.Type = pikepdf.Name.XObject
        stream.Subtype = pikepdf.Name.Image
        stream.Width, stream.Height = image.width, image.height
        stream.ColorSpace = pikepdf.Name.DeviceRGB if image.mode == "RGB" \
            else pikepdf.Name.DeviceGray
        stream.BitsPerComponent = 8
        stream.Filter = pikepdf.Name.DCTDecode
        matrix = page_matrix(_box(page.obj), _rotation(page.obj), 1.0, 1.0)
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=stream))
        page.obj.Contents = self.pdf.make_stream(b"q " + _cm(matrix) + b" /Im0 Do Q\n")


def graft_text_layer(source: str | os.PathLike[str] | io.BytesIO, layers: Mapping[int, PageLayer],
                     out: str | os.PathLike[str] | io.BytesIO) -> dict[int, str]:
    """Write the PDF at ``source`` to ``out`` with each page ``layers`` names (index from
    0 -> :class:`PageLayer`) turned, stripped, rasterised and overlaid as its layer says;
    pages not in ``layers`` are copied as they are.

    A page the graft cannot write back is rasterised instead (with its text layer), and
    its index returned with the reason: ``{index: message}``.  Raises
    :class:`PdfWriteMissing` without pikepdf and :class:`OcrError` for a PDF pikepdf
    cannot open or write.
    """
    pikepdf = _pikepdf()
    path = source if isinstance(source, io.BytesIO) else os.fspath(source)
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        raise OcrError("the PDF is encrypted with a password") from None
    except pikepdf.PdfError as exc:
        raise OcrError(f"cannot open the PDF for writing: {exc}") from None
    fallbacks: dict[int, str] = {}
    with pdf:
        grafter = _Grafter(pikepdf, pdf, path)
        count = len(pdf.pages)
        for index, layer in sorted(layers.items()):
            if not 0 <= index < count:
                raise ValueError(f"the PDF has no page {index + 1}")
            page = pdf.pages[index]
            rotate = page.obj.get("/Rotate")
            try:
                _graft_page(grafter, page, index, layer)
            except Exception as exc:
                fallbacks[index] = _fallback(grafter, page, index, layer, rotate, exc)
        # An encrypted original (an owner password only) stays encrypted as it was: its
        # streams are then encrypted again, so qpdf must decode them.
        encrypted = bool(pdf.is_encrypted)
        options: dict[str, Any] = {"encryption": True} if encrypted else {
            "deterministic_id": True, "stream_decode_level": pikepdf.StreamDecodeLevel.none}
        try:
            pdf.save(out, compress_streams=True,
                     object_stream_mode=pikepdf.ObjectStreamMode.generate, **options)
        except pikepdf.PdfError as exc:
            raise OcrError(f"cannot write the searchable PDF: {exc}") from None
    return fallbacks


def _fallback(grafter: _Grafter, page: Any, index: int, layer: PageLayer, rotate: Any,
              exc: Exception) -> str:
    """Rasterise a page the graft could not write back (its text layer over it); the
    manifest's note for it."""
    if rotate is None:
        if "/Rotate" in page.obj:
            del page.obj["/Rotate"]
    else:
        page.obj.Rotate = rotate
    try:
        _graft_page(grafter, page, index, PageLayer(
            layer.text_pdf, rasterise=True, dpi=layer.dpi, colour=layer.colour,
            rotate=layer.rotate))
    except Exception as again:
        return (f"kept without a text layer: it could not be written back ({exc}) nor "
                f"rasterised ({again})")
    return f"rasterised: the page could not be written back ({exc})"


def _graft_page(grafter: _Grafter, page: Any, index: int, layer: PageLayer) -> None:
    if layer.rasterise:  # drawn as the page showed before it is turned
        grafter.rasterise(page, index, layer.dpi, layer.colour)
    if layer.rotate % 360:
        page.obj.Rotate = (_rotation(page.obj) + layer.rotate) % 360
    if layer.strip and not layer.rasterise:
        strip_invisible_text(grafter.pdf, page)
    if layer.text_pdf:
        grafter.overlay(page, layer.text_pdf)


def searchable_pdf(source: str | os.PathLike[str], kind: str,
                   text_pages: Mapping[int, bytes], records: list[dict[str, Any]]) -> bytes:
    """A batch document's searchable PDF: the original PDF (or, for an image input, the
    image embedded as it is, :func:`tightbind.ocr.pdfimage.image_pdf`) with each
    recognised page's text layer (``text_pages``: index -> text-only page) grafted on,
    as its manifest record's "pdf" notes say.  Pages that are skipped or failed are kept
    as they are; a page rasterised as a fallback gets a "fallback" note in its record."""
    layers = {}
    for index, text_pdf in text_pages.items():
        notes = records[index].get("pdf") or {}
        action = notes.get("action", "ocr")
        if action == "skipped" or not text_pdf:
            continue
        layers[index] = PageLayer(text_pdf, rasterise=action == "force",
                                  dpi=int(notes.get("dpi", 300)),
                                  colour=bool(notes.get("colour", False)),
                                  strip=action == "redo", rotate=int(notes.get("rotate", 0)))
    buffer = io.BytesIO()
    if kind == "pdf":
        fallbacks = graft_text_layer(source, layers, buffer)
    else:
        from tightbind.ocr.pdfimage import image_pdf
        fallbacks = graft_text_layer(io.BytesIO(image_pdf(source)), layers, buffer)
    for index, message in fallbacks.items():
        records[index].setdefault("pdf", {})["fallback"] = message
    return buffer.getvalue()
