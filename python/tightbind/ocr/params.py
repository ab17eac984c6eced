"""Tesseract parameters ("variables"): checked, bounded, and kept per engine.

Three things the bare C API gets wrong, fixed here for :class:`TessApi`:

* **Kinds.**  Tesseract silently ignores a value it cannot parse (``tessedit_pageseg_mode
  = "abc"`` "succeeds").  Every value is checked against its parameter's kind (int,
  bool, double or string) and range first, and a :class:`VariableError` says why.
* **Limits.**  Some strings reach recursive native code: Tesseract encodes the
  character-set variables (``tessedit_char_whitelist``, ``..._blacklist``,
  ``..._unblacklist``) and every user word one stack frame per character, and 48,000
  characters overflow the stack.  They are capped at :data:`MAX_CHARSET_LENGTH`
  characters (user word and pattern files are read and checked line by line); every
  other string at :data:`MAX_STRING_LENGTH` bytes.
* **Process-global parameters.**  About 200 parameters (``debug_file``, most
  ``textord_*`` and ``classify_*`` ones, found at run time) live once per process, so one
  engine setting them would change every engine.  An engine keeps its own values for them
  and applies them only while it runs, holding the :data:`GATE` exclusively (engines
  without such settings share it, so they still run in parallel), and puts the process
  defaults back afterwards.

Tesseract's diagnostics (``tprintf``) go to one process-wide file, whose name its global
``debug_file`` holds and which it opens once.  tightbind points it at a private unlinked
temporary file and drains it after every engine call: into the ``tightbind.ocr`` logger
(at DEBUG) by default, or, for an engine given its own ``debug_file``, appended to that
file (``""``: stderr, as in Tesseract).  Nothing reaches stderr unless asked for.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import math
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tightbind.ocr._native import ffi, lib
from tightbind.ocr.errors import VariableError

__all__ = ["GATE", "MAX_CHARSET_LENGTH", "MAX_LANGUAGES", "MAX_STRING_LENGTH", "Kind",
           "Param", "catalogue", "check_languages", "check_value", "check_variable",
           "check_word", "is_init_only", "read_value"]

log = logging.getLogger("tightbind.ocr")

#: Most characters a character-set variable (or a user word) may hold: Tesseract encodes
#: them recursively, one stack frame (about 200 bytes) per character, so this keeps the
#: depth near 1 MB, safe on any thread.
MAX_CHARSET_LENGTH = 4096
#: Most bytes any other string variable may hold (paths, separators, names).
MAX_STRING_LENGTH = 4096

#: Variables Tesseract encodes one recursion level per character.
CHARSET_VARIABLES = frozenset({"tessedit_char_whitelist", "tessedit_char_blacklist",
                               "tessedit_char_unblacklist"})
#: Variables naming files of words or patterns that Tesseract encodes line by line.
WORD_FILE_VARIABLES = frozenset({"user_words_file", "user_patterns_file"})

#: Most languages one engine loads ("eng+deu+..."); each is a model of its own.
MAX_LANGUAGES = 16

# A language is a model name ("eng", "chi_sim") or a script model ("script/Latin"): no
# absolute paths or "..", so a language string cannot point Tesseract at other files.
_LANGUAGE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}(/[A-Za-z0-9_][A-Za-z0-9_.-]{0,63})?")
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_TRUE = frozenset({"1", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "f", "false", "n", "no"})


class Kind(enum.Enum):
    INT = "an integer"
    BOOL = "a boolean"
    DOUBLE = "a number"
    STRING = "a string"


@dataclass(frozen=True)
class Param:
    """One Tesseract parameter: its kind and whether it lives once per process."""

    name: str
    kind: Kind
    process_global: bool


# ---- the catalogue of parameters ---------------------------------------------------------

_catalogue: dict[str, Param] | None = None
_catalogue_lock = threading.Lock()
# A scratch engine (no model) kept to set and restore process-global parameters, and
# their values before any engine overrode them.
_params_handle: Any = None
_process_defaults: dict[str, bytes] = {}


def _read_kind(handle: Any, name: bytes) -> tuple[Kind, bytes]:
    number = ffi.new("int *")
    real = ffi.new("double *")
    if lib.TessBaseAPIGetIntVariable(handle, name, number):
        return Kind.INT, str(number[0]).encode()
    if lib.TessBaseAPIGetBoolVariable(handle, name, number):
        return Kind.BOOL, b"1" if number[0] else b"0"
    if lib.TessBaseAPIGetDoubleVariable(handle, name, real):
        return Kind.DOUBLE, repr(real[0]).encode()
    text = lib.TessBaseAPIGetStringVariable(handle, name)
    return Kind.STRING, b"" if text == ffi.NULL else ffi.string(text)


def read_value(handle: Any, name: bytes) -> bytes:
    """The value of parameter ``name`` on the engine ``handle``, as Tesseract prints it."""
    return _read_kind(handle, name)[1]


def _other_value(kind: Kind, value: bytes) -> bytes:
    if kind is Kind.INT:
        return str(int(value) + 1 if int(value) < 2**31 - 2 else int(value) - 1).encode()
    if kind is Kind.BOOL:
        return b"0" if value == b"1" else b"1"
    if kind is Kind.DOUBLE:
        return repr(float(value) + 1.0).encode()
    return value + b"~"


def catalogue() -> Mapping[str, Param]:
    """Every Tesseract parameter by name, with its kind and whether it is process-global.

    Found once per process with two scratch engines (no model loaded): each parameter is
    changed on one and read on the other, then put back.  The first call also points
    Tesseract's diagnostics at the private file (see the module's docstring); it must
    happen before any engine runs, which :class:`TessApi`'s constructor ensures.
    """
    global _catalogue, _params_handle
    with _catalogue_lock:
        if _catalogue is not None:
            return _catalogue
        first = ffi.gc(lib.TessBaseAPICreate(), lib.TessBaseAPIDelete)
        second = ffi.gc(lib.TessBaseAPICreate(), lib.TessBaseAPIDelete)
        if first == ffi.NULL or second == ffi.NULL:
            raise MemoryError("cannot create a Tesseract engine")
        sink = DIAGNOSTICS.path.encode()
        # Setting a variable creates the engine's parameters; debug_file is global.
        lib.TessBaseAPISetVariable(first, b"debug_file", sink)
        lib.TessBaseAPISetVariable(second, b"debug_file", sink)
        with tempfile.TemporaryDirectory(prefix="tightbind-") as folder:
            listing = os.path.join(folder, "params.txt")
            lib.TessBaseAPIPrintVariablesToFile(first, listing.encode())
            with open(listing, encoding="utf-8", errors="replace") as fh:
                names = [line.split("\t", 1)[0] for line in fh if "\t" in line]
        found = {}
        for name in names:
            key = name.encode()
            kind, value = _read_kind(first, key)
            before = _read_kind(second, key)[1]
            changed = False
            if name != "debug_file" and lib.TessBaseAPISetVariable(
                    first, key, _other_value(kind, value)):
                changed = _read_kind(second, key)[1] != before
                lib.TessBaseAPISetVariable(first, key, value)
            found[name] = Param(name, kind, changed or name == "debug_file")
            if changed:
                _process_defaults[name] = value
        ffi.release(second)
        _params_handle = first
        DIAGNOSTICS.drain(None)
        _catalogue = found
        return found


_init_only: dict[str, bool] = {}


def is_init_only(name: str) -> bool:
    """True when Tesseract takes parameter ``name`` only at initialisation (its
    SetVariable refuses it afterwards), as ``load_system_dawg`` or ``user_words_file``;
    False for others and for unknown names."""
    if name not in catalogue():
        return False
    with _catalogue_lock:
        if name not in _init_only:
            key = name.encode()
            _kind, value = _read_kind(_params_handle, key)
            # Setting the value it already has changes nothing, even for a global one.
            _init_only[name] = not lib.TessBaseAPISetVariable(_params_handle, key, value)
        return _init_only[name]


# ---- values --------------------------------------------------------------------------------


def check_variable(name: str, value: object) -> tuple[Param, bytes]:
    """The parameter called ``name`` and ``value`` as the text Tesseract parses for it;
    VariableError for an unknown name or a value that does not fit (see
    :func:`check_value`)."""
    if not isinstance(name, str) or "\0" in name:
        raise VariableError(f"a variable name must be a str without NUL: {name!r}")
    param = catalogue().get(name)
    if param is None:
        raise VariableError(f"Tesseract has no variable {name!r}")
    return param, check_value(param, value)


def check_value(param: Param, value: object) -> bytes:
    """``value`` as the text Tesseract parses for ``param``, or VariableError saying why
    it does not fit the parameter's kind, range or length."""
    name = param.name
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    wrong = VariableError(f"variable {name!r} takes {param.kind.value}, not {value!r}")
    if param.kind is Kind.STRING:
        if not isinstance(value, str):
            raise wrong
        return _check_string(name, value)
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, (int, float)):
        text = None
    else:
        raise wrong
    if param.kind is Kind.BOOL:
        if text is not None:
            if text.lower() not in _TRUE | _FALSE:
                raise wrong
            return b"1" if text.lower() in _TRUE else b"0"
        if value not in (0, 1) or isinstance(value, float):
            raise wrong
        return b"1" if value else b"0"
    if param.kind is Kind.INT:
        if text is not None:
            if not _INT_TEXT.fullmatch(text):
                raise wrong
            number = int(text)
        elif isinstance(value, float):
            raise wrong
        else:
            number = int(value)  # type: ignore[call-overload]
        # INT_MIN is what Tesseract's parser leaves for "no number".
        if not -(2**31) < number < 2**31:
            raise VariableError(f"variable {name!r} takes a 32-bit integer, not {number}")
        return _check_range(name, number)
    if text is not None:
        try:
            real = float(text)
        except ValueError:
            raise wrong from None
    elif isinstance(value, bool):
        raise wrong
    else:
        real = float(value)  # type: ignore[arg-type]
    if not math.isfinite(real):
        raise VariableError(f"variable {name!r} takes a finite number, not {value!r}")
    return repr(real).encode()


def _check_range(name: str, number: int) -> bytes:
    from tightbind.ocr.constants import OEM, PSM

    for enum_name, members in (("tessedit_pageseg_mode", PSM), ("tessedit_ocr_engine_mode",
                                                                 OEM)):
        if name == enum_name and number not in {int(member) for member in members}:
            raise VariableError(f"variable {name!r} takes one of "
                                f"{sorted(int(m) for m in members)}, not {number}")
    return str(number).encode()


def _check_string(name: str, value: str) -> bytes:
    if "\0" in value:
        raise VariableError(f"variable {name!r} contains a NUL character")
    if name in CHARSET_VARIABLES and len(value) > MAX_CHARSET_LENGTH:
        raise VariableError(
            f"variable {name!r} holds {len(value)} characters; at most MAX_CHARSET_LENGTH "
            f"({MAX_CHARSET_LENGTH}) are allowed (Tesseract encodes it recursively, one "
            "stack frame per character)")
    encoded = value.encode()
    if name not in CHARSET_VARIABLES and len(encoded) > MAX_STRING_LENGTH:
        raise VariableError(f"variable {name!r} holds {len(encoded)} bytes; at most "
                            f"MAX_STRING_LENGTH ({MAX_STRING_LENGTH}) are allowed")
    if name in WORD_FILE_VARIABLES and value:
        _check_word_file(name, value)
    if name == "tessedit_load_sublangs" and value.strip():
        try:
            check_languages(value.strip(), name)
        except ValueError as exc:
            raise VariableError(str(exc)) from None
    return encoded


def _check_word_file(name: str, path: str) -> None:
    """Every line of a user words or patterns file within MAX_CHARSET_LENGTH characters
    (Tesseract encodes each recursively when it loads the file)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if len(line.rstrip("\r\n")) > MAX_CHARSET_LENGTH:
                    raise VariableError(
                        f"variable {name!r}: line {number} of {path!r} is longer than "
                        f"MAX_CHARSET_LENGTH ({MAX_CHARSET_LENGTH}) characters")
    except OSError as exc:
        raise VariableError(f"variable {name!r}: cannot read {path!r} ({exc})") from None


def check_languages(language: str, what: str = "language") -> list[str]:
    """The model names of a Tesseract language string ("eng+deu"), or ValueError: at most
    MAX_LANGUAGES of them, each a plain model name (no paths, no "..")."""
    if not isinstance(language, str):
        raise TypeError(f"{what} must be a str, not {type(language).__name__}")
    languages = [part for part in language.split("+") if part]
    if not languages:
        raise ValueError(f"{what} must name at least one language, e.g. 'eng'")
    if len(languages) > MAX_LANGUAGES:
        raise ValueError(f"{what} names {len(languages)} languages; at most MAX_LANGUAGES "
                         f"({MAX_LANGUAGES}) are allowed")
    for part in languages:
        if not _LANGUAGE.fullmatch(part) or ".." in part:
            raise ValueError(f"not a Tesseract language name: {part!r}")
    return languages


def check_word(word: str) -> None:
    """ValueError when ``word`` is too long for Tesseract's recursive encoder."""
    if len(word) > MAX_CHARSET_LENGTH:
        raise ValueError(f"word of {len(word)} characters; at most MAX_CHARSET_LENGTH "
                         f"({MAX_CHARSET_LENGTH}) are allowed")


# ---- Tesseract's diagnostics ----------------------------------------------------------------


class Diagnostics:
    """The private file Tesseract writes its diagnostics to, drained after each call."""

    def __init__(self) -> None:
        # Kept open for the life of the process (Tesseract holds it open too).
        self._file = tempfile.TemporaryFile(prefix="tightbind-tesseract-")  # noqa: SIM115
        self._offset = 0
        self._lock = threading.Lock()
        #: The name Tesseract's global debug_file holds (the file, by its descriptor;
        #: without /proc, the null device, and the diagnostics are lost).
        self.path = f"/proc/self/fd/{self._file.fileno()}"
        if not os.path.exists(self.path):  # pragma: no cover (Linux has /proc)
            self.path = os.devnull

    def drain(self, target: str | None) -> None:
        """Move what Tesseract wrote since the last drain to ``target``: None logs it at
        DEBUG, "" writes it to stderr, anything else is a file to append to."""
        with self._lock:
            lib.tb_ocr_flush_diagnostics()
            chunks = []
            while True:
                chunk = os.pread(self._file.fileno(), 1 << 16, self._offset)
                if not chunk:
                    break
                chunks.append(chunk)
                self._offset += len(chunk)
            if chunks:  # free the disk space; Tesseract keeps writing at its offset
                os.ftruncate(self._file.fileno(), 0)
        text = b"".join(chunks).decode("utf-8", "replace")
        if not text:
            return
        if target is None:
            for line in text.splitlines():
                if line.strip():
                    log.debug("tesseract: %s", line.rstrip())
        elif target == "":
            sys.stderr.write(text)
        else:
            with contextlib.suppress(OSError), open(target, "a", encoding="utf-8") as fh:
                fh.write(text)


DIAGNOSTICS = Diagnostics()


# ---- the gate: process-global parameters per engine -------------------------------------


class Gate:
    """A readers-writer gate around every engine call.  Engines without process-global
    settings pass shared; one with such settings (or its own debug_file) passes alone,
    applies them, and restores the process defaults when it leaves.  Re-entrant per
    thread (an engine call that makes another passes through)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting = 0
        self._local = threading.local()

    @contextlib.contextmanager
    def passage(self, overrides: Mapping[str, bytes], debug_file: str | None
                ) -> Iterator[None]:
        if getattr(self._local, "depth", 0):
            self._local.depth += 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        alone = bool(overrides) or debug_file is not None
        with self._condition:
            if alone:
                self._waiting += 1
                self._condition.wait_for(lambda: not self._exclusive and not self._shared)
                self._waiting -= 1
                self._exclusive = True
            else:
                self._condition.wait_for(lambda: not self._exclusive and not self._waiting)
                self._shared += 1
        self._local.depth = 1
        try:
            if alone:
                DIAGNOSTICS.drain(None)  # whatever came before is not this engine's
                for name, value in overrides.items():
                    lib.TessBaseAPISetVariable(_params_handle, name.encode(), value)
            yield
        finally:
            try:
                if alone:
                    for name in overrides:
                        lib.TessBaseAPISetVariable(_params_handle, name.encode(),
                                                   _process_defaults[name])
                DIAGNOSTICS.drain(debug_file if alone else None)
            finally:
                self._local.depth = 0
                with self._condition:
                    if alone:
                        self._exclusive = False
                    else:
                        self._shared -= 1
                    self._condition.notify_all()


#: The process's one :class:`Gate`: every engine call passes it.
GATE = Gate()
