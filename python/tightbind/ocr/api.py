"""``TessApi``: one Tesseract engine (TessBaseAPI) with an image, results and layout."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from tightbind.ocr._native import (
    c_string,
    check,
    ffi,
    lib,
    log_messages,
    take_string_array,
    take_text,
)

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Self
from tightbind.ocr.constants import OEM, PSM, PageIteratorLevel
from tightbind.ocr.deadline import Reload, deadline_ms, run_bounded
from tightbind.ocr.documents import process_document
from tightbind.ocr.errors import (
    ClosedError,
    ImageError,
    LanguageNotFound,
    NoImage,
    NotRecognized,
    OcrError,
    RecognitionTimeout,
    VariableError,
)
from tightbind.ocr.layout import PageRows, read_components, read_rows
from tightbind.ocr.params import (
    GATE,
    catalogue,
    check_languages,
    check_variable,
    check_word,
    read_value,
)
from tightbind.ocr.pix import MAX_SIDE, Pix, to_pix
from tightbind.ocr.results import Element, OrientationScript, TextDirection, Walker, page_level
from tightbind.ocr.tessdata import default_data_path, searched_folders

__all__ = ["Element", "OrientationScript", "TessApi", "TextDirection", "to_pix"]

log = logging.getLogger("tightbind.ocr")

_init_lock = threading.Lock()
# An engine whose last call was abandoned at its deadline (see tightbind.ocr.deadline)
# holds this instead of a handle until its next call loads a fresh engine.
_ABANDONED = object()

_T = TypeVar("_T")


def _locked(method: Callable[..., _T]) -> Callable[..., _T]:
    """Run ``method`` inside the engine's call (:meth:`TessApi._call`)."""

    @functools.wraps(method)
    def wrapper(self: TessApi, *args: Any, **kwargs: Any) -> _T:
        with self._call():
            return method(self, *args, **kwargs)

    return wrapper


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
    :class:`VariableError` for an unknown variable.  ``configs`` are Tesseract config
    files (``name value`` lines) read at initialisation, a name alone looked up in the
    tessdata folder's ``configs``.  Use as a context manager or call
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
        configs: Sequence[str | os.PathLike[str]] = (),
    ) -> None:
        self._lock = threading.RLock()
        self._handle: Any = None
        self._image: Pix | None = None
        self._part: Pix | None = None  # the rectangle cut out of _image, if any
        self._image_size = (0, 0)
        self._offset = (0, 0)
        self._ppi = 0
        self._recognized = False
        # Tesseract holds a page (layout or results); AnalyseLayout() overwrites it without
        # freeing it, so the image is set again first (which frees it) when one exists.
        self._page_held = False
        self._cancel = ffi.new("int *")
        self._walker = Walker()
        self._osd: TessApi | None = None

        # Process-global parameters this engine set, applied only while it runs; its own
        # debug_file; and every other parameter it set, for a fresh engine (see _reload).
        self._overrides: dict[str, bytes] = {}
        self._debug_file: str | None = None
        self._settings: dict[str, bytes] = {}
        self._reload: Reload | None = None  # the engine loading after an abandoned call

        language_bytes = c_string(language, "language")
        self._languages = check_languages(language)
        if data_path is None:
            data_path = default_data_path(self._languages)
        self._data_path = data_path
        self._path_bytes = None if data_path is None else c_string(data_path, "data_path")
        self._language_bytes = language_bytes
        self._configs = [c_string(config, "config") for config in configs]
        self._oem = int(OEM.DEFAULT if oem is None else OEM(oem))
        catalogue()  # once per process, before any engine: routes Tesseract's diagnostics
        for name, value in (variables or {}).items():
            self._store_variable(name, value, at_init=True)
        self._handle = self._load()
        if psm is None and "tessedit_pageseg_mode" not in (variables or {}):
            psm = PSM.AUTO  # the tesseract command's default (the library's is SINGLE_BLOCK)
        if psm is not None:
            self.set_page_seg_mode(psm)

    def _load(self) -> Any:
        """A new engine initialised with this object's language, data path and settings;
        LanguageNotFound when a model is missing."""
        handle = lib.TessBaseAPICreate()
        if handle == ffi.NULL:
            raise MemoryError("cannot create a Tesseract engine")
        handle = ffi.gc(handle, lib.TessBaseAPIDelete)
        names = [ffi.new("char[]", name.encode()) for name in self._settings]
        values = [ffi.new("char[]", value) for value in self._settings.values()]
        with _init_lock, GATE.passage({}, None):
            rc = lib.TessBaseAPIInit4(
                handle, self._path_bytes or ffi.NULL, self._language_bytes, self._oem,
                *self._config_array(), ffi.new("char *[]", names) if names else ffi.NULL,
                ffi.new("char *[]", values) if values else ffi.NULL, len(names), 0)
        log_messages()
        loaded = take_string_array(lib.TessBaseAPIGetLoadedLanguagesAsVector(handle)) \
            if rc == 0 else []
        missing = [lang for lang in self._languages if lang not in loaded]
        if rc != 0 or missing:
            data_path = self._data_path
            datapath = lib.TessBaseAPIGetDatapath(handle)
            searched = ffi.string(datapath).decode() if datapath != ffi.NULL else (
                os.fspath(data_path) if data_path is not None else
                os.environ.get("TESSDATA_PREFIX", "Tesseract's built-in tessdata folder"))
            ffi.release(handle)
            raise LanguageNotFound(self._languages, missing or self._languages,
                                   searched_folders(searched.rstrip("/") or "/",
                                                    chosen_by_tesseract=data_path is None))
        return handle

    def _config_array(self) -> tuple[Any, int]:
        if not self._configs:
            return ffi.NULL, 0
        self._config_cdata = [ffi.new("char[]", c) for c in self._configs]  # kept alive
        return ffi.new("char *[]", self._config_cdata), len(self._configs)

    @contextlib.contextmanager
    def _call(self, deadline: float | None = None) -> Iterator[None]:
        """One engine call: the lock, a live engine (after an abandoned call, the fresh
        one loading since then, waited for until ``deadline`` at most) and this engine's
        process-global parameters in force (tightbind.ocr.params)."""
        with self._lock:
            if self._handle is None:
                raise ClosedError("this TessApi was closed")
            if self._handle is _ABANDONED:
                assert self._reload is not None
                self._handle = self._reload.wait(deadline)
                self._reload = None
                if self._image is not None:
                    self._apply_image()
            with GATE.passage(self._overrides, self._debug_file):
                yield

    # ---- seams for tightbind's own modules (documents, isolation, the faces) -----------

    @contextlib.contextmanager
    def native(self, deadline: float | None = None, *, keeps_image: bool = True,
               keeps_result: bool = True) -> Iterator[Any]:
        """Low level: the ``TessBaseAPI *`` for C calls, locked, live (waited for until
        ``deadline`` after an abandoned call), global parameters in force.  Say when the
        calls set images (``keeps_image=False``) or replace Tesseract's page (OSD)."""
        with self._call(deadline):
            if not keeps_image:
                self._image = self._part = None
            if not (keeps_image and keeps_result):
                self._recognized = self._page_held = False
            yield self._handle

    @property
    def native_handle(self) -> Any:
        """Low level: the live ``TessBaseAPI *``, or None when closed or abandoned."""
        return None if self._handle is _ABANDONED else self._handle

    def recognize_native(self, timeout: float | None, started: float, what: str) -> None:
        """Low level, in :meth:`native`: recognise the image set there by ``started +
        timeout``, as :meth:`recognize` keeps it (RecognitionTimeout names ``what``)."""
        self._run_recognition(deadline_ms(timeout), timeout, started, what)

    @contextlib.contextmanager
    def variables_for_call(self, pairs: Sequence[tuple[str, str]]) -> Iterator[None]:
        """``pairs`` (name, value) set as by :meth:`set_variable` for the block only."""
        with self._lock:
            saved = (dict(self._overrides), dict(self._settings), self._debug_file)
            known = catalogue()
            with self._call():  # the engine's own values of what the block changes
                live = [(name.encode(), read_value(self._handle, name.encode()))
                        for name, _ in pairs if name != "debug_file" and name in known
                        and not known[name].process_global]
            try:
                for name, value in pairs:
                    self._store_variable(name, value, at_init=False)
                yield
            finally:
                if self.native_handle is not None:
                    for key, text in reversed(live):
                        lib.TessBaseAPISetVariable(self._handle, key, text)
                self._overrides, self._settings, self._debug_file = saved

    @property
    def image(self) -> Pix | None:
        """The image recognised (set_rectangle's part, else the whole), or None."""
        return self._part or self._image

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) of the whole image in pixels; NoImage before set_image."""
        self._require_image()
        return self._image_size

    # ---- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        """Free the engine now.  Later calls raise :class:`ClosedError`."""
        with self._lock:
            if self._osd is not None:
                self._osd.close()
                self._osd = None
            if self._handle is not None:
                handle, self._handle = self._handle, None
                if handle is not _ABANDONED:
                    ffi.release(handle)
            if self._reload is not None:
                self._reload.discard()
                self._reload = None
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
        under the engine's lock (safe when threads share the engine).  ``timeout`` bounds
        the step after the image is decoded, as for :meth:`recognize`."""
        milliseconds = deadline_ms(timeout)
        pix = to_pix(image)
        with self._lock:
            started = time.monotonic()
            with self._call(None if timeout is None else started + timeout):
                self.set_image_pix(pix)
                self._recognize(milliseconds, timeout, started)
                return self.get_utf8_text()

    # ---- engine settings ---------------------------------------------------------------

    @staticmethod
    def version() -> str:
        """Tesseract's version string, e.g. '5.3.0'."""
        return ffi.string(lib.TessVersion()).decode()

    @_locked
    def set_variable(self, name: str, value: object) -> None:
        """Set a Tesseract parameter, checked against its kind and limits (see
        :mod:`tightbind.ocr.params`).  Raises VariableError for an unknown name, a value
        of the wrong kind or too long, or an init-only parameter (pass those as
        ``variables=`` to the constructor)."""
        self._store_variable(name, value, at_init=False)

    def _store_variable(self, name: str, value: object, *, at_init: bool) -> None:
        name = c_string(name, "variable name").decode()
        param, text = check_variable(name, value)
        if name == "debug_file":
            self._debug_file = text.decode()
        elif param.process_global:
            self._overrides[name] = text
        elif at_init or lib.TessBaseAPISetVariable(self._handle, name.encode(), text):
            self._settings[name] = text
        else:
            raise VariableError(f"Tesseract cannot set variable {name!r} now (it is only "
                                "settable at initialisation: pass it in variables=)")

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
        """The value of a string parameter; VariableError if there is none.
        ``debug_file`` is this engine's own (os.devnull when its diagnostics go to the
        ``tightbind.ocr`` logger)."""
        if name == "debug_file":
            return os.devnull if self._debug_file is None else self._debug_file
        value = lib.TessBaseAPIGetStringVariable(self._handle, c_string(name, "name"))
        if value == ffi.NULL:
            raise VariableError(f"no string variable {name!r}")
        return ffi.string(value).decode("utf-8", "replace")

    @_locked
    def set_page_seg_mode(self, psm: int) -> None:
        """Set the page segmentation mode (a :class:`PSM`)."""
        psm = PSM(psm)
        lib.TessBaseAPISetPageSegMode(self._handle, int(psm))
        self._settings["tessedit_pageseg_mode"] = str(int(psm)).encode()

    @_locked
    def get_page_seg_mode(self) -> PSM:
        return PSM(lib.TessBaseAPIGetPageSegMode(self._handle))

    @_locked
    def get_init_languages_as_string(self) -> str:
        """The languages the engine was initialised with, e.g. 'eng'."""
        return ffi.string(lib.TessBaseAPIGetInitLanguagesAsString(self._handle)).decode()

    @_locked
    def loaded_languages(self) -> list[str]:
        return take_string_array(lib.TessBaseAPIGetLoadedLanguagesAsVector(self._handle))

    @_locked
    def available_languages(self) -> list[str]:
        """The languages whose models are in this engine's tessdata folder."""
        # Tesseract 5.5 lists the folder with std::filesystem and aborts the process (an
        # uncaught C++ exception) when it has gone; 5.3 returned nothing.
        if not os.path.isdir(self.data_path):
            return []
        return take_string_array(lib.TessBaseAPIGetAvailableLanguagesAsVector(self._handle))

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

    def recognize(self, timeout: float | None = None, *, watched: bool = True) -> None:
        """Recognise the image (the GIL is released meanwhile).

        ``timeout`` (seconds) is a deadline: the call returns within ``timeout`` +
        :data:`~tightbind.ocr.deadline.SLACK` (0.5 s), raising RecognitionTimeout when the
        page is not done.  Tesseract stops itself between words; a page still in layout
        analysis, which it cannot interrupt, is abandoned to finish in the background and
        this object loads a fresh engine on its next call (see
        :mod:`tightbind.ocr.deadline`).  Raises NoImage, RecognitionTimeout,
        RecognitionCancelled (see :meth:`cancel`) or OcrError.  ``watched=False``:
        Tesseract's own deadline alone, no thread watching (a worker process, killed from
        outside, or a face that promises no more).
        """
        self._recognize(deadline_ms(timeout), timeout, time.monotonic(), bounded=watched)

    def _recognize(self, milliseconds: int, timeout: float | None, started: float, *,
                   bounded: bool = True) -> None:
        with self._call(None if timeout is None else started + timeout):
            self._require_image()
            self._recognized = False
            self._page_held = True
            self._run_recognition(milliseconds, timeout, started,
                                  "recognize()" if timeout is None
                                  else f"recognize(timeout={timeout})", bounded=bounded)
            self._recognized = True

    def _run_recognition(self, milliseconds: int, timeout: float | None, started: float,
                         what: str, *, bounded: bool = True) -> None:
        """Recognise the image set on the engine by ``started + timeout`` (see
        recognize); time already spent (waiting for a fresh engine) counts.  Unbounded,
        only Tesseract's own deadline applies (a worker process, killed from outside)."""
        handle, cancel = self._handle, self._cancel
        cancel[0] = 0
        if timeout is None or not bounded:
            rc = lib.tb_ocr_recognize(handle, cancel, milliseconds)
        else:
            left = timeout - (time.monotonic() - started)
            if left <= 0:
                raise RecognitionTimeout(f"{what}: the deadline passed before recognition "
                                         "could start")
            milliseconds = min(milliseconds, max(1, int(left * 1000)))
            finished, rc = run_bounded(
                lambda: lib.tb_ocr_recognize(handle, cancel, milliseconds), left,
                abandoned=lambda: ffi.release(handle))
            if not finished:
                cancel[0] = 1  # Tesseract stops at its first check after the layout
                self._handle = _ABANDONED
                self._reload = Reload(self._load)
                self._cancel = ffi.new("int *")
                self._recognized = self._page_held = False
                log_messages()
                raise RecognitionTimeout(
                    f"{what}: the deadline passed during layout analysis, which Tesseract "
                    "cannot interrupt; the page was abandoned (it finishes in the "
                    "background) and a fresh engine is loading for the next call")
        cancel[0] = 0
        log_messages()
        check(rc, what)

    def cancel(self) -> None:
        """Stop a ``recognize()`` running in another thread (it raises
        RecognitionCancelled).  Does not wait for the lock; does nothing when idle."""
        self._cancel[0] = 1

    @_locked
    def get_utf8_text(self) -> str:
        """The recognised text."""
        self._require_result()
        return take_text(lib.TessBaseAPIGetUTF8Text(self._handle), "text")

    @_locked
    def get_hocr_text(self, page_number: int = 0) -> str:
        """The result as an hOCR fragment (``page_number`` counts from 0)."""
        self._require_result()
        return take_text(lib.TessBaseAPIGetHOCRText(self._handle, page_number), "hOCR")

    @_locked
    def get_tsv_text(self, page_number: int = 0) -> str:
        """The result as Tesseract's TSV rows (without the header line)."""
        self._require_result()
        return take_text(lib.TessBaseAPIGetTsvText(self._handle, page_number), "TSV")

    @_locked
    def get_alto_text(self, page_number: int = 0) -> str:
        """The result as an ALTO XML fragment."""
        self._require_result()
        return take_text(lib.TessBaseAPIGetAltoText(self._handle, page_number), "ALTO")

    @_locked
    def get_box_text(self, page_number: int = 0) -> str:
        """The result as box-file lines (one symbol per line, bottom-left origin)."""
        self._require_result()
        return take_text(lib.TessBaseAPIGetBoxText(self._handle, page_number), "box text")

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
        """True when ``word`` is in the loaded dictionaries.  ValueError for a word longer
        than :data:`~tightbind.ocr.params.MAX_CHARSET_LENGTH` characters (Tesseract
        encodes it recursively)."""
        text = c_string(word, "word")
        check_word(word)
        return bool(lib.TessBaseAPIIsValidWord(self._handle, text))

    @_locked
    def get_text_direction(self) -> TextDirection | None:
        """Offset and slope of the text's baseline, or None when unknown."""
        self._require_result()
        offset = ffi.new("int *")
        slope = ffi.new("float *")
        if not lib.TessBaseAPIGetTextDirection(self._handle, offset, slope):
            return None
        return TextDirection(int(offset[0]), float(slope[0]))

    @_locked
    def page_rows(self) -> PageRows:
        """Every row of the recognised page (see :mod:`tightbind.ocr.layout`), one C call."""
        self._require_result()
        iterator = lib.TessBaseAPIGetIterator(self._handle)
        if iterator == ffi.NULL:
            raise NotRecognized("Tesseract has no result iterator for this page")
        iterator = ffi.gc(iterator, lib.TessResultIteratorDelete)
        try:
            return read_rows(lib.TessResultIteratorGetPageIterator(iterator), True,
                             self._offset)
        finally:
            ffi.release(iterator)

    @_locked
    def clear(self) -> None:
        """Forget the image and its results (the engine stays loaded)."""
        lib.TessBaseAPIClear(self._handle)
        self._image = self._part = None
        self._recognized = self._page_held = False

    # ---- layout ------------------------------------------------------------------------

    @_locked
    def analyse_layout(self, level: int | None = PageIteratorLevel.BLOCK
                       ) -> list[Element] | PageRows:
        """Layout analysis only (no recognition): the boxes and block types at ``level``,
        or with ``level=None`` every row of the layout (:class:`PageRows`)."""
        level = None if level is None else page_level(level)
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
            if level is None:
                return read_rows(iterator, False, self._offset)
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
        self._page_held = True  # the recognised page when there is one, else a layout
        return read_components(self._handle, int(level), bool(text_only), images,
                               self._offset)

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
        with engine.native(keeps_result=False) as handle:  # detection clears the page
            ok = lib.TessBaseAPIDetectOrientationScript(
                handle, degrees, orientation_confidence, script, script_confidence)
        log_messages()
        if not ok or script[0] == ffi.NULL:
            raise OcrError("Tesseract could not detect orientation and script (too little "
                           "text on the page?)")
        # The script name points into the OSD model's character set: copy, never free.
        return OrientationScript(int(degrees[0]), float(orientation_confidence[0]),
                                 ffi.string(script[0]).decode(), float(script_confidence[0]))

    # ---- documents ---------------------------------------------------------------------

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

        ``source`` is an image file (every page of a multi-page TIFF, decoded one at a
        time) or an iterable of images (paths, bytes, Pillow images, numpy arrays, Pix).
        Writes ``outputbase.<ext>`` for each of ``formats`` (pdf: searchable PDF, hocr,
        tsv, alto (.xml), txt, box, unlv) and returns the paths written, creating
        ``outputbase``'s folder if needed.  ``timeout`` is per page, checked and kept as
        by :meth:`recognize` (RecognitionTimeout within ``timeout`` + 0.5 s); files
        already begun may be left incomplete on error.
        """
        return process_document(self, source, outputbase, formats, title=title,
                                timeout=timeout)
