"""Load the compiled cffi modules, and turn their status codes into exceptions.

Every area's ``_native.py`` does the same two things with this module: ``load()`` its
extension (``tightbind._frame``, ``_ocr``, ``_tls``) and build its ``check(rc, what)``
from a table ``{code: (exception class, sentence)}`` with :func:`checker`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

# What a Debian user installs before reinstalling tightbind, per native area.
_SYSTEM_PACKAGES = {
    "frame": "a C compiler (build-essential) and the Python headers (python3-dev)",
    "ocr": "libtesseract-dev libleptonica-dev libjpeg-dev zlib1g-dev pkg-config "
    "(and tesseract-ocr-eng for the English model)",
    "tls": "libssl-dev pkg-config",
}

Sentence = str | Callable[[], str]
"""A failure's sentence, or a function that writes it when the failure happens."""
Failures = Mapping[int, tuple[type[BaseException], Sentence]]


def load(area: str, *, default_env: Mapping[str, str] | None = None) -> ModuleType:
    """Import ``tightbind._<area>`` or raise ImportError naming what to install.

    ``default_env`` holds environment variables to set while the extension (and the
    libraries it links) load, for those the user has not set; they are removed again
    afterwards, so child processes keep their own defaults.
    """
    added = [name for name in (default_env or {}) if name not in os.environ]
    for name in added:
        os.environ[name] = default_env[name]  # type: ignore[index]
    try:
        return importlib.import_module(f"tightbind._{area}")
    except ImportError as exc:
        raise ImportError(
            f"tightbind._{area} is not available: it was not compiled when tightbind was "
            f"installed, or its system libraries are gone ({exc}). Install "
            f"{_SYSTEM_PACKAGES[area]}, then reinstall tightbind "
            "(pip install --force-reinstall --no-binary tightbind tightbind)."
        ) from exc
    finally:
        for name in added:
            os.environ.pop(name, None)


def available(area: str) -> bool:
    """True when ``tightbind._<area>`` imports."""
    try:
        load(area)
    except ImportError:
        return False
    return True


def checker(failures: Failures, *, unexpected: type[BaseException],
            details: Callable[[], tuple[Any, ...]] = tuple) -> Callable[..., int]:
    """Return the area's ``check(rc, what, sentence=None)``.

    ``check`` returns ``rc`` when it is not negative (TB_OK or a status such as
    "arrays full"); otherwise it raises ``cls(f"{what}: {sentence}", *details())`` from
    ``failures[rc]``.  ``details`` adds constructor arguments every exception of the area
    takes (TLS passes OpenSSL's drained error queue).  A code missing from the table is a
    tightbind bug; it raises ``unexpected`` saying so rather than a bare number.
    ``sentence`` replaces the table's where the caller knows the case better.
    """

    def check(rc: int, what: str, sentence: str | None = None) -> int:
        if rc >= 0:
            return rc
        extra = details()
        try:
            cls, table_sentence = failures[rc]
        except KeyError:
            raise unexpected(f"{what}: the native code returned status {rc}, which "
                             "tightbind does not know (please report this bug)",
                             *extra) from None
        if sentence is None:
            sentence = table_sentence() if callable(table_sentence) else table_sentence
        raise cls(f"{what}: {sentence}", *extra)

    return check
