"""The exceptions of :mod:`tightbind.ocr`; every one is a :class:`tightbind.OcrError`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tightbind.errors import OcrError

__all__ = [
    "ClosedError",
    "ImageError",
    "ImageFileNotFound",
    "InvalidArgument",
    "LanguageNotFound",
    "NoImage",
    "NotRecognized",
    "OcrError",
    "OutOfMemory",
    "RecognitionCancelled",
    "RecognitionTimeout",
    "VariableError",
]


class LanguageNotFound(OcrError, LookupError):
    """Tesseract has no model for a language asked for.

    ``languages`` are the languages asked for, ``missing`` those that did not load,
    ``folders`` maps every tessdata folder that could have served them to the languages
    it holds, ``paths`` lists those folders (the one Tesseract searched first) and
    ``available`` the languages in the folder Tesseract searched.
    """

    def __init__(self, languages: Sequence[str], missing: Sequence[str],
                 folders: Mapping[str, Sequence[str]]) -> None:
        self.languages = list(languages)
        self.missing = list(missing)
        self.folders = {path: list(held) for path, held in folders.items()}
        self.paths = list(self.folders)
        self.available = self.folders[self.paths[0]] if self.paths else []
        super().__init__(self.describe("data_path="))

    def describe(self, option: str) -> str:
        """The message, naming the data path as the caller passes it: ``data_path=``
        in Python (the exception's text), ``--tessdata`` on the command line."""
        from tightbind.ocr.tessdata import explain_missing

        searched = "; ".join(f"{path} (holds {', '.join(held) if held else 'none'})"
                             for path, held in self.folders.items())
        return (f"Tesseract cannot load language {'+'.join(self.missing)!r} "
                f"(asked for {'+'.join(self.languages)!r}); folders searched: {searched}. "
                + explain_missing(self.missing, self.folders, option=option))


class ImageError(OcrError, ValueError):
    """An image could not be read, is empty, too large or of an unusable kind."""


class ImageFileNotFound(OcrError, FileNotFoundError):
    """An image path does not name a readable file."""


class NoImage(OcrError):
    """The call needs an image: call ``set_image()`` first."""


class NotRecognized(OcrError):
    """The call needs a recognized page: call ``recognize()`` first."""


class RecognitionTimeout(OcrError, TimeoutError):
    """``recognize(timeout=...)`` ran past its deadline; the page has no result."""


class RecognitionCancelled(OcrError):
    """``cancel()`` stopped a running ``recognize()``; the page has no result."""


class VariableError(OcrError, ValueError):
    """Tesseract has no such variable, or refused the value."""


class ClosedError(OcrError, ValueError):
    """The engine or image was closed."""


class InvalidArgument(OcrError, ValueError):
    """The native layer refused an argument (a bug in the caller or in tightbind)."""


class OutOfMemory(OcrError, MemoryError):
    """Tesseract, Leptonica or the shim could not allocate memory."""
