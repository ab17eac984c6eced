"""Image inputs as PDF pages, their pixels embedded without re-encoding where PDF allows.

JPEG and JPEG 2000 go in as they are (DCTDecode, JPXDecode), CCITT G4 TIFFs as they are,
other 1-bit images as CCITT G4, everything else losslessly (Flate), in the colour they
came in and at their own resolution (img2pdf does the embedding); the searchable PDF of an
image input is this PDF with the text layer grafted over it (:mod:`tightbind.ocr.pdfgraft`).
"""

from __future__ import annotations

import datetime
import io
import os

from tightbind.ocr.errors import ImageError
from tightbind.ocr.pdfgraft import _img2pdf, _pikepdf

__all__ = ["image_pdf"]


def _bilevel_as_g4(data: bytes) -> bytes | None:
    """The frames of a 1-bit image not stored as CCITT G4 already, as a G4 TIFF; None
    when the image is not 1-bit or is a G4 TIFF."""
    from PIL import Image, ImageSequence

    with Image.open(io.BytesIO(data)) as image:
        if image.mode != "1":
            return None
        if image.format == "TIFF" and image.info.get("compression") == "group4":
            return None
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
        dpi = image.info.get("dpi")
    if any(frame.mode != "1" for frame in frames):
        return None
    out = io.BytesIO()
    extra = {"dpi": dpi} if dpi else {}
    frames[0].save(out, "TIFF", compression="group4", save_all=True,
                   append_images=frames[1:], **extra)
    return out.getvalue()


def _lossless(data: bytes) -> bytes:
    """An image img2pdf refuses (alpha, an odd mode), as a PNG without alpha."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        dpi = image.info.get("dpi")
        if image.mode in ("RGBA", "LA", "PA", "P") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            converted = flat if image.mode not in ("LA",) else flat.convert("L")
        elif image.mode in ("I", "I;16", "F"):
            converted = image.convert("L")
        else:
            converted = image.convert("RGB")
    out = io.BytesIO()
    converted.save(out, "PNG", **({"dpi": dpi} if dpi else {}))
    return out.getvalue()


def _without_id(data: bytes) -> bytes:
    """``data`` without its random /ID, so the same image gives the same PDF."""
    pikepdf = _pikepdf()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if "/ID" in pdf.trailer:
            del pdf.trailer["/ID"]
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True,
                 stream_decode_level=pikepdf.StreamDecodeLevel.none)
        return out.getvalue()


def image_pdf(path: str | os.PathLike[str], default_dpi: int = 300) -> bytes:
    """A PDF of the image file at ``path``, one page per frame, each page the size of
    the image at its resolution (``default_dpi`` when it has none).  Raises
    :class:`ImageError` for a file that is not an image img2pdf or Pillow can embed,
    :class:`PdfWriteMissing` without img2pdf."""
    img2pdf = _img2pdf()
    from PIL import Image  # img2pdf's own dependency
    with open(path, "rb") as file:
        data = file.read()
    stamp = datetime.datetime.fromtimestamp(os.stat(path).st_mtime, datetime.timezone.utc)
    try:
        with Image.open(io.BytesIO(data)) as image:
            has_dpi = bool(image.info.get("dpi")) and min(image.info["dpi"]) > 1
    except Exception as exc:
        raise ImageError(f"cannot read the image: {exc}") from None
    data = _bilevel_as_g4(data) or data
    layout = (img2pdf.default_layout_fun if has_dpi
              else img2pdf.get_fixed_dpi_layout_fun((default_dpi, default_dpi)))
    for attempt in (data, None):
        try:
            result = img2pdf.convert(attempt if attempt is not None else _lossless(data),
                                     layout_fun=layout, creationdate=stamp, moddate=stamp,
                                     rotation=img2pdf.Rotation.none)
            if isinstance(result, bytes):
                return _without_id(result)
        except Exception as exc:
            if attempt is None:
                raise ImageError(f"cannot embed the image in a PDF: {exc}") from None
    raise ImageError("cannot embed the image in a PDF")
