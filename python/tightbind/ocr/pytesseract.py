"""pytesseract 0.3.13's API, in-process: change ``import pytesseract`` to
``from tightbind.ocr import pytesseract`` and nothing else.

pytesseract saves the image as a file, starts the ``tesseract`` command, which loads
the model, and reads the file it writes.  Here the same work runs in this process
(:mod:`tightbind.ocr.command_run`): the image is encoded exactly as pytesseract saves
it and decoded by Leptonica as the command decodes it, the ``config`` string is read as
the command reads its arguments (``--psm``, ``--oem``, ``-l``, ``-c NAME=VALUE``,
``--dpi``, ``--tessdata-dir``, ``--user-words``, config files such as ``digits``), and
the output comes from Tesseract's own renderers, so results are byte for byte
pytesseract's on the same Tesseract.  The model stays loaded between calls (one engine
per thread per language, engine mode, data path and initialisation-only settings).

What differs: there is no ``tesseract`` process, so ``nice`` is accepted and unused, and
so is ``tesseract_cmd`` when it is the default or names a program that exists (a
``tesseract_cmd`` set to a program that does not, fails as pytesseract fails:
``TesseractNotFoundError``, or the ``OSError`` of starting it), ``timeout`` stops the
recognition in-process (raising ``RuntimeError('Tesseract process timeout')`` as
pytesseract does), and file names inside hOCR/ALTO output name a private temporary file.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import glob
import importlib.util
import io
import itertools
import logging
import os
import re
import shlex
import shutil
import string
import sys
import tempfile
import threading
from collections.abc import Callable
from csv import QUOTE_NONE
from typing import Any, TypeVar

from tightbind.ocr.command_line import CommandLine, CommandLineError, parse_arguments
from tightbind.ocr.command_run import (
    CommandFailed,
    decode_input,
    read_regular_file,
    run_command,
)
from tightbind.ocr.errors import LanguageNotFound, OcrError, RecognitionTimeout
from tightbind.ocr.tessdata import list_languages

__all__ = [
    "ALTONotSupported", "Output", "PandasNotSupported", "TSVNotSupported",
    "TesseractError", "TesseractNotFoundError", "get_languages", "get_tesseract_version",
    "image_to_alto_xml", "image_to_boxes", "image_to_data", "image_to_osd",
    "image_to_pdf_or_hocr", "image_to_string", "run_and_get_multiple_output",
    "run_and_get_output",
]

__version__ = "0.3.13"

#: Accepted for compatibility; no command is run (see :func:`_check_command`).
tesseract_cmd = "tesseract"
_DEFAULT_COMMAND = tesseract_cmd

#: Whether numpy is installed (found, not imported); ``pandas_installed`` likewise,
#: looked up when read.
numpy_installed = importlib.util.find_spec("numpy") is not None

LOGGER = logging.getLogger("pytesseract")
DEFAULT_ENCODING = "utf-8"
LANG_PATTERN = re.compile("^[a-z_]+$")
RGB_MODE = "RGB"
SUPPORTED_FORMATS = {"JPEG", "JPEG2000", "PNG", "PBM", "PGM", "PPM", "TIFF", "BMP", "GIF",
                     "WEBP"}
OSD_KEYS = {
    "Page number": ("page_num", int),
    "Orientation in degrees": ("orientation", int),
    "Rotate": ("rotate", int),
    "Orientation confidence": ("orientation_conf", float),
    "Script": ("script", str),
    "Script confidence": ("script_conf", float),
}
EXTENTION_TO_CONFIG = {
    "box": "tessedit_create_boxfile=1 batch.nochop makebox",
    "xml": "tessedit_create_alto=1",
    "hocr": "tessedit_create_hocr=1",
    "tsv": "tessedit_create_tsv=1",
}
# The command's options that take a value (the next word).
_VALUE_OPTIONS = {"-l", "--tessdata-dir", "--dpi", "--loglevel", "--user-words",
                  "--user-patterns", "--psm", "--oem", "-c"}
# Extensions pytesseract does not pass to the command as config file names.
_NOT_CONFIGS = {"box", "osd", "tsv", "xml"}


class Output:
    BYTES = "bytes"
    DATAFRAME = "data.frame"
    DICT = "dict"
    STRING = "string"


class PandasNotSupported(EnvironmentError):
    def __init__(self) -> None:
        super().__init__("Missing pandas package")


class TesseractError(RuntimeError):
    """What the ``tesseract`` command would exit with: ``status`` and its ``message``."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        self.args = (status, message)


class TesseractNotFoundError(EnvironmentError):
    def __init__(self) -> None:
        super().__init__(f"{tesseract_cmd} is not installed or it's not in your PATH. "
                         "See README file for more information. (tightbind's pytesseract "
                         "runs no program: leave tesseract_cmd at its default to need none.)")


def _check_command(*, not_found_only: bool = False) -> None:
    """Fail where pytesseract fails to start ``tesseract_cmd``, though nothing is started.

    The default needs no program at all.  A ``tesseract_cmd`` the caller set is honoured
    as far as pytesseract's behaviour goes: a program that cannot be found raises
    TesseractNotFoundError, one that exists but cannot be run the OSError of running it
    (PermissionError, or TesseractNotFoundError with ``not_found_only``, as pytesseract's
    version and language queries raise); a program that can be run is accepted and not
    run."""
    command = tesseract_cmd
    if command == _DEFAULT_COMMAND or shutil.which(command) is not None:
        return
    if os.path.dirname(command):
        candidates = [command]
    else:  # searched on PATH, as execvp searches it
        candidates = [os.path.join(folder or os.curdir, command)
                      for folder in os.environ.get("PATH", os.defpath).split(os.pathsep)]
    if not not_found_only and any(os.path.exists(candidate) for candidate in candidates):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), command)
    raise TesseractNotFoundError()


class TSVNotSupported(EnvironmentError):
    def __init__(self) -> None:
        super().__init__("TSV output not supported. Tesseract >= 3.05 required")


class ALTONotSupported(EnvironmentError):
    def __init__(self) -> None:
        super().__init__("ALTO output not supported. Tesseract >= 4.1.0 required")


# ---- the image, as pytesseract saves it ------------------------------------------------


def prepare(image: Any) -> tuple[Any, str]:
    """The Pillow image pytesseract saves for ``image`` (a Pillow image or a numpy
    array) and its format name, alpha flattened on white; TypeError for anything else
    or a format the command cannot read."""
    from PIL import Image

    try:
        from numpy import ndarray
    except ModuleNotFoundError:  # pragma: no cover - numpy comes with Pillow users
        ndarray = ()  # type: ignore[assignment,misc]
    if isinstance(image, ndarray):
        image = Image.fromarray(image)
    if not isinstance(image, Image.Image):
        raise TypeError("Unsupported image object")
    extension = "PNG" if not image.format else image.format
    if extension not in SUPPORTED_FORMATS:
        raise TypeError("Unsupported image format/type")
    if "A" in image.getbands():
        background = Image.new(RGB_MODE, image.size, (255, 255, 255))
        background.paste(image, (0, 0), image.getchannel("A"))
        image = background
    image.format = extension
    return image, extension


def _encode(image: Any, extension: str) -> bytes:
    """The file pytesseract writes for ``image``.  PNG is written with light
    compression: the pixels Leptonica decodes are the same, only faster to make."""
    buffer = io.BytesIO()
    if extension == "PNG":
        image.save(buffer, format="PNG", compress_level=1)
    else:
        image.save(buffer, format=extension)
    return buffer.getvalue()


_folder_lock = threading.Lock()
_folder: list[str] = []
_names = itertools.count()


def _work_folder() -> str:
    """This process's private folder for the renderers' files (removed at exit)."""
    with _folder_lock:
        if not _folder:
            import atexit

            folder = tempfile.mkdtemp(prefix="tightbind-tess-")
            atexit.register(shutil.rmtree, folder, True)
            _folder.append(folder)
        return _folder[0]


# ---- the command ---------------------------------------------------------------------


def _words(lang: Any, config: Any, extension: str) -> list[str]:
    """The command's arguments after IMAGE OUTPUTBASE, as pytesseract builds them."""
    words: list[str] = []
    if lang is not None:
        words += ["-l", lang]
    if config:
        words += shlex.split(config, posix=True)
    words += [ext for ext in extension.split() if ext not in _NOT_CONFIGS]
    for word in words:
        if not isinstance(word, str):
            raise TypeError(f"expected str, bytes or os.PathLike object, not "
                            f"{type(word).__name__}")
        if "\0" in word:
            raise ValueError("embedded null byte")
    return words


def _check_timeout(timeout: Any) -> float | None:
    if not timeout:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"unsupported operand type(s) for +: 'float' and "
                        f"'{type(timeout).__name__}'")
    if timeout <= 0:
        raise RuntimeError("Tesseract process timeout")
    return float(timeout)


def _check_nice(nice: Any) -> None:
    if nice != 0 and not re.fullmatch(r"[+-]?[0-9]+", str(nice).strip()):
        raise TesseractError(125, f"nice: invalid adjustment '{nice}'")


def _run(image: Any, extension: str, lang: Any, config: Any, nice: Any, timeout: Any
         ) -> Callable[[str], bytes]:
    """Run the command's work for ``image``; a reader of its output files by extension
    (they are removed as soon as this returns, so read them with the reader at once)."""
    _check_nice(nice)
    seconds = _check_timeout(timeout)
    folder = _work_folder()
    base = os.path.join(folder, f"tess_{os.getpid()}_{next(_names)}")
    if isinstance(image, str):
        input_name = os.path.realpath(os.path.normpath(os.path.normcase(image)))
        data: bytes | None = None
    else:
        prepared, image_format = prepare(image)
        input_name = f"{base}_input{os.extsep}{image_format}"
        data = _encode(prepared, image_format)
    words = _words(lang, config, extension)
    _check_command()  # where pytesseract starts the command: image saved, arguments built
    try:
        line = parse_arguments(words)
    except CommandLineError as exc:
        raise TesseractError(1, str(exc)) from None
    try:
        if data is None:
            data = _read_input(input_name)
        elif input_name.endswith(".JPEG"):
            with open(input_name, "wb") as output:  # the PDF renderer embeds it as is
                output.write(data)
        osd = _command(line, data, input_name, base, seconds)
        outputs: dict[str, bytes] = {}
        if osd is not None:
            outputs["osd"] = osd.encode()
        for name in os.listdir(folder):
            if name.startswith(os.path.basename(base) + "."):
                with open(os.path.join(folder, name), "rb") as fh:
                    outputs[name.rsplit(".", 1)[1]] = fh.read()
    finally:
        for name in os.listdir(folder):
            if name.startswith(os.path.basename(base)):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(folder, name))

    def read(ext: str) -> bytes:
        if ext not in outputs:
            raise FileNotFoundError(2, "No such file or directory", f"{base}.{ext}")
        return outputs[ext]

    return read


def _read_input(path: str) -> bytes:
    try:
        return read_regular_file(path)
    except OSError as exc:
        raise TesseractError(1, f"Error, cannot read input file {path}: {exc.strerror} "
                                "Error during processing.") from None


def _command(line: CommandLine, data: bytes, input_name: str, base: str,
             seconds: float | None) -> str | None:
    """decode_input and run_command, with their errors as pytesseract raises them."""
    try:
        pages = decode_input(data, input_name)
        return run_command(line, pages, input_name, base, timeout=seconds)
    except RecognitionTimeout:
        raise RuntimeError("Tesseract process timeout") from None
    except CommandFailed as exc:
        raise TesseractError(exc.status, str(exc)) from None
    except LanguageNotFound as exc:
        raise TesseractError(1, f"{exc} Could not initialize tesseract.") from None
    except OcrError as exc:
        raise TesseractError(1, f"{exc} Error during processing.") from None


def _decode(data: bytes, return_bytes: bool) -> Any:
    return data if return_bytes else data.decode(DEFAULT_ENCODING)


# ---- the public API ------------------------------------------------------------------


def run_and_get_output(image: Any, extension: str = "", lang: str | None = None,
                       config: str = "", nice: int = 0, timeout: float = 0,
                       return_bytes: bool = False) -> Any:
    """The command's ``<extension>`` output for ``image`` (str, or bytes)."""
    return _decode(_run(image, extension, lang, config, nice, timeout)(extension),
                   return_bytes)


def run_and_get_multiple_output(image: Any, extensions: list[str], lang: str | None = None,
                                nice: int = 0, timeout: float = 0,
                                return_bytes: bool = False) -> list[Any]:
    """Several outputs from one recognition (pdf and hocr always as bytes)."""
    config = " ".join(EXTENTION_TO_CONFIG.get(ext, "") for ext in extensions).strip()
    config = f"-c {config}" if config else ""
    read = _run(image, " ".join(extensions), lang, config, nice, timeout)
    return [_decode(read(ext), True if ext in {"pdf", "hocr"} else return_bytes)
            for ext in extensions]


def image_to_string(image: Any, lang: str | None = None, config: str = "", nice: int = 0,
                    output_type: str = Output.STRING, timeout: float = 0) -> Any:
    """The recognised text, as the ``tesseract`` command writes it."""
    args = [image, "txt", lang, config, nice, timeout]
    return {
        Output.BYTES: lambda: run_and_get_output(*([*args, True])),
        Output.DICT: lambda: {"text": run_and_get_output(*args)},
        Output.STRING: lambda: run_and_get_output(*args),
    }[output_type]()


def image_to_pdf_or_hocr(image: Any, lang: str | None = None, config: str = "",
                         nice: int = 0, extension: str = "pdf", timeout: float = 0) -> bytes:
    """A searchable PDF or hOCR of the image, as bytes."""
    if extension not in {"pdf", "hocr"}:
        raise ValueError(f"Unsupported extension: {extension}")
    if extension == "hocr":
        config = f"-c tessedit_create_hocr=1 {config.strip()}"
    return run_and_get_output(image, extension, lang, config, nice, timeout, True)


def image_to_alto_xml(image: Any, lang: str | None = None, config: str = "",
                      nice: int = 0, timeout: float = 0) -> bytes:
    """ALTO XML of the image, as bytes."""
    config = f"-c tessedit_create_alto=1 {config.strip()}"
    return run_and_get_output(image, "xml", lang, config, nice, timeout, True)


def image_to_boxes(image: Any, lang: str | None = None, config: str = "", nice: int = 0,
                   output_type: str = Output.STRING, timeout: float = 0) -> Any:
    """Each recognised character with its box (bottom-left origin)."""
    config = f"{config.strip()} -c tessedit_create_boxfile=1 batch.nochop makebox"
    args = [image, "box", lang, config, nice, timeout]
    return {
        Output.BYTES: lambda: run_and_get_output(*([*args, True])),
        Output.DICT: lambda: file_to_dict(
            f"char left bottom right top page\n{run_and_get_output(*args)}", " ", 0),
        Output.STRING: lambda: run_and_get_output(*args),
    }[output_type]()


def get_pandas_output(args: list[Any], config: Any = None) -> Any:
    """Tesseract's TSV as a pandas DataFrame (PandasNotSupported without pandas)."""
    try:
        import pandas as pd
    except ImportError:
        raise PandasNotSupported() from None
    kwargs = {"quoting": QUOTE_NONE, "sep": "\t"}
    with contextlib.suppress(TypeError, ValueError):
        kwargs.update(config)
    return pd.read_csv(io.BytesIO(run_and_get_output(*args)), **kwargs)


def image_to_data(image: Any, lang: str | None = None, config: str = "", nice: int = 0,
                  output_type: str = Output.STRING, timeout: float = 0,
                  pandas_config: dict[str, Any] | None = None) -> Any:
    """Tesseract's TSV: every block, paragraph, line and word with box and confidence."""
    config = f"-c tessedit_create_tsv=1 {config.strip()}"
    args = [image, "tsv", lang, config, nice, timeout]
    return {
        Output.BYTES: lambda: run_and_get_output(*([*args, True])),
        Output.DATAFRAME: lambda: get_pandas_output([*args, True], pandas_config),
        Output.DICT: lambda: file_to_dict(run_and_get_output(*args), "\t", -1),
        Output.STRING: lambda: run_and_get_output(*args),
    }[output_type]()


def image_to_osd(image: Any, lang: str = "osd", config: str = "", nice: int = 0,
                 output_type: str = Output.STRING, timeout: float = 0) -> Any:
    """Orientation and script detection (page segmentation mode 0)."""
    config = f"--psm 0 {config.strip()}"
    args = [image, "osd", lang, config, nice, timeout]
    return {
        Output.BYTES: lambda: run_and_get_output(*([*args, True])),
        Output.DICT: lambda: osd_to_dict(run_and_get_output(*args)),
        Output.STRING: lambda: run_and_get_output(*args),
    }[output_type]()


def file_to_dict(tsv: str, cell_delimiter: str, str_col_idx: int) -> dict[str, list[Any]]:
    """Rows of delimited text as columns; numbers as int except column ``str_col_idx``."""
    result: dict[str, list[Any]] = {}
    rows = [row.split(cell_delimiter) for row in tsv.strip().split("\n")]
    if len(rows) < 2:
        return result
    header = rows.pop(0)
    length = len(header)
    if len(rows[-1]) < length:
        rows[-1].append("")  # the last row's empty text cell
    if str_col_idx < 0:
        str_col_idx += length
    for index, head in enumerate(header):
        column: list[Any] = []
        for row in rows:
            if len(row) <= index:
                continue
            value: Any = row[index]
            if index != str_col_idx:
                with contextlib.suppress(ValueError):
                    value = int(float(value))
            column.append(value)
        result[head] = column
    return result


def is_valid(value: str, kind: type) -> bool:
    """Whether ``value`` reads as ``kind`` (int: digits only; float; str: always)."""
    if kind is int:
        return value.isdigit()
    if kind is float:
        try:
            float(value)
        except ValueError:
            return False
    return True


def osd_to_dict(osd: str) -> dict[str, Any]:
    """The OSD report's fields by pytesseract's names (page_num, orientation, ...)."""
    return {OSD_KEYS[pair[0]][0]: OSD_KEYS[pair[0]][1](pair[1])  # type: ignore[operator]
            for pair in (line.split(": ") for line in osd.split("\n"))
            if len(pair) == 2 and pair[0] in OSD_KEYS
            and is_valid(pair[1], OSD_KEYS[pair[0]][1])}  # type: ignore[arg-type]


_Function = TypeVar("_Function", bound=Callable[..., Any])


def run_once(function: _Function) -> _Function:
    """pytesseract's memo: ``cached=True`` returns the last result instead of asking
    again; the undecorated function is ``__wrapped__``."""
    missing = object()
    last: list[Any] = [missing]

    @functools.wraps(function)
    def wrapper(*args: Any, cached: bool = False, **kwargs: Any) -> Any:
        if not cached or last[0] is missing:
            last[0] = function(*args, **kwargs)
        return last[0]

    return wrapper  # type: ignore[return-value]


def get_errors(error_string: bytes) -> str:
    """The command's stderr as one line (its lines joined by spaces)."""
    return " ".join(error_string.decode(DEFAULT_ENCODING).splitlines()).strip()


def cleanup(temp_name: str) -> None:
    """Remove the files whose names start with ``temp_name`` (missing ones are fine)."""
    for name in glob.iglob(f"{temp_name}*" if temp_name else temp_name):
        try:
            os.remove(name)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise


@run_once
def get_languages(config: str = "") -> list[str]:
    """The languages ``tesseract --list-langs CONFIG`` lists: those of the data path in
    ``config`` (``--tessdata-dir``) if any; without one, every language reachable (see
    :func:`tightbind.ocr.tessdata.list_languages`).  As for the command, words it does
    not know are taken for file names, and an option it refuses lists nothing."""
    _check_command(not_found_only=True)
    words = shlex.split(config) if config else []
    data_path = image = outputbase = None
    index = 0
    # The command's ParseArgs: a word that is no option is the image, the word after
    # the image the output base (whatever it is), and after both the first word that
    # is no option ends the options.
    while index < len(words) and (outputbase is None or words[index].startswith("-")):
        word = words[index]
        if image is not None and outputbase is None:
            outputbase = word
        elif word in _VALUE_OPTIONS and index + 1 < len(words):
            try:
                parsed = parse_arguments(words[index:index + 2])
            except CommandLineError:
                return []  # the command exits 1 with its complaint and no list
            data_path = parsed.data_path if word == "--tessdata-dir" else data_path
            index += 1
        elif image is None:
            image = word
        index += 1
    return [lang for lang in list_languages(data_path) if LANG_PATTERN.match(lang)]


@run_once
def get_tesseract_version() -> Any:
    """The loaded Tesseract's version as a ``packaging.version.Version``."""
    from packaging.version import Version

    from tightbind.ocr.api import TessApi

    _check_command(not_found_only=True)
    raw = TessApi.version()
    text = raw.lstrip(string.printable[10:]).partition(" ")[0].partition("-")[0]
    return Version(text)


def main() -> int | None:
    """``python -m tightbind.ocr.pytesseract [-l LANG] IMAGE``: print the text, as
    ``pytesseract [-l LANG] IMAGE`` does; None once printed, 2 for a wrong command line,
    1 for an image that cannot be read or recognised."""
    from PIL import Image

    if len(sys.argv) == 2:
        filename, lang = sys.argv[1], None
    elif len(sys.argv) == 4 and sys.argv[1] == "-l":
        filename, lang = sys.argv[3], sys.argv[2]
    else:
        print("Usage: pytesseract [-l lang] input_file\n", file=sys.stderr)
        return 2
    try:
        with Image.open(filename) as img:
            print(image_to_string(img, lang=lang))
    except (OSError, TesseractError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return None


#: ``pytesseract.pytesseract``: code written as ``pytesseract.pytesseract.tesseract_cmd
#: = ...`` reaches this module the same way.
pytesseract = sys.modules[__name__]


def __getattr__(name: str) -> Any:
    if name == "pandas_installed":  # looked up when read, so a test can hide pandas
        return importlib.util.find_spec("pandas") is not None
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover - exercised through a child process
    raise SystemExit(main())
