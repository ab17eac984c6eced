"""``tightbind models``: every language reachable and the folder it comes from; the OCR
command's advice for a missing language names its own option."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers.models import names_a_folder_holding

from tightbind.ocr.tessdata import language_sources

SYSTEM = Path("/usr/share/tesseract-ocr/5/tessdata")


def test_lists_every_language_with_its_folder(run_cli):
    result = run_cli("models")
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()}
    assert listed == {lang: folder.path for lang, folder in language_sources().items()}
    assert "eng" in listed
    report = json.loads(run_cli("models", "--json").stdout)
    assert report["languages"]["eng"]["folder"] == listed["eng"]


def test_tessdata_limits_the_languages(run_cli, tmp_path):
    if not (SYSTEM / "deu.traineddata").exists():
        pytest.skip("Debian's tesseract-ocr-deu is not installed")
    shutil.copy(SYSTEM / "deu.traineddata", tmp_path)
    result = run_cli("models", "--tessdata", str(tmp_path), "--all")
    assert result.returncode == 0
    first, _, rest = result.stdout.partition("\n\n")
    assert first.split() == ["deu", str(tmp_path), "(data_path)"]
    assert f"{SYSTEM} (system): " in rest
    empty = run_cli("models", "--tessdata", str(tmp_path / "none"))
    assert empty.returncode == 1 and "--tessdata" in empty.stderr


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_hidden_language_is_named_not_reinstalled(run_cli, tmp_path, how):
    """A folder holding only deu hides the installed eng: the advice says so (and speaks
    of --tessdata, the command's option), instead of installing eng again."""
    if not (SYSTEM / "deu.traineddata").exists():
        pytest.skip("Debian's tesseract-ocr-deu is not installed")
    shutil.copy(SYSTEM / "deu.traineddata", tmp_path)
    page = tmp_path / "page.png"
    from PIL import Image

    Image.new("L", (40, 20), 255).save(page)
    args = ["ocr", "--lang", "deu+eng", str(page)]
    if how == "option":
        result = run_cli(*args[:1], "--tessdata", str(tmp_path), *args[1:])
    else:
        result = run_cli(*args, env={"TESSDATA_PREFIX": str(tmp_path)})
    assert result.returncode != 0
    assert names_a_folder_holding("eng", result.stderr, hidden=tmp_path)
    assert "apt-get install" not in result.stderr and "data_path=" not in result.stderr
    hider = f"--tessdata {tmp_path}" if how == "option" else f"TESSDATA_PREFIX={tmp_path}"
    assert f"{hider} hides it" in result.stderr


def test_a_missing_language_names_its_package(run_cli, tmp_path):
    page = tmp_path / "page.png"
    from PIL import Image

    Image.new("L", (40, 20), 255).save(page)
    result = run_cli("ocr", "--lang", "xyz_vert", str(page))
    assert "apt-get install tesseract-ocr-xyz-vert" in result.stderr
    assert "--tessdata" in result.stderr and "data_path=" not in result.stderr
