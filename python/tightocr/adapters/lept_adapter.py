"""TightOCR's ``lept_adapter``: Leptonica images are :class:`tightbind.ocr.Pix`."""

from tightbind.ocr import Pix, pix_read

__all__ = ["Pix", "pix_read"]
