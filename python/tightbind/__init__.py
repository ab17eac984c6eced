"""tightbind: small, fast native adapters for OCR, TLS and protobuf framing.

The areas live in their own modules so that one missing system library costs one
feature, not the package: ``tightbind.framing`` (no system library),
``tightbind.ocr`` (Tesseract, Leptonica) and ``tightbind.tls`` (OpenSSL).
"""

from tightbind.errors import FramingError, OcrError, TightbindError, TlsError

__version__ = "0.1.0"

__all__ = ["FramingError", "OcrError", "TightbindError", "TlsError", "__version__"]
