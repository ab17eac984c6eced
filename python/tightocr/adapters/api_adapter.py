"""TightOCR's ``api_adapter``: the Tesseract engine is :class:`tightbind.ocr.TessApi`."""

from tightbind.ocr import TessApi

__all__ = ["TessApi"]
