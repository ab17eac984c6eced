"""The exceptions tightbind raises.

Every error is a :class:`TightbindError`; each area has one subclass
(:class:`FramingError`, :class:`OcrError`, :class:`TlsError`) and its ``errors`` module
(``tightbind.framing.errors``, ``tightbind.ocr.errors``) defines narrower ones below it,
some also inheriting the built-in a user would expect (``FrameTooLarge`` is a
``ValueError`` too).
"""

from __future__ import annotations


class TightbindError(Exception):
    """Base class of every exception raised by tightbind."""


class FramingError(TightbindError):
    """A framing stream or message could not be handled (see :mod:`tightbind.framing`;
    the narrower classes are in :mod:`tightbind.framing.errors`).

    ``offset`` is the stream offset of the frame's first header byte, counted from the
    first byte pushed after the Processor was created or reset, when the error concerns
    a position in the stream; otherwise None.
    """

    def __init__(self, message: str, *, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset


class OcrError(TightbindError):
    """Tesseract or Leptonica failed (see :mod:`tightbind.ocr`)."""


class TlsError(TightbindError):
    """OpenSSL failed (see :mod:`tightbind.tls`; the narrower classes, each carrying
    OpenSSL's reasons in ``openssl_errors``, are in :mod:`tightbind.tls.errors`)."""
