"""The seams TessApi offers tightbind's own modules (documents, the tesseract command,
worker processes, the tesserocr face), and the rule that they are the only way in:
no module outside ``ocr/api.py`` touches a TessApi private."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
from helpers.pages import render

import tightbind
from tightbind.ocr import NoImage, NotRecognized, TessApi, to_pix
from tightbind.ocr._native import ffi, lib

PACKAGE = Path(tightbind.__file__).parent
API = PACKAGE / "ocr" / "api.py"


def _private_names() -> set[str]:
    """Every ``_name`` TessApi defines or sets on ``self`` (dunders aside)."""
    tree = ast.parse(API.read_text())
    [cls] = [node for node in tree.body
             if isinstance(node, ast.ClassDef) and node.name == "TessApi"]
    names = set()
    for node in ast.walk(cls):
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == "self":
            names.add(node.attr)
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def test_no_module_outside_api_touches_tessapi_privates():
    names = _private_names()
    assert {"_handle", "_call", "_image", "_recognize", "_run_recognition"} <= names
    found = []
    # tightbind and the compatibility packages shipped beside it
    paths = [path for top in ("tightbind", "tightocr", "protobufp")
             for path in sorted((PACKAGE.parent / top).rglob("*.py"))]
    assert len(paths) > 80
    for path in paths:
        if path == API:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            # obj._name on anything but the module's own self/cls (another object's
            # private of a TessApi name is flagged too: rename it or use a seam)
            if isinstance(node, ast.Attribute) and node.attr in names and not (
                    isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: "
                             f"{ast.unparse(node)}")
    assert not found, "TessApi privates used outside api.py:\n" + "\n".join(found)


@pytest.mark.parametrize("module", ["isolation", "pages", "workers", "api", "documents"])
def test_page_code_does_not_import_the_batch_runner(module):
    """The page-result type sits below the batch code: no run-time circle back to it."""
    tree = ast.parse((PACKAGE / "ocr" / f"{module}.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
    assert "tightbind.ocr.batch" not in imported


@pytest.fixture()
def page():
    image, _ = render(["Seams hold the engine"])
    return image


def test_native_gives_the_live_handle_under_the_lock(api, page):
    api.set_image(page)
    with api.native() as handle:
        assert handle is api.native_handle
        assert api.lock._is_owned()
        assert lib.TessBaseAPIGetThresholdedImageScaleFactor(handle) >= 0
    assert api.image is not None  # kept


def test_native_keeps_image_false_forgets_image_and_result(api, page):
    api.set_image(page)
    api.recognize()
    assert "Seams" in api.get_utf8_text()
    with api.native(keeps_image=False):
        pass
    assert api.image is None
    with pytest.raises(NoImage):
        api.recognize()


def test_native_keeps_result_false_forgets_the_result_only(api, page):
    api.set_image(page)
    api.recognize()
    with api.native(keeps_result=False):
        pass
    assert api.image is not None
    with pytest.raises(NotRecognized):
        api.get_utf8_text()


def test_image_and_image_size_follow_set_rectangle(page):
    with TessApi() as engine:
        assert engine.image is None
        with pytest.raises(NoImage):
            engine.image_size  # noqa: B018
        engine.set_image(page)
        whole = engine.image
        assert engine.image_size == (whole.width, whole.height)
        engine.set_rectangle(0, 0, 100, 50)
        assert (engine.image.width, engine.image.height) == (100, 50)
        assert engine.image_size == (whole.width, whole.height)


def test_recognize_native_recognises_the_image_the_caller_set(api, page):
    pix = to_pix(page)
    with api.native(keeps_image=False) as handle:
        lib.TessBaseAPISetImage2(handle, pix.ptr)
        api.recognize_native(30.0, time.monotonic(), "seam test")
        text = lib.TessBaseAPIGetUTF8Text(handle)
        try:
            assert b"Seams" in ffi.string(text)
        finally:
            lib.TessDeleteText(text)


def test_recognize_unwatched_gives_the_same_text(api, page):
    api.set_image(page)
    api.recognize(30.0, watched=False)
    unwatched = api.get_utf8_text()
    api.recognize(30.0)
    assert api.get_utf8_text() == unwatched


def test_variables_for_call_puts_every_setting_back(tmp_path):
    log = str(tmp_path / "debug.log")
    with TessApi() as engine:
        engine.set_variable("tessedit_char_blacklist", "xyz")
        with engine.variables_for_call([("tessedit_char_blacklist", "abc"),
                                        ("debug_file", log)]):
            assert engine.get_string_variable("tessedit_char_blacklist") == "abc"
            assert engine.get_string_variable("debug_file") == log
        assert engine.get_string_variable("debug_file") != log
        assert engine.get_string_variable("tessedit_char_blacklist") == "xyz"
