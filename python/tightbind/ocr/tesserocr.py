"""tesserocr 2.13's API over :class:`~tightbind.ocr.TessApi`: change
``import tesserocr`` to ``from tightbind.ocr import tesserocr`` and the rest stays.

A thin face: every call is a :class:`TessApi` call, iterators are cursors over the
rows :meth:`TessApi.page_rows` reads in one C call (:mod:`tightbind.ocr.layout`), and
failures raise what tesserocr raises (RuntimeError, TypeError for wrong types) with
tightbind's message.  What differs from tesserocr:

- ``SetRectangle`` cuts the rectangle out of the image (Tesseract's own rectangle gives
  wrong text with LSTM models, tesseract #845); boxes are still in the whole image's
  coordinates.
- Iterators hold the page they were made from, so they stay valid after ``SetImage``,
  ``Clear`` or ``End`` (tesserocr's read freed memory then).
- ``DetectOS`` and ``DetectOrientationScript`` run on a separate engine loaded with
  ``osd`` when this one was not (tesserocr's wheel aborts there with Debian's model).
- ``GetComponentImages`` gives block ids as None; config files and init variables may
  change process-wide parameters, as in tesserocr.
- Recognition started on the main thread can be interrupted by a signal handler that
  raises (KeyboardInterrupt): Tesseract is cancelled and the exception propagates.
"""

from __future__ import annotations

import contextlib
import operator
import os
import threading
from collections.abc import Iterator
from typing import Any

from tightbind.ocr._native import ffi, lib
from tightbind.ocr.api import TessApi
from tightbind.ocr.constants import OEM as _OEM
from tightbind.ocr.constants import PSM as _PSM
from tightbind.ocr.constants import Justification, Orientation, TextlineOrder, WritingDirection
from tightbind.ocr.constants import PageIteratorLevel as RIL
from tightbind.ocr.constants import PolyBlockType as PT
from tightbind.ocr.errors import (
    ImageFileNotFound,
    NoImage,
    NotRecognized,
    OcrError,
    RecognitionCancelled,
    RecognitionTimeout,
    VariableError,
)
from tightbind.ocr.pix import Pix
from tightbind.ocr.tessdata import default_data_path, languages_in, list_languages
from tightbind.ocr.tesserocr_iterators import (
    PyChoiceIterator,
    PyLTRResultIterator,
    PyPageIterator,
    PyResultIterator,
    iterate_choices,
    iterate_level,
)

__all__ = ["OEM", "PSM", "PT", "RIL", "Justification", "Orientation", "PyChoiceIterator",
           "PyLTRResultIterator", "PyPageIterator", "PyResultIterator", "PyTessBaseAPI",
           "TextlineOrder", "WritingDirection", "file_to_text", "get_languages",
           "image_to_text", "iterate_choices", "iterate_level", "tesseract_version"]

OEM = _OEM
PSM = _PSM
_DEFAULT_LANG = "eng"


@contextlib.contextmanager
def _as_tesserocr() -> Iterator[None]:
    """tightbind's errors as tesserocr raises them: RuntimeError, with the message."""
    try:
        yield
    except (ImageFileNotFound, TypeError):
        raise
    except OcrError as exc:
        raise RuntimeError(str(exc)) from exc


def _int(value: object, what: str) -> int:
    if isinstance(value, bool):
        return int(value)
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} must be an int, not {type(value).__name__}") from None


def _path(value: object, what: str) -> str:
    """A path argument (str, bytes or os.PathLike) as str; TypeError otherwise."""
    if isinstance(value, (str, bytes, os.PathLike)):
        return os.fsdecode(value)
    raise TypeError(f"{what} must be a str, bytes or path, not {type(value).__name__}")


def _configs(configs: object) -> list[str]:
    """Config file names, each encoded once from a copy of the caller's list."""
    if configs is None:
        return []
    if not isinstance(configs, list):
        raise TypeError(f"configs must be a list, not {type(configs).__name__}")
    return [os.fsdecode(os.fsencode(_path(config, "a config file name")))
            for config in tuple(configs)]


def _variables(variables: object) -> dict[str, object]:
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise TypeError(f"variables must be a dict, not {type(variables).__name__}")
    return {_path(name, "a variable name"): os.fsdecode(value) if isinstance(value, bytes)
            else str(value) for name, value in variables.copy().items()}


def _recognize(api: TessApi, timeout_ms: int) -> None:
    """Recognise with Tesseract's own deadline (``timeout_ms``, 0 for none).  On the
    main thread the work runs in a helper while this thread waits, so a signal handler
    that raises (KeyboardInterrupt) cancels Tesseract and its exception propagates."""
    # Off the main thread no signal handler runs; with the engine's lock held here, the
    # helper could not take it.
    if threading.current_thread() is not threading.main_thread() \
            or api.lock._is_owned():  # type: ignore[attr-defined]
        api.recognize(timeout_ms / 1000 or None, watched=False)
        return
    outcome: list[BaseException] = []

    def work() -> None:
        try:
            api.recognize(timeout_ms / 1000 or None, watched=False)
        except BaseException as exc:  # handed to the waiting thread
            outcome.append(exc)

    helper = threading.Thread(target=work, name="tightbind-tesserocr", daemon=True)
    helper.start()
    try:
        while helper.is_alive():
            helper.join(0.05)
    except BaseException:
        while helper.is_alive():  # cancel until the helper has stopped
            api.cancel()
            with contextlib.suppress(BaseException):
                helper.join(0.05)
        raise
    if outcome:
        raise outcome[0]


def _to_pil(pix: Pix) -> Any:
    if pix.depth == 1:
        pix = pix.to_gray()
    return pix.to_pil()


class PyTessBaseAPI:
    """tesserocr's ``PyTessBaseAPI``: one Tesseract engine (a :class:`TessApi`)."""

    def __init__(self, path: Any = None, lang: str = _DEFAULT_LANG, psm: int = PSM.AUTO,
                 init: bool = True, oem: int = OEM.DEFAULT, configs: list[Any] | None = None,
                 variables: dict[str, Any] | None = None,
                 set_only_non_debug_params: bool = False) -> None:
        self._api: TessApi | None = None
        self._osd: TessApi | None = None
        self._oem = OEM.DEFAULT
        if init:
            self.InitFull(path, lang, oem, configs, variables, set_only_non_debug_params, psm)
        else:
            _configs(configs), _variables(variables), _int(psm, "psm"), _int(oem, "oem")

    # ---- engine ------------------------------------------------------------------------

    @staticmethod
    def Version() -> str:
        return TessApi.version()

    @staticmethod
    def ClearPersistentCache() -> None:
        """Accepted: tightbind keeps no cache of models between engines."""

    def _engine(self) -> TessApi:
        if self._api is None or self._api.closed:
            raise RuntimeError("API not initialised: call Init() first")
        return self._api

    def InitFull(self, path: Any = None, lang: str = _DEFAULT_LANG, oem: int = OEM.DEFAULT,
                 configs: list[Any] | None = None, variables: dict[str, Any] | None = None,
                 set_only_non_debug_params: bool = False, psm: int = PSM.AUTO) -> None:
        """Load ``lang`` from ``path`` with config files and init variables; RuntimeError
        when it cannot."""
        config_files, values = _configs(configs), _variables(variables)
        psm, oem = _int(psm, "psm"), _int(oem, "oem")
        data_path = None if path is None else _path(path, "path")
        if not isinstance(lang, str):
            raise TypeError(f"lang must be a str, not {type(lang).__name__}")
        self.End()
        try:
            with _as_tesserocr():
                self._api = TessApi(data_path, lang, oem=oem, psm=psm,
                                    variables=dict(values), configs=config_files)
        except RuntimeError as exc:
            raise RuntimeError(f"Failed to init API, possibly an invalid tessdata path: "
                               f"{path}: {exc}") from exc
        self._oem = OEM(oem)

    def Init(self, path: Any = None, lang: str = _DEFAULT_LANG, oem: int = OEM.DEFAULT,
             psm: int = PSM.AUTO) -> None:
        self.InitFull(path, lang, oem, psm=psm)

    def End(self) -> None:
        """Free the engine; later calls raise RuntimeError until the next Init."""
        for engine in (self._api, self._osd):
            if engine is not None:
                engine.close()
        self._api = self._osd = None

    def __enter__(self) -> PyTessBaseAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.End()

    def oem(self) -> int:
        return self._oem

    def GetDatapath(self) -> str:
        return self._engine().data_path

    def SetOutputName(self, name: str) -> None:
        """Accepted for compatibility (renderers are :meth:`TessApi.process_pages`)."""

    def SetVariable(self, name: str, val: Any) -> bool:
        """Set a parameter; False when Tesseract has none of that name or cannot set it."""
        name = _path(name, "name")
        try:
            self._engine().set_variable(name, os.fsdecode(val) if isinstance(val, bytes)
                                        else str(val))
        except VariableError:
            return False
        return True

    def SetDebugVariable(self, name: str, val: Any) -> bool:
        return self.SetVariable(name, val)

    def _get(self, getter: str, name: Any) -> Any:
        engine = self._engine()
        try:
            return getattr(engine, getter)(_path(name, "name"))
        except VariableError:
            return None

    def GetIntVariable(self, name: str) -> int | None:
        return self._get("get_int_variable", name)

    def GetBoolVariable(self, name: str) -> bool | None:
        return self._get("get_bool_variable", name)

    def GetDoubleVariable(self, name: str) -> float | None:
        return self._get("get_double_variable", name)

    def GetStringVariable(self, name: str) -> str | None:
        return self._get("get_string_variable", name)

    def GetVariableAsString(self, name: str) -> str | None:
        """Any parameter's value as Tesseract prints it; None for an unknown name."""
        text = self.GetStringVariable(name)
        if text is not None:
            return text
        number = self.GetIntVariable(name)
        if number is not None:
            return str(number)
        flag = self.GetBoolVariable(name)
        if flag is not None:
            return "1" if flag else "0"
        value = self.GetDoubleVariable(name)
        return None if value is None else f"{value:g}"

    def GetInitLanguagesAsString(self) -> str:
        return self._engine().get_init_languages_as_string()

    def GetLoadedLanguages(self) -> list[str]:
        return self._engine().loaded_languages()

    def GetAvailableLanguages(self) -> list[str]:
        return self._engine().available_languages()

    def SetPageSegMode(self, psm: int) -> None:
        with _as_tesserocr():
            self._engine().set_page_seg_mode(_int(psm, "psm"))

    def GetPageSegMode(self) -> int:
        return self._engine().get_page_seg_mode()

    def ClearAdaptiveClassifier(self) -> None:
        self._engine().clear_adaptive_classifier()

    # ---- image -------------------------------------------------------------------------

    def SetImage(self, image: Any) -> None:
        """Use a Pillow image; RuntimeError when it cannot be read."""
        if not hasattr(image, "getbands"):
            raise TypeError(f"SetImage() takes a Pillow image, not {type(image).__name__}")
        with _as_tesserocr():
            self._engine().set_image(image)

    def SetImageFile(self, filename: Any) -> None:
        """Use the image file ``filename``; RuntimeError when it cannot be read."""
        filename = _path(filename, "filename")
        with _as_tesserocr():
            pix = Pix.from_file(filename)
        if self._api is not None and not self._api.closed:
            with _as_tesserocr():
                self._api.set_image_pix(pix)

    def SetImageBytes(self, imagedata: bytes, width: int, height: int,
                      bytes_per_pixel: int, bytes_per_line: int) -> None:
        """Use raw pixels: 1 (gray), 3 (RGB) or 4 (RGBA) bytes a pixel, rows
        ``bytes_per_line`` apart."""
        import numpy

        width, height = _int(width, "width"), _int(height, "height")
        channels, stride = _int(bytes_per_pixel, "bytes_per_pixel"), _int(bytes_per_line,
                                                                          "bytes_per_line")
        if channels not in (1, 3, 4) or width < 1 or height < 1 \
                or stride < width * channels or len(imagedata) < stride * height:
            raise RuntimeError(f"image data does not hold {width}x{height} pixels of "
                               f"{channels} bytes in rows of {stride} bytes")
        rows = numpy.frombuffer(imagedata, numpy.uint8, stride * height).reshape(height, stride)
        pixels = rows[:, :width * channels].reshape(height, width, channels)
        with _as_tesserocr():
            self._engine().set_image(pixels[:, :, 0] if channels == 1 else pixels)

    def SetSourceResolution(self, ppi: int) -> None:
        with _as_tesserocr():
            self._engine().set_source_resolution(_int(ppi, "ppi"))

    def SetRectangle(self, left: int, top: int, width: int, height: int) -> None:
        """Recognise only this rectangle (clipped to the image, as Tesseract clips)."""
        left, top = max(0, _int(left, "left")), max(0, _int(top, "top"))
        width, height = _int(width, "width"), _int(height, "height")
        engine = self._engine()
        with _as_tesserocr():
            image_width, image_height = engine.image_size
            width, height = min(width, image_width - left), min(height, image_height - top)
            engine.set_rectangle(left, top, width, height)

    def GetThresholdedImage(self) -> Any:
        """The binarised image as a Pillow image (mode L), or None."""
        try:
            pix = self._engine().get_thresholded_image()
        except OcrError:
            return None
        return _to_pil(pix)

    def GetThresholdedImageScaleFactor(self) -> int:
        engine = self._engine()
        with engine.native() as handle:
            return int(lib.TessBaseAPIGetThresholdedImageScaleFactor(handle))

    def _components(self, level: int, text_only: bool) -> list[tuple[Any, dict[str, int]]]:
        with _as_tesserocr():
            found = self._engine().get_component_images(_int(level, "level"), bool(text_only),
                                                        images=True)
        out = []
        for box, pix in found:  # type: ignore[misc]
            left, top, right, bottom = box
            out.append((_to_pil(pix), {"x": left, "y": top, "w": right - left,
                                       "h": bottom - top}))
        return out

    def GetComponentImages(self, level: int, text_only: bool, raw_image: bool = False,
                           raw_padding: int = 0, blockids: bool = True,
                           paraids: bool = False) -> list[tuple[Any, dict[str, int], Any, Any]]:
        """(image, {x, y, w, h}, block id, paragraph id) of each component at ``level``;
        the ids are None (see the module docstring)."""
        return [(image, box, None, None) for image, box in self._components(level, text_only)]

    def GetRegions(self) -> list[tuple[Any, dict[str, int]]]:
        return self._components(RIL.BLOCK, False)

    def GetTextlines(self, raw_image: bool = False, raw_padding: int = 0,
                     blockids: bool = True, paraids: bool = False) -> list[Any]:
        return self.GetComponentImages(RIL.TEXTLINE, True)

    def GetWords(self) -> list[tuple[Any, dict[str, int]]]:
        return self._components(RIL.WORD, True)

    def AnalyseLayout(self, merge_similar_words: bool = False) -> PyPageIterator | None:
        """Layout analysis only; a page iterator, or None when there is no page."""
        engine = self._engine()
        with _as_tesserocr():
            rows = engine.analyse_layout(None)
        return PyPageIterator._create(rows, engine.image_size)  # type: ignore[arg-type]

    # ---- recognition -------------------------------------------------------------------

    def Recognize(self, timeout: int = 0) -> bool:
        """Recognise the image; False when ``timeout`` milliseconds (0: none) pass first
        or recognition fails."""
        timeout = _int(timeout, "timeout")
        engine = self._engine()
        try:
            _recognize(engine, max(0, timeout))
        except (RecognitionTimeout, RecognitionCancelled, NoImage):
            return False
        except OcrError:
            return False
        return True

    def _recognized(self) -> TessApi:
        """The engine with a recognised page (recognising now if needed)."""
        engine = self._engine()
        with _as_tesserocr():
            try:
                engine.mean_text_confidence()
            except NotRecognized:
                _recognize(engine, 0)
        return engine

    def GetUTF8Text(self) -> str:
        """The recognised text (recognising first when needed); RuntimeError without an
        image or engine."""
        engine = self._recognized()
        with _as_tesserocr():
            return engine.get_utf8_text()

    def GetIterator(self) -> PyResultIterator | None:
        """A reading-order iterator over the recognised page, or None before Recognize."""
        engine = self._engine()
        try:
            rows = engine.page_rows()
        except OcrError:
            return None
        return PyResultIterator._create(rows, engine.image_size)

    def GetBestLSTMSymbolChoices(self) -> list[list[list[tuple[str, float]]]]:
        """For each word, its LSTM timesteps' (symbol, probability) alternatives."""
        if self.GetVariableAsString("lstm_choice_mode") == "0":
            raise RuntimeError("lstm_choice_mode Parameter is 0. Set it to 1 or 2")
        iterator = self.GetIterator()
        if iterator is None:
            return []
        return [word.GetBestLSTMSymbolChoices()  # type: ignore[attr-defined]
                for word in iterate_level(iterator, RIL.WORD)]

    def _text(self, getter: str, *args: Any) -> Any:
        engine = self._recognized()
        with _as_tesserocr():
            return getattr(engine, getter)(*args)  # type: ignore[no-any-return]

    def GetHOCRText(self, page_number: int) -> str:
        return self._text("get_hocr_text", _int(page_number, "page_number"))

    def GetTSVText(self, page_number: int) -> str:
        return self._text("get_tsv_text", _int(page_number, "page_number"))

    def GetBoxText(self, page_number: int) -> str:
        return self._text("get_box_text", _int(page_number, "page_number"))

    def GetUNLVText(self) -> str:
        return self._text("get_unlv_text")

    def MeanTextConf(self) -> int:
        return int(self._text("mean_text_confidence"))

    def AllWordConfidences(self) -> list[int]:
        return [int(value) for value in self._text("all_word_confidences")]

    def AllWords(self) -> list[str]:
        """The text of every word of the recognised page ([] before Recognize)."""
        iterator = self.GetIterator()
        words: list[str] = []
        if iterator is not None:
            for word in iterate_level(iterator, RIL.WORD):
                with contextlib.suppress(RuntimeError):
                    words.append(word.GetUTF8Text(RIL.WORD))  # type: ignore[attr-defined]
        return words

    def MapWordConfidences(self) -> list[tuple[str, int]]:
        try:
            return list(zip(self.AllWords(), self.AllWordConfidences(), strict=False))
        except RuntimeError:
            return []

    def IsValidWord(self, word: str) -> bool:
        with _as_tesserocr():
            return self._engine().is_valid_word(word)

    def GetTextDirection(self) -> tuple[int, float] | None:
        found = self._text("get_text_direction")
        return None if found is None else (found.offset, found.slope)  # type: ignore[attr-defined]

    def Clear(self) -> None:
        """Forget the image and results."""
        if self._api is not None and not self._api.closed:
            self._api.clear()

    # ---- orientation and script --------------------------------------------------------

    def DetectOrientationScript(self) -> dict[str, Any] | None:
        """{orient_deg, orient_conf, script_name, script_conf}, or None when Tesseract
        finds too little text."""
        try:
            found = self._engine().detect_orientation_script()
        except NoImage:
            return None
        except OcrError:
            return None
        return {"orient_deg": found.orientation, "orient_conf": found.orientation_confidence,
                "script_name": found.script, "script_conf": found.script_confidence}

    def DetectOS(self) -> dict[str, Any] | None:
        """{orientation (0..3), oconfidence, script (an index), sconfidence}, or None."""
        engine = self._engine()
        with _as_tesserocr():
            engine.image_size  # noqa: B018 (NoImage before an image is set)
            if "osd" in engine.loaded_languages():
                osd = engine
            else:
                if self._osd is None:
                    self._osd = TessApi(engine.data_path, "osd", psm=PSM.OSD_ONLY)
                osd = self._osd
                osd.set_image_pix(engine.image)  # type: ignore[arg-type]
        found = ffi.new("tb_ocr_osd *")
        with osd.native(keeps_result=False) as handle:
            rc = lib.tb_ocr_detect_os(handle, found)
        if rc != lib.TB_OK:
            return None
        return {"orientation": found.orientation_id,
                "oconfidence": found.orientation_confidence,
                "script": found.script_id, "sconfidence": found.script_confidence}


# ---- module functions ------------------------------------------------------------------

_engines = threading.local()


def _cached_engine(lang: str, psm: int, path: Any, oem: int) -> TessApi:
    """This thread's engine for these settings, loaded once."""
    key = (lang, _int(psm, "psm"), None if path is None else _path(path, "path"),
           _int(oem, "oem"))
    cache = getattr(_engines, "cache", None)
    if cache is None:
        cache = _engines.cache = {}
    engine = cache.get(key)
    if engine is None or engine.closed:
        try:
            with _as_tesserocr():
                engine = cache[key] = TessApi(key[2], lang, oem=key[3], psm=key[1])
        except RuntimeError as exc:
            raise RuntimeError("Failed to init API or recognize image, possibly an invalid "
                               f"tessdata path: {path}: {exc}") from exc
    return engine


def _pix_to_text(pix: Pix, lang: str, psm: int, path: Any, oem: int) -> str:
    engine = _cached_engine(lang, psm, path, oem)
    with _as_tesserocr():  # the engine is this thread's own
        engine.set_image_pix(pix)
        _recognize(engine, 0)
        return engine.get_utf8_text()


def image_to_text(image: Any, lang: str = _DEFAULT_LANG, psm: int = PSM.AUTO,
                  path: Any = None, oem: int = OEM.DEFAULT) -> str:
    """The text of a Pillow image (an engine per thread and settings, loaded once)."""
    if not hasattr(image, "getbands"):
        raise TypeError(f"image_to_text() takes a Pillow image, not {type(image).__name__}")
    from tightbind.ocr.pix import to_pix

    with _as_tesserocr():
        pix = to_pix(image)
    return _pix_to_text(pix, lang, psm, path, oem)


def file_to_text(filename: Any, lang: str = _DEFAULT_LANG, psm: int = PSM.AUTO,
                 path: Any = None, oem: int = OEM.DEFAULT) -> str:
    """The text of an image file."""
    filename = _path(filename, "filename")
    with _as_tesserocr():
        pix = Pix.from_file(filename)
    return _pix_to_text(pix, lang, psm, path, oem)


def tesseract_version() -> str:
    """Tesseract's, Leptonica's and the image libraries' versions, as tesserocr prints."""
    parts = []
    for getter in (lib.getLeptonicaVersion, lib.getImagelibVersions):
        text = getter()
        parts.append(ffi.string(text).decode() if text != ffi.NULL else "")
        if text != ffi.NULL:
            lib.lept_free(text)
    return f"tesseract {TessApi.version()}\n {parts[0]}\n  {parts[1]}\n"


def get_languages(path: Any = None) -> tuple[str, list[str]]:
    """(tessdata folder, languages): with ``path``, that folder and the models it holds;
    without, the folder an engine uses by default and every language an engine can load
    from any folder (``tightbind models`` lists where each comes from)."""
    if path is None:
        folder = default_data_path([_DEFAULT_LANG])
        if folder is None:
            with PyTessBaseAPI() as api:
                folder = api.GetDatapath()
        return folder, list_languages()
    folder = _path(path, "path")
    return folder, languages_in(folder)
