"""The ``tesseract IMAGE OUTPUTBASE [options] [configs]`` command, run in-process.

:func:`run_command` does what the command does with the same arguments (parsed by
:mod:`tightbind.ocr.command_line`): it reads the image as the command reads it
(Leptonica, every page of a TIFF), sets the command's defaults (page segmentation mode
3 unless a config file chose one, ``--dpi`` as ``user_defined_dpi``), recognises each
page and writes the renderers the settings ask for (``tessedit_create_txt``, ``_hocr``,
``_tsv``, ``_pdf``, ``_alto``, ``_boxfile``, ...; text when none is asked for) to
``OUTPUTBASE.<ext>``, so the files are byte for byte the command's.  The one difference
is that the model stays loaded: engines are kept per thread, keyed by data path,
language, engine mode and the settings Tesseract takes only at initialisation; every
other setting is applied for one call and put back.
"""

from __future__ import annotations

import collections
import errno
import logging
import os
import stat
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tightbind.ocr._native import c_string, ffi, lib, log_messages
from tightbind.ocr.api import TessApi
from tightbind.ocr.command_line import CommandLine, read_config_file
from tightbind.ocr.constants import PSM
from tightbind.ocr.errors import (
    ImageError,
    LanguageNotFound,
    OcrError,
    RecognitionTimeout,
    VariableError,
)
from tightbind.ocr.params import catalogue, check_value, is_init_only, read_value
from tightbind.ocr.pix import Pix, _tiff_page, _wrap, check_image, pixel_limit
from tightbind.ocr.tessdata import builtin_folder, default_data_path

__all__ = ["CommandFailed", "decode_input", "engine_for", "run_command"]

log = logging.getLogger("tightbind.ocr")

#: Engines kept per thread (least recently used ones are closed beyond this).
MAX_ENGINES = 4
_local = threading.local()

# Renderer-creating settings in the order the command chains them, with the file
# extension each writes.
_RENDERERS: tuple[tuple[str, str], ...] = (
    ("tessedit_create_hocr", "hocr"), ("tessedit_create_alto", "xml"),
    ("tessedit_create_tsv", "tsv"), ("tessedit_create_pdf", "pdf"),
    ("tessedit_write_unlv", "unlv"), ("tessedit_create_lstmbox", "box"),
    ("tessedit_create_boxfile", "box"), ("tessedit_create_wordstrbox", "box"),
    ("tessedit_create_txt", "txt"),
)
_TRAINING = ("tessedit_ambigs_training", "tessedit_resegment_from_boxes",
             "tessedit_make_boxes_from_boxes", "tessedit_train_line_recognizer")
_SCRATCH = (b"user_defined_dpi", b"applybox_page", b"unlv_tilde_crunching")
_ROTATION = {0: 0, 1: 270, 2: 180, 3: 90}  # orientation id -> clockwise turn to upright


class CommandFailed(OcrError):
    """The command would exit with ``status`` and print this message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Page:
    """A decoded page: its image, its index in the file, whether the file is a TIFF,
    and for a page of a file list, the image file it comes from."""

    pix: Pix
    index: int
    tiff: bool = False
    name: str | None = None


def decode_input(data: bytes, name: str, *, listed: bool = False) -> list[Page]:
    """The pages the command reads from image file contents ``data`` (every page of a
    TIFF; the one image of other formats), decoded by Leptonica as it decodes them.
    Text that is no image is, as for the command, a list of image files, one a line
    (relative names from the current folder), each giving its first page."""
    try:
        checked = check_image(data, pixel_limit())
    except ImageError as exc:
        if not listed and b"\0" not in data:
            try:
                text = data.decode()
            except UnicodeDecodeError:
                pass
            else:
                return _file_list(text)
        raise CommandFailed(1, f"Image file {name} cannot be read! ({exc})") from None
    if checked.format == lib.IFF_TIFF:
        return [Page(_tiff_page(data, offset, index), index, True)
                for index, offset in enumerate(checked.page_offsets)]
    pix = lib.pixReadMem(data, len(data))
    log_messages(logging.DEBUG)
    if pix == ffi.NULL:
        raise CommandFailed(1, f"Image file {name} cannot be read!")
    return [Page(_wrap(pix, "cannot decode the image"), 0)]


def read_regular_file(path: str) -> bytes:
    """The contents of the file ``path``; OSError for a folder, a device or a pipe
    (``/dev/zero`` would never end; a pipe is opened without waiting for a writer)."""
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as source:
        if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        return source.read()


def _file_list(text: str) -> list[Page]:
    """The pages of a file list (the command's ProcessPagesFileList)."""
    pages = []
    for index, line in enumerate(text.splitlines()):
        path = line.rstrip()
        try:
            data = read_regular_file(path)
        except OSError as exc:
            raise CommandFailed(1, f"Image file {path} cannot be read! ({exc.strerror}) "
                                   "Error during processing.") from None
        first = decode_input(data, path, listed=True)[0]
        pages.append(Page(first.pix, index, False, path))
    return pages


def _data_folder(line: CommandLine, languages: list[str]) -> str | None:
    """The tessdata folder an engine for ``line`` reads (its configs/ folder too)."""
    if line.data_path is not None:
        return line.data_path
    return (os.environ.get("TESSDATA_PREFIX") or default_data_path(languages)
            or builtin_folder())


def _settings(line: CommandLine) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """The config files' settings and then the ``-c`` ones, checked, split into those
    Tesseract takes only at initialisation and the others, in order.  What Tesseract
    would skip (an unknown name, a value it cannot parse, a missing config file) is
    logged and skipped, as the command warns and goes on."""
    folder = _data_folder(line, line.language.split("+"))
    pairs: list[tuple[str, str]] = []
    for name in line.configs:
        settings = read_config_file(name, folder or "")
        if settings is None:
            log.warning("read_params_file: Can't open %s", name)
            continue
        pairs += settings
    pairs += line.variables
    at_init: list[tuple[str, bytes]] = []
    later: list[tuple[str, bytes]] = []
    known = catalogue()
    for name, value in pairs:
        param = known.get(name)
        if param is None:
            log.warning("Warning: The parameter '%s' was not found.", name)
            continue
        try:
            text = check_value(param, value)
        except VariableError as exc:
            log.warning("Tesseract ignores %s", exc)
            continue
        (at_init if is_init_only(name) else later).append((name, text))
    return at_init, later


def engine_for(line: CommandLine, at_init: Sequence[tuple[str, bytes]]) -> TessApi:
    """This thread's engine for ``line``'s data path, language and engine mode with the
    initialisation-only settings ``at_init``, loaded on first use."""
    engines: collections.OrderedDict[Any, TessApi] = getattr(_local, "engines", None) \
        or collections.OrderedDict()
    _local.engines = engines
    key = (line.data_path, line.language, line.oem, tuple(at_init))
    api = engines.get(key)
    if api is None or api.closed:
        api = _load(line, {name: value.decode() for name, value in at_init})
        engines[key] = api
        while len(engines) > MAX_ENGINES:
            engines.popitem(last=False)[1].close()
    engines.move_to_end(key)
    return api


def _load(line: CommandLine, variables: dict[str, object]) -> TessApi:
    """An engine as the command initialises one: a language that fails to load is left
    out (with a warning) as long as another loads; CommandFailed for a language name
    Tesseract could not take."""
    language = line.language
    while True:
        try:
            return TessApi(line.data_path, language, oem=line.oem, psm=PSM.SINGLE_BLOCK,
                           variables=variables)
        except LanguageNotFound as exc:
            loaded = [lang for lang in exc.languages if lang not in exc.missing]
            if not loaded or loaded == exc.languages:
                raise
            log.warning("Failed loading language %s", "+".join(exc.missing))
            language = "+".join(loaded)
        except ValueError as exc:  # a language name refused before Tesseract sees it
            raise CommandFailed(1, f"{exc}. Could not initialize tesseract.") from None


def forget_engine(api: TessApi) -> None:
    """Close ``api`` and drop it from this thread's engines (after an abandoned call)."""
    engines = getattr(_local, "engines", {})
    for key in [key for key, value in engines.items() if value is api]:
        del engines[key]
    api.close()


def _flag(handle: Any, name: str) -> bool:
    value = ffi.new("int *")
    return bool(lib.TessBaseAPIGetBoolVariable(handle, name.encode(), value) and value[0])


def run_command(line: CommandLine, pages: list[Page], input_name: str, outputbase: str,
                *, timeout: float | None = None) -> str | None:
    """Do what ``tesseract INPUT OUTPUTBASE ...`` does for ``line`` with the decoded
    ``pages`` of ``input_name``: write the renderers' files at ``outputbase``.  For page
    segmentation mode 0 (orientation and script only) returns the OSD report instead.

    ``timeout`` bounds the call as :meth:`TessApi.recognize` does (RecognitionTimeout).
    Raises CommandFailed where the command exits with an error, LanguageNotFound.
    """
    at_init, later = _settings(line)
    api = engine_for(line, at_init)
    psm = PSM.SINGLE_BLOCK
    for name, text in (*at_init, *later):
        if name == "tessedit_pageseg_mode":
            psm = PSM(int(text))
    started = time.monotonic()
    with api.lock:
        deadline = None if timeout is None else started + timeout
        with api.native(deadline):
            pass  # a fresh engine in place after an abandoned call
        with api.variables_for_call([(name, text.decode()) for name, text in later]), \
                api.native(deadline, keeps_image=False) as handle:
            # The command sets its own mode (3 unless --psm) unless a config chose one.
            chosen = PSM(line.psm) if psm == PSM.SINGLE_BLOCK else psm
            lib.TessBaseAPISetPageSegMode(handle, int(chosen))
            # Settings the command changes on its way; put back after the call.
            scratch = {key: read_value(handle, key) for key in _SCRATCH}
            if line.dpi:
                lib.TessBaseAPISetVariable(handle, b"user_defined_dpi", str(line.dpi).encode())
            lib.TessBaseAPISetOutputName(handle, c_string(outputbase, "output base"))
            try:
                if chosen == PSM.OSD_ONLY:
                    return _osd(handle, pages, input_name)
                if chosen == PSM.AUTO_ONLY or any(_flag(handle, flag) for flag in _TRAINING):
                    return None  # the command writes no file in these modes
                try:
                    _render(api, pages, input_name, outputbase, timeout, started)
                except RecognitionTimeout:
                    forget_engine(api)  # its per-call settings must not outlive the call
                    raise
                return None
            finally:
                if api.native_handle is handle:
                    for key, value in scratch.items():
                        lib.TessBaseAPISetVariable(handle, key, value)
                    lib.TessBaseAPISetPageSegMode(handle, int(psm))


def _pages(handle: Any, pages: list[Page]) -> list[Page]:
    """The pages the command processes: of a TIFF, only page ``tessedit_page_number``
    when that is set (counting from 0)."""
    number = ffi.new("int *")
    lib.TessBaseAPIGetIntVariable(handle, b"tessedit_page_number", number)
    if number[0] >= 0 and pages and pages[0].tiff:
        return [page for page in pages if page.index == number[0]]
    return pages


def _render(api: TessApi, pages: list[Page], input_name: str, outputbase: str,
            timeout: float | None, started: float) -> None:
    """The command's renderer chain over ``pages`` (see the module's docstring)."""
    handle = api.native_handle
    base = c_string(outputbase, "output base")
    error = False
    renderers: list[Any] = []
    try:
        for flag, _ext in _RENDERERS:
            if not _flag(handle, flag) and not (flag == "tessedit_create_txt" and not error
                                             and not renderers):
                continue
            renderer = _create(handle, flag, base)
            if renderer == ffi.NULL:
                error = True
                log.warning("could not create the output file for %s", flag)
                continue
            renderers.append(renderer)
        if not renderers:
            return
        first = renderers[0]
        for renderer in renderers[1:]:
            lib.TessResultRendererInsert(first, renderer)
        owned, renderers = renderers[0], []
        try:
            title = lib.TessBaseAPIGetStringVariable(handle, b"document_title")
            if not lib.TessResultRendererBeginDocument(first, title if title != ffi.NULL
                                                       else b""):
                raise CommandFailed(1, "Error during processing.")
            name = c_string(input_name, "input name")
            for page in _pages(handle, pages):
                if page.tiff:
                    lib.TessBaseAPISetVariable(handle, b"applybox_page",
                                               str(page.index).encode())
                lib.TessBaseAPISetInputName(handle, name if page.name is None else
                                            c_string(page.name, "input name"))
                lib.TessBaseAPISetImage2(handle, page.pix.ptr)
                api.recognize_native(timeout, started, "tesseract" if timeout is None
                                     else f"tesseract (timeout={timeout})")
                if not lib.TessResultRendererAddImage(first, handle):
                    raise CommandFailed(1, "Error during processing.")
            if not lib.TessResultRendererEndDocument(first):
                raise CommandFailed(1, "Error during processing.")
        finally:
            lib.TessDeleteResultRenderer(owned)
            log_messages()
    finally:
        for renderer in renderers:
            lib.TessDeleteResultRenderer(renderer)


def _create(handle: Any, flag: str, base: bytes) -> Any:
    if flag == "tessedit_create_hocr":
        return lib.TessHOcrRendererCreate2(base, _flag(handle, "hocr_font_info"))
    if flag == "tessedit_create_alto":
        return lib.TessAltoRendererCreate(base)
    if flag == "tessedit_create_tsv":
        return lib.TessTsvRendererCreate(base)
    if flag == "tessedit_create_pdf":
        datapath = lib.TessBaseAPIGetDatapath(handle)
        return lib.TessPDFRendererCreate(base, datapath, _flag(handle, "textonly_pdf"))
    if flag == "tessedit_write_unlv":
        lib.TessBaseAPISetVariable(handle, b"unlv_tilde_crunching", b"1")
        return lib.TessUnlvRendererCreate(base)
    if flag == "tessedit_create_lstmbox":
        return lib.TessLSTMBoxRendererCreate(base)
    if flag == "tessedit_create_boxfile":
        return lib.TessBoxTextRendererCreate(base)
    if flag == "tessedit_create_wordstrbox":
        return lib.TessWordStrBoxRendererCreate(base)
    return lib.TessTextRendererCreate(base)


def _osd(handle: Any, pages: list[Page], input_name: str) -> str:
    """The command's OSD report (its TessOsdRenderer) for each page."""
    report = []
    name = c_string(input_name, "input name")
    for number, page in enumerate(_pages(handle, pages)):
        lib.TessBaseAPISetInputName(handle, name)
        lib.TessBaseAPISetImage2(handle, page.pix.ptr)
        degrees = ffi.new("int *")
        orientation_confidence = ffi.new("float *")
        script = ffi.new("char **")
        script_confidence = ffi.new("float *")
        ok = lib.TessBaseAPIDetectOrientationScript(
            handle, degrees, orientation_confidence, script, script_confidence)
        log_messages()
        if not ok or script[0] == ffi.NULL:
            raise CommandFailed(1, "Too few characters. Skipping this page. Error during "
                                "processing.")
        report.append(
            f"Page number: {number}\n"
            f"Orientation in degrees: {degrees[0]}\n"
            f"Rotate: {_ROTATION[(degrees[0] // 90) % 4]}\n"
            f"Orientation confidence: {orientation_confidence[0]:.2f}\n"
            f"Script: {ffi.string(script[0]).decode()}\n"
            f"Script confidence: {script_confidence[0]:.2f}\n")
    return "".join(report)
