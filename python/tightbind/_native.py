"""Load the compiled cffi modules with an error that says how to get a missing one."""

from __future__ import annotations

import importlib
from types import ModuleType

# What a Debian user installs before reinstalling tightbind, per native area.
_SYSTEM_PACKAGES = {
    "frame": "a C compiler (build-essential) and the Python headers (python3-dev)",
    "ocr": "libtesseract-dev libleptonica-dev libjpeg-dev pkg-config "
    "(and tesseract-ocr-eng for the English model)",
    "tls": "libssl-dev pkg-config",
}


def load(area: str) -> ModuleType:
    """Import ``tightbind._<area>`` or raise ImportError naming what to install."""
    try:
        return importlib.import_module(f"tightbind._{area}")
    except ImportError as exc:
        raise ImportError(
            f"tightbind._{area} is not available: it was not compiled when tightbind was "
            f"installed, or its system libraries are gone ({exc}). Install "
            f"{_SYSTEM_PACKAGES[area]}, then reinstall tightbind "
            "(pip install --force-reinstall --no-binary tightbind tightbind)."
        ) from exc


def available(area: str) -> bool:
    """True when ``tightbind._<area>`` imports."""
    try:
        load(area)
    except ImportError:
        return False
    return True
