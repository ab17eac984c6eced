"""``TessApi``: one Tesseract engine (TessBaseAPI) with an image, results and layout."""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from tightbind.ocr._native import c_string, check, ffi, lib, log_messages

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Self
from tightbind.ocr.constants import (
    OEM,
    PSM,
    PageIteratorLevel,
)
from tightbind.ocr.documents import write_document
from tightbind.ocr.errors import (
    ClosedError,
    ImageError,
    LanguageNotFound,
    NoImage,
    NotRecognized,
    OcrError,
    VariableError,
)
from tightbind.ocr.pix import MAX_SIDE, Pix, pix_read_pages
from tightbind.ocr.results import (
    Element,
    OrientationScript,
    TextDirection,
    Walker,
    page_level,
)
from tightbind.ocr.tessdata import default_data_path, searched_folders

__all__ = ["Element", "OrientationScript", "TessApi", "TextDirection", "to_pix"]

log = logging.getLogger("tightbind.ocr")

# Tesseract's diagnostics (tprintf) go to the file named by its global debug_file
# variable, stderr when empty.  Engines send them to the null device unless the caller
# names a file with variables={"debug_file": path}.
_DEBUG_FILE = os.devnull.encode()
_init_lock = threading.Lock()
_debug_file_routed = False  # set once per process (it is a global Tesseract variable)

# A language is a model name ("eng", "chi_sim") or a script model ("script/Latin"): no
# absolute paths or "..", so a language string cannot point Tesseract at other files.
_LANGUAGE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)?")

_T = TypeVar("_T")


def _locked(method: Callable[..., _T]) -> Callable[..., _T]:
    """Run ``method`` holding the engine's lock, after checking it is not closed."""

    @functools.wraps(method)
    def wrapper(self: TessApi, *args: Any, **kwargs: Any) -> _T:
        with self._lock:
            if self._handle is None:
                raise ClosedError("this TessApi was closed")
            return method(self, *args, **kwargs)

    return wrapper


def _take_text(ptr: Any, what: str) -> str:
    """Copy and free a string Tesseract allocated (TessDeleteText)."""
    if ptr == ffi.NULL:
        raise OcrError(f"Tesseract returned no {what}")
    try:
        return ffi.string(ptr).decode("utf-8", "replace")
    finally:
        lib.TessDeleteText(ptr)


def _take_string_array(ptr: Any) -> list[str]:
    """Copy and free a NULL-terminated string array (TessDeleteTextArray)."""
    if ptr == ffi.NULL:
        return []
    try:
        out = []
        index = 0
        while ptr[index] != ffi.NULL:
            out.append(ffi.string(ptr[index]).decode("utf-8", "replace"))
            index += 1
        return out
    finally:
        lib.TessDeleteTextArray(ptr)


def to_pix(image: Any) -> Pix:
    """Turn a path, encoded bytes, Pillow image, numpy array or Pix into a Pix."""
    if isinstance(image, Pix):
        return image
    if isinstance(image, (str, os.PathLike)):
        return Pix.from_file(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return Pix.from_bytes(image)
    module = type(image).__module__ or ""
    if module.startswith("PIL."):
        return Pix.from_pil(image)
    if module == "numpy" or hasattr(image, "__array_interface__"):
        return Pix.from_numpy(image)
    raise TypeError(f"cannot make an image from {type(image).__name__}: pass a path, "
                    "encoded bytes, a Pillow image, a numpy array or a Pix")


class TessApi:
    """A Tesseract engine, loaded once and reused for many images.

    ``TessApi(data_path=None, language="eng", *, oem=None, psm=None, variables=None)``
    loads ``language`` ("eng", "eng+deu", ...) from ``data_path`` (default: the
    ``TESSDATA_PREFIX`` environment variable, else the models bundled in the wheel when
    they include every language asked for, else Tesseract's built-in folder; see
    :func:`default_data_path`).
    ``psm`` defaults to ``PSM.AUTO``, as for the ``tesseract`` command (the library's own
    default is ``SINGLE_BLOCK``), so results equal the command's.  ``variables`` are
    Tesseract parameters set at initialisation (init-only ones work).

    Raises :class:`LanguageNotFound` when a language's model is missing and
    :class:`VariableError` for an unknown variable.  Use as a context manager or call
    :meth:`close`; an engine shared between threads serialises their calls.
    """

    def __init__(
        self,
        data_path: str | os.PathLike[str] | None = None,
        language: str = "eng",
        *,
        oem: int | None = None,
        psm: int | None = None,
        variables: dict[str, object] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._handle: Any = None
        self._image: Pix | None = None
        self._part: Pix | None = None  # the rectangle cut out of _image, if any
        self._image_size = (0, 0)
        self._offset = (0, 0)
        self._ppi = 0
        self._recognized = False
        # Tesseract holds a page (layout or results) for the current image.  Its
        # AnalyseLayout() overwrites that page without freeing it, so the image is
        # set again first (which frees it) whenever one exists.
        self._page_held = False
        self._cancel = ffi.new("int *")
        self._walker = Walker()
        self._osd: TessApi | None = None

        language_bytes = c_string(language, "language")
        languages = [part for part in language.split("+") if part]
        if not languages:
            raise ValueError("language must name at least one language, e.g. 'eng'")
        for part in languages:
            if not _LANGUAGE.fullmatch(part) or ".." in part:
                raise ValueError(f"not a Tesseract language name: {part!r}")
        if data_path is None:
            data_path = default_data_path(languages)
        path_bytes = None if data_path is None else c_string(data_path, "data_path")
        if oem is not None:
            oem = OEM(oem)
        names = []
        values = []
        for name, value in (variables or {}).items():
            if isinstance(value, bool):
                value = int(value)
            names.append(ffi.new("char[]", c_string(name, "variable name")))
            values.append(ffi.new("char[]", c_string(str(value), f"variable {name!r}")))
        keep_debug_file = variables is not None and "debug_file" in variables

        handle = lib.TessBaseAPICreate()
        if handle == ffi.NULL:
            raise MemoryError("cannot create a Tesseract engine")
        handle = ffi.gc(handle, lib.TessBaseAPIDelete)
        global _debug_file_routed
        with _init_lock:
            # Written once, before any engine can be recognising in another thread: the
            # variable is global and Tesseract reads it on every message.
            if keep_debug_file or not _debug_file_routed:
                if not keep_debug_file:
                    lib.TessBaseAPISetVariable(handle, b"debug_file", _DEBUG_FILE)
                _debug_file_routed = True
            name_array = ffi.new("char *[]", names) if names else ffi.NULL
            value_array = ffi.new("char *[]", values) if values else ffi.NULL
            rc = lib.TessBaseAPIInit4(
                handle, path_bytes or ffi.NULL, language_bytes,
                int(OEM.DEFAULT if oem is None else oem), ffi.NULL, 0,
                name_array, value_array, len(names), 0)
        log_messages()
        loaded = _take_string_array(lib.TessBaseAPIGetLoadedLanguagesAsVector(handle)) \
            if rc == 0 else []
        missing = [lang for lang in languages if lang not in loaded]
        if rc != 0 or missing:
            datapath = lib.TessBaseAPIGetDatapath(handle)
            searched = ffi.string(datapath).decode() if datapath != ffi.NULL else (
                os.fspath(data_path) if data_path is not None else
                os.environ.get("TESSDATA_PREFIX", "Tesseract's built-in tessdata folder"))
            ffi.release(handle)
            raise LanguageNotFound(languages, missing or languages, searched_folders(
                searched.rstrip("/") or "/", chosen_by_tesseract=data_path is None))
        self._handle = handle
        for name in variables or {}:
            self._check_variable_exists(str(name))
        if psm is None and "tessedit_pageseg_mode" not in (variables or {}):
            psm = PSM.AUTO  # the tesseract command's default (the library's is SINGLE_BLOCK)
        if psm is not None:
            self.set_page_seg_mode(psm)

    # ---- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        """Free the engine now.  Later calls raise :class:`ClosedError`."""
        with self._lock:
            if self._osd is not None:
                self._osd.close()
                self._osd = None
            if self._handle is not None:
                handle, self._handle = self._handle, None
                ffi.release(handle)
            self._image = None

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __repr__(self) -> str:
        if self._handle is None:
            return "<TessApi closed>"
        return (f"<TessApi {self.get_init_languages_as_string()!r} "
                f"psm={self.get_page_seg_mode().name}>")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def lock(self) -> threading.RLock:
        """The engine's re-entrant lock.  Every call takes it; hold it yourself around a
        sequence (set_image, recognize, get_utf8_text) when threads share the engine."""
        return self._lock  # type: ignore[return-value]

    def ocr(self, image: Any, *, timeout: float | None = None) -> str:
        """``set_image(image)``, ``recognize(timeout)`` and ``get_utf8_text()`` as one step
        under the engine's lock (safe when threads share the engine)."""
        with self._lock:
            self.set_image(image)
            self.recognize(timeout=timeout)
            return self.get_utf8_text()

    # ---- engine settings ---------------------------------------------------------------

    @staticmethod
    def version() -> str:
        """Tesseract's version string, e.g. '5.3.0'."""
        return ffi.string(lib.TessVersion()).decode()

    @_locked
    def set_variable(self, name: str, value: object) -> None:
        """Set a Tesseract parameter.  Raises VariableError for an unknown name or an
        init-only parameter (pass those as ``variables=`` to the constructor)."""
        if isinstance(value, bool):
            value = int(value)
        if not lib.TessBaseAPISetVariable(self._handle, c_string(name, "variable name"),
                                          c_string(str(value), f"variable {name!r}")):
            raise VariableError(f"Tesseract cannot set variable {name!r} (unknown, or only "
                                "settable at initialisation: pass it in variables=)")

    def _check_variable_exists(self, name: str) -> None:
        key = c_string(name, "variable name")
        scratch_int = ffi.new("int *")
        scratch_double = ffi.new("double *")
        if (lib.TessBaseAPIGetIntVariable(self._handle, key, scratch_int)
                or lib.TessBaseAPIGetBoolVariable(self._handle, key, scratch_int)
                or lib.TessBaseAPIGetDoubleVariable(self._handle, key, scratch_double)
                or lib.TessBaseAPIGetStringVariable(self._handle, key) != ffi.NULL):
            return
        self.close()
        raise VariableError(f"Tesseract has no variable {name!r}")

    @_locked
    def get_int_variable(self, name: str) -> int:
        """The value of an integer parameter; VariableError if there is none."""
        value = ffi.new("int *")
        if not lib.TessBaseAPIGetIntVariable(self._handle, c_string(name, "name"), value):
            raise VariableError(f"no integer variable {name!r}")
        return int(value[0])

    @_locked
    def get_bool_variable(self, name: str) -> bool:
        """The value of a boolean parameter; VariableError if there is none."""
        value = ffi.new("int *")
        if not lib.TessBaseAPIGetBoolVariable(self._handle, c_string(name, "name"), value):
            raise VariableError(f"no boolean variable {name!r}")
        return bool(value[0])

    @_locked
    def get_double_variable(self, name: str) -> float:
        """The value of a floating-point parameter; VariableError if there is none."""
        value = ffi.new("double *")
        if not lib.TessBaseAPIGetDoubleVariable(self._handle, c_string(name, "name"), value):
            raise VariableError(f"no double variable {name!r}")
        return float(value[0])

    @_locked
    def get_string_variable(self, name: str) -> str:
        """The value of a string parameter; VariableError if there is none."""
        value = lib.TessBaseAPIGetStringVariable(self._handle, c_string(name, "name"))
        if value == ffi.NULL:
            raise VariableError(f"no string variable {name!r}")
        return ffi.string(value).decode("utf-8", "replace")

    @_locked
    def set_page_seg_mode(self, psm: int) -> None:
        """Set the page segmentation mode (a :class:`PSM`)."""
        psm = PSM(psm)
        lib.TessBaseAPISetPageSegMode(self._handle, int(psm))

    @_locked
    def get_page_seg_mode(self) -> PSM:
        return PSM(lib.TessBaseAPIGetPageSegMode(self._handle))

    @_locked
    def get_init_languages_as_string(self) -> str:
        """The languages the engine was initialised with, e.g. 'eng'."""
        return ffi.string(lib.TessBaseAPIGetInitLanguagesAsString(self._handle)).decode()

    @_locked
    def loaded_languages(self) -> list[str]:
        return _take_string_array(lib.TessBaseAPIGetLoadedLanguagesAsVector(self._handle))

    @_locked
    def available_languages(self) -> list[str]:
        """The languages whose models are in this engine's tessdata folder."""
        # Tesseract 5.5 lists the folder with std::filesystem and aborts the process (an
        # uncaught C++ exception) when it has gone; 5.3 returned nothing.
        if not os.path.isdir(self.data_path):
            return []
        return _take_string_array(lib.TessBaseAPIGetAvailableLanguagesAsVector(self._handle))

    @property
    @_locked
    def data_path(self) -> str:
        """The tessdata folder the engine loaded its models from."""
        return ffi.string(lib.TessBaseAPIGetDatapath(self._handle)).decode()

    @_locked
    def clear_adaptive_classifier(self) -> None:
        """Forget what the legacy engine adapted to on earlier pages."""
        lib.TessBaseAPIClearAdaptiveClassifier(self._handle)

    # ---- image -------------------------------------------------------------------------

    @_locked
    def set_image_pix(self, pix: Pix) -> None:
        """Use ``pix`` as the image to recognise (Tesseract copies it)."""
        if not isinstance(pix, Pix):
            raise TypeError(f"set_image_pix() takes a Pix, not {type(pix).__name__}")
        width, height = pix.width, pix.height
        if width > MAX_SIDE or height > MAX_SIDE:
            raise ImageError(f"image of {width}x{height} pixels is too large for Tesseract "
                             f"(at most {MAX_SIDE} pixels a side); scale it down")
        self._image = pix
        self._part = None
        self._image_size = (width, height)
        self._offset = (0, 0)
        self._ppi = 0
        self._apply_image()
        x_res, _ = pix.resolution
        if x_res <= 0:
            log.debug("image has no resolution; Tesseract will estimate one "
                      "(call set_source_resolution() if you know it)")

    def _apply_image(self) -> None:
        """Hand Tesseract the current image (or rectangle) again, dropping its page."""
        pix = self._part if self._part is not None else self._image
        assert pix is not None
        lib.TessBaseAPISetImage2(self._handle, pix._for_tesseract().ptr)
        if self._ppi:
            lib.TessBaseAPISetSourceResolution(self._handle, self._ppi)
        log_messages()
        self._recognized = False
        self._page_held = False

    def set_image(self, image: Any) -> None:
        """Use an image: a path, encoded bytes, a Pillow image, a numpy array or a Pix.

        Raises ImageFileNotFound, ImageError or TypeError.
        """
        if self._handle is None:
            raise ClosedError("this TessApi was closed")
        self.set_image_pix(to_pix(image))

    def set_image_file(self, path: str | os.PathLike[str]) -> None:
        """Use the image file at ``path``."""
        self.set_image_pix(Pix.from_file(path))

    def _require_image(self) -> None:
        if self._image is None:
            raise NoImage("no image: call set_image() or set_image_pix() first")

    def _require_result(self) -> None:
        self._require_image()
        if not self._recognized:
            raise NotRecognized("no recognized page: call recognize() first")

    @_locked
    def set_source_resolution(self, ppi: int) -> None:
        """Tell Tesseract the image's resolution in pixels per inch."""
        self._require_image()
        if not isinstance(ppi, int) or not 1 <= ppi <= 100000:
            raise ValueError(f"resolution must be an int between 1 and 100000: {ppi!r}")
        lib.TessBaseAPISetSourceResolution(self._handle, ppi)
        self._ppi = ppi
        self._recognized = False

    @_locked
    def set_rectangle(self, left: int, top: int, width: int, height: int) -> None:
        """Recognise only this rectangle of the image (pixels).

        Tesseract's own SetRectangle gives wrong text with its LSTM engine (tesseract
        issue #845), so the rectangle is cut out of the image here instead.  Boxes from
        ``results()`` and ``analyse_layout()`` are in the whole image's coordinates;
        Tesseract's own renderings (hOCR, TSV, ALTO, box) count from the rectangle.
        """
        self._require_image()
        image_width, image_height = self._image_size
        if not (0 <= left < image_width and 0 <= top < image_height and width > 0
                and height > 0 and left + width <= image_width
                and top + height <= image_height):
            raise ValueError(f"rectangle ({left}, {top}, {width}, {height}) is not inside "
                             f"the {image_width}x{image_height} image")
        source = self._image
        assert source is not None
        box = lib.boxCreate(left, top, width, height)
        if box == ffi.NULL:
            raise MemoryError("cannot create a box")
        try:
            clipped = lib.pixClipRectangle(source.ptr, box, ffi.NULL)
        finally:
            lib.boxDestroy(ffi.new("BOX **", box))
        if clipped == ffi.NULL:
            log_messages(logging.DEBUG)
            raise ImageError("cannot cut the rectangle out of the image")
        self._part = Pix._adopt(clipped)
        self._offset = (left, top)
        self._apply_image()

    # ---- recognition -------------------------------------------------------------------

    def recognize(self, timeout: float | None = None) -> None:
        """Recognise the image (the GIL is released meanwhile).

        ``timeout`` (seconds) stops recognition at that deadline (Tesseract checks it
        between words, so layout analysis of a huge page is not cut short).  Raises NoImage,
        RecognitionTimeout, RecognitionCancelled (see :meth:`cancel`) or OcrError.
        """
        if timeout is not None:
            if not isinstance(timeout, (int, float)) or not timeout > 0 \
                    or math.isinf(timeout):
                raise ValueError(f"timeout must be a positive number of seconds: {timeout!r}")
            deadline_ms = max(1, math.ceil(timeout * 1000))
            if deadline_ms >= 1 << 31:
                raise ValueError("timeout is too large")
        else:
            deadline_ms = 0
        with self._lock:
            if self._handle is None:
                raise ClosedError("this TessApi was closed")
            self._require_image()
            self._cancel[0] = 0
            self._recognized = False
            self._page_held = True
            rc = lib.tb_ocr_recognize(self._handle, self._cancel, deadline_ms)
            self._cancel[0] = 0
            log_messages()
            check(rc, "recognize()" if timeout is None else f"recognize(timeout={timeout})")
            self._recognized = True

    def cancel(self) -> None:
        """Stop a ``recognize()`` running in another thread (it raises
        RecognitionCancelled).  Does not wait for the lock; does nothing when idle."""
        self._cancel[0] = 1

    @_locked
    def get_utf8_text(self) -> str:
        """The recognised text."""
        self._require_result()
        return _take_text(lib.TessBaseAPIGetUTF8Text(self._handle), "text")

    @_locked
    def get_hocr_text(self, page_number: int = 0) -> str:
        """The result as an hOCR fragment (``page_number`` counts from 0)."""
        self._require_result()
        return _take_text(lib.TessBaseAPIGetHOCRText(self._handle, page_number), "hOCR")

    @_locked
    def get_tsv_text(self, page_number: int = 0) -> str:
        """The result as Tesseract's TSV rows (without the header line)."""
        self._require_result()
        return _take_text(lib.TessBaseAPIGetTsvText(self._handle, page_number), "TSV")

    @_locked
    def get_alto_text(self, page_number: int = 0) -> str:
        """The result as an ALTO XML fragment."""
        self._require_result()
        return _take_text(lib.TessBaseAPIGetAltoText(self._handle, page_number), "ALTO")

    @_locked
    def get_box_text(self, page_number: int = 0) -> str:
        """The result as box-file lines (one symbol per line, bottom-left origin)."""
        self._require_result()
        return _take_text(lib.TessBaseAPIGetBoxText(self._handle, page_number), "box text")

    @_locked
    def get_unlv_text(self) -> str:
        """The result in UNLV format (Latin-1 rendered as UTF-8 here)."""
        self._require_result()
        ptr = lib.TessBaseAPIGetUNLVText(self._handle)
        if ptr == ffi.NULL:
            raise OcrError("Tesseract returned no UNLV text")
        try:
            return ffi.string(ptr).decode("latin-1")
        finally:
            lib.TessDeleteText(ptr)

    @_locked
    def mean_text_confidence(self) -> int:
        """Mean word confidence, 0..100."""
        self._require_result()
        return int(lib.TessBaseAPIMeanTextConf(self._handle))

    @_locked
    def all_word_confidences(self) -> list[int]:
        """The confidence (0..100) of every word, in reading order."""
        self._require_result()
        ptr = lib.TessBaseAPIAllWordConfidences(self._handle)
        if ptr == ffi.NULL:
            raise OcrError("Tesseract returned no word confidences")
        try:
            out = []
            index = 0
            while ptr[index] != -1:
                out.append(int(ptr[index]))
                index += 1
            return out
        finally:
            lib.TessDeleteIntArray(ptr)

    @_locked
    def results(self, level: int = PageIteratorLevel.WORD) -> list[Element]:
        """Every non-empty element at ``level`` with text, confidence, box and numbers,
        collected by one C call; words agree with Tesseract's TSV output."""
        level = page_level(level)
        self._require_result()
        return self._walker.walk(self._handle, level, self._offset)

    def iterate(self, level: int = PageIteratorLevel.WORD) -> Iterator[str]:
        """Yield the text of each non-empty element at ``level`` (as TightOCR did)."""
        for element in self.results(level):
            yield element.text

    @_locked
    def is_valid_word(self, word: str) -> bool:
        """True when ``word`` is in the loaded dictionaries."""
        return bool(lib.TessBaseAPIIsValidWord(self._handle, c_string(word, "word")))

    @_locked
    def get_text_direction(self) -> TextDirection | None:
        """Offset and slope of the text's baseline, or None when unknown."""
        self._require_result()
        offset = ffi.new("int *")
        slope = ffi.new("float *")
        if not lib.TessBaseAPIGetTextDirection(self._handle, offset, slope):
            return None
        return TextDirection(int(offset[0]), float(slope[0]))

    # ---- layout ------------------------------------------------------------------------

    @_locked
    def analyse_layout(self, level: int = PageIteratorLevel.BLOCK) -> list[Element]:
        """Layout analysis only (no recognition): the boxes and block types at ``level``."""
        level = page_level(level)
        self._require_image()
        if self._page_held:
            self._apply_image()
        self._page_held = True
        iterator = lib.TessBaseAPIAnalyseLayout(self._handle)
        log_messages()
        if iterator == ffi.NULL:
            return []
        iterator = ffi.gc(iterator, lib.TessPageIteratorDelete)
        try:
            return self._walker.walk_layout(iterator, level, self._offset)
        finally:
            ffi.release(iterator)

    @_locked
    def get_component_images(
        self, level: int, text_only: bool = True, *, images: bool = False
    ) -> list[tuple[int, int, int, int]] | list[tuple[tuple[int, int, int, int], Pix]]:
        """Boxes (left, top, right, bottom) of the page's components at ``level``; with
        ``images=True``, (box, Pix) pairs holding each component's binary image."""
        level = page_level(level)
        self._require_image()
        # Uses the recognised page when there is one, else analyses the layout.
        self._page_held = True
        pixa_out = ffi.new("PIXA **") if images else ffi.NULL
        boxa = lib.TessBaseAPIGetComponentImages(self._handle, int(level), bool(text_only),
                                                 pixa_out, ffi.NULL)
        log_messages()
        pixa = ffi.NULL
        if images and pixa_out[0] != ffi.NULL:
            pixa = ffi.gc(pixa_out[0], lib.tb_ocr_pixa_free)
        if boxa == ffi.NULL:
            return []
        boxa = ffi.gc(boxa, lib.tb_ocr_boxa_free)
        try:
            count = lib.boxaGetCount(boxa)
            coords = ffi.new("int[]", max(1, 4 * count))
            found = ffi.new("size_t *")
            check(lib.tb_ocr_boxa_boxes(boxa, coords, count, found), "reading component boxes")
            dx, dy = self._offset
            boxes = [(coords[4 * i] + dx, coords[4 * i + 1] + dy, coords[4 * i + 2] + dx,
                      coords[4 * i + 3] + dy) for i in range(found[0])]
            if not images:
                return boxes
            if pixa == ffi.NULL or lib.pixaGetCount(pixa) != len(boxes):
                raise OcrError("Tesseract returned no component images")
            pairs = []
            for index, box in enumerate(boxes):
                pix = lib.pixaGetPix(pixa, index, lib.L_CLONE)
                if pix == ffi.NULL:
                    raise OcrError(f"cannot read component image {index}")
                pairs.append((box, Pix._adopt(pix)))
            return pairs
        finally:
            ffi.release(boxa)
            if pixa != ffi.NULL:
                ffi.release(pixa)

    def get_regions(self, *, images: bool = False) -> list[Any]:
        """Boxes of the page's layout regions (blocks), text or not."""
        return self.get_component_images(PageIteratorLevel.BLOCK, False, images=images)

    def get_text_lines(self, *, images: bool = False) -> list[Any]:
        """Boxes of the page's text lines."""
        return self.get_component_images(PageIteratorLevel.TEXTLINE, True, images=images)

    def get_words(self, *, images: bool = False) -> list[Any]:
        """Boxes of the page's words (from layout analysis, before recognition)."""
        return self.get_component_images(PageIteratorLevel.WORD, True, images=images)

    @_locked
    def get_thresholded_image(self) -> Pix:
        """The binary (1 bpp) image Tesseract recognises."""
        self._require_image()
        pix = lib.TessBaseAPIGetThresholdedImage(self._handle)
        log_messages()
        if pix == ffi.NULL:
            raise OcrError("Tesseract could not threshold the image")
        return Pix._adopt(pix)

    @_locked
    def detect_orientation_script(self) -> OrientationScript:
        """Orientation and script of the page, from Tesseract's OSD model.

        Needs ``osd.traineddata`` (Debian: tesseract-ocr-osd) in the engine's tessdata
        folder; a separate OSD engine is loaded on first use when this engine was not
        initialised with 'osd'.  Raises LanguageNotFound or OcrError (too little text).
        """
        self._require_image()
        engine = self
        if "osd" not in self.loaded_languages():
            if self._osd is None:
                self._osd = TessApi(self.data_path, "osd", psm=PSM.OSD_ONLY)
            engine = self._osd
            engine.set_image_pix(self._image)  # type: ignore[arg-type]
        degrees = ffi.new("int *")
        orientation_confidence = ffi.new("float *")
        script = ffi.new("char **")
        script_confidence = ffi.new("float *")
        ok = lib.TessBaseAPIDetectOrientationScript(
            engine._handle, degrees, orientation_confidence, script, script_confidence)
        log_messages()
        engine._recognized = False  # detection clears the engine's page
        engine._page_held = False
        if not ok or script[0] == ffi.NULL:
            raise OcrError("Tesseract could not detect orientation and script (too little "
                           "text on the page?)")
        # The script name points into the OSD model's character set: copy, never free.
        return OrientationScript(int(degrees[0]), float(orientation_confidence[0]),
                                 ffi.string(script[0]).decode(), float(script_confidence[0]))

    # ---- documents ---------------------------------------------------------------------

    @_locked
    def process_pages(
        self,
        source: str | os.PathLike[str] | Iterable[Any],
        outputbase: str | os.PathLike[str],
        formats: Sequence[str] = ("pdf", "hocr", "tsv", "alto", "txt"),
        *,
        title: str = "",
        timeout: float | None = None,
    ) -> list[str]:
        """Recognise a document and write it through Tesseract's renderers.

        ``source`` is an image file (every page of a multi-page TIFF) or an iterable of
        images (paths, bytes, Pillow images, numpy arrays, Pix).  Writes
        ``outputbase.<ext>`` for each of ``formats`` (pdf: searchable PDF, hocr, tsv,
        alto (.xml), txt, box, unlv) and returns the paths written, creating
        ``outputbase``'s folder if needed.  ``timeout`` is per page (RecognitionTimeout);
        files already begun may be left incomplete on error.
        """
        if isinstance(source, (str, os.PathLike)):
            pages = pix_read_pages(source)
        else:
            pages = [to_pix(image) for image in source]
        self._image = None
        self._recognized = False
        return write_document(self._handle, pages, outputbase, formats, data_path=self.data_path,
                              title=title, timeout=timeout)
