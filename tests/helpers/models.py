"""Checks on what tightbind says about Tesseract models."""

from __future__ import annotations

import re
from pathlib import Path


def names_a_folder_holding(language: str, message: str, *, hidden: Path) -> bool:
    """Whether ``message`` says ``language`` "is installed in" a folder that holds its
    model and is not the ``hidden`` one: the system's folder in the tree's runs, the
    wheel's bundled models in the runs against the installed wheel."""
    match = re.search(rf"'{re.escape(language)}' is installed in (\S+) but ", message)
    if not match:
        return False
    folder = Path(match[1])
    return folder != hidden and (folder / f"{language}.traineddata").is_file()
