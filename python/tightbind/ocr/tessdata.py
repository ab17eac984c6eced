"""Where Tesseract's models (``<lang>.traineddata``) come from, and what a folder holds."""

from __future__ import annotations

import os
from collections.abc import Sequence

__all__ = ["BUNDLED_TESSDATA", "default_data_path", "languages_in"]

#: Models a self-contained wheel carries (scripts/build-wheels copies eng and osd here).
BUNDLED_TESSDATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tessdata")


def default_data_path(languages: Sequence[str]) -> str | None:
    """The tessdata folder a ``TessApi`` with ``data_path=None`` uses.

    None (Tesseract's own choice: ``TESSDATA_PREFIX``, else its compiled-in folder) when
    ``TESSDATA_PREFIX`` is set or the wheel's bundled folder lacks one of ``languages``;
    otherwise the bundled folder, so a wheel works with no system models installed.
    """
    if os.environ.get("TESSDATA_PREFIX"):
        return None
    if all(os.path.isfile(os.path.join(BUNDLED_TESSDATA, f"{lang}.traineddata"))
           for lang in languages):
        return BUNDLED_TESSDATA
    return None


def languages_in(folder: str) -> list[str]:
    """The models in ``folder``, as language names ("eng", "script/Latin"), sorted; an
    empty list when the folder does not exist or cannot be read."""
    found = []
    for parent, _dirs, files in os.walk(folder):
        for name in files:
            if name.endswith(".traineddata"):
                relative = os.path.relpath(os.path.join(parent, name), folder)
                found.append(relative[: -len(".traineddata")].replace(os.sep, "/"))
    return sorted(found)


def searched_folders(searched: str, *, chosen_by_tesseract: bool) -> dict[str, list[str]]:
    """Every folder a failed language load could have used, with the models each holds.

    ``searched`` is the folder Tesseract looked in.  When Tesseract chose it (no
    ``data_path`` was given), the wheel's bundled folder is listed too: it is used only
    when it holds every language asked for, so a user sees where ``eng`` did load from.
    """
    folders = {searched: languages_in(searched)}
    if chosen_by_tesseract and os.path.isdir(BUNDLED_TESSDATA) \
            and os.path.realpath(BUNDLED_TESSDATA) != os.path.realpath(searched):
        folders[BUNDLED_TESSDATA] = languages_in(BUNDLED_TESSDATA)
    return folders
