"""tightbind.ocr.tessdata: where models come from, and what a failed load explains."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    assert "'xyz'" in message and error.paths[0] in message and "eng, osd" in message


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
