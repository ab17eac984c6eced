"""tightbind.ocr.tesserocr beyond tesserocr's own suite (tests/ocr/test_tesserocr_suite.py):
the rows it reads, and hostile input to every entry point (wrong types, an ended API,
iterators past their end or used after End(), a symbol without choices), each raising
the class tesserocr raises with a clear message, never crashing."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.pages import render
from PIL import Image

from tightbind.ocr import tesserocr
from tightbind.ocr.tesserocr import RIL, PyTessBaseAPI

PAGE, _ = render(["The quick brown fox jumps", "over the lazy dog 1234."])
BLANK = Image.new("RGB", (100, 100), (255, 255, 255))


@pytest.fixture(scope="module")
def api():
    with PyTessBaseAPI() as engine:
        yield engine


@pytest.fixture()
def recognized(api):
    api.SetImage(PAGE)
    assert api.Recognize()
    return api


def test_text_and_words(recognized) -> None:
    text = recognized.GetUTF8Text()
    assert "quick" in text
    words = recognized.AllWords()
    assert words[:3] == ["The", "quick", "brown"]
    assert [w for w, _ in recognized.MapWordConfidences()] == words
    assert len(recognized.AllWordConfidences()) == len(words)
    assert tesserocr.image_to_text(PAGE) == text


def test_iterator_rows(recognized) -> None:
    it = recognized.GetIterator()
    assert it.IsAtBeginningOf(RIL.BLOCK) and it.GetUTF8Text(RIL.WORD) == "The"
    assert it.BlockType() == tesserocr.PT.FLOWING_TEXT
    assert len(it.BlockPolygon()) >= 4
    assert it.RowAttributes()["row_height"] > 0
    assert it.ParagraphInfo()[0] in tuple(tesserocr.Justification)
    assert it.Orientation()[0] == tesserocr.Orientation.PAGE_UP
    assert it.WordRecognitionLanguage() == "eng"
    assert it.WordFontAttributes() is None  # LSTM models give no font
    left, top, right, bottom = it.BoundingBox(RIL.WORD)
    assert it.BoundingBox(RIL.WORD, padding=5) == (left - 5, top - 5, right + 5, bottom + 5)
    (x1, _), (x2, _) = it.Baseline(RIL.TEXTLINE)
    assert x2 > x1
    choices = it.GetChoiceIterator()
    assert next(iter(choices)).GetUTF8Text() == "T"
    assert it.IsAtFinalElement(RIL.WORD, RIL.SYMBOL) is False
    it.Next(RIL.SYMBOL)
    it.Next(RIL.SYMBOL)
    assert it.IsAtFinalElement(RIL.WORD, RIL.SYMBOL)
    it.RestartRow()
    assert it.IsAtBeginningOf(RIL.TEXTLINE) and it.IsWithinFirstTextlineOfParagraph()
    texts = [w.GetUTF8Text(RIL.TEXTLINE) for w in tesserocr.iterate_level(it, RIL.TEXTLINE)]
    assert texts[1].startswith("over")


def test_lstm_choices_need_the_mode(api) -> None:
    api.SetImage(PAGE)
    api.Recognize()
    with pytest.raises(RuntimeError, match="lstm_choice_mode"):
        api.GetBestLSTMSymbolChoices()
    assert api.SetVariable("lstm_choice_mode", "2")
    api.SetImage(PAGE)
    api.Recognize()
    choices = api.GetBestLSTMSymbolChoices()
    assert len(choices) == len(api.AllWords()) and choices[0][0][0][0] == "T"
    assert api.SetVariable("lstm_choice_mode", "0")


def test_iterator_past_its_end(recognized) -> None:
    it = recognized.GetIterator()
    while it.Next(RIL.WORD):
        pass
    assert it.Next(RIL.SYMBOL) is False
    assert it.BoundingBox(RIL.WORD) is None and it.Empty(RIL.WORD)
    assert it.GetChoiceIterator() is None and it.BlockPolygon() is None
    assert it.Baseline(RIL.WORD) is False and it.WordFontAttributes() is None
    assert it.Confidence(RIL.WORD) == 0.0 and it.GetBestLSTMSymbolChoices() == []
    with pytest.raises(RuntimeError, match="No text"):
        it.GetUTF8Text(RIL.WORD)
    for call in (it.RowAttributes, it.ParagraphInfo, it.Orientation):
        with pytest.raises(RuntimeError, match="past the end"):
            call()
    it.Begin()
    assert it.GetUTF8Text(RIL.WORD) == "The"


def test_iterator_after_end_keeps_its_page() -> None:
    engine = PyTessBaseAPI()
    engine.SetImage(PAGE)
    engine.Recognize()
    it = engine.GetIterator()
    engine.End()
    assert it.GetUTF8Text(RIL.WORD) == "The"
    assert it.GetChoiceIterator().GetUTF8Text() == "T"
    layout_engine = PyTessBaseAPI()
    layout_engine.SetImage(PAGE)
    layout = layout_engine.AnalyseLayout()
    layout_engine.Clear()
    assert layout.BoundingBox(RIL.BLOCK) is not None
    layout_engine.End()


def test_symbol_without_choices(api) -> None:
    api.SetImage(BLANK)
    api.Recognize()
    it = api.GetIterator()
    assert it.GetChoiceIterator() is None
    with pytest.raises(RuntimeError):
        it.GetUTF8Text(RIL.SYMBOL)
    exhausted = tesserocr.PyChoiceIterator._create([])
    assert exhausted.GetUTF8Text() is None and exhausted.Confidence() == 0.0
    assert exhausted.Next() is False
    assert api.DetectOrientationScript() is None and api.DetectOS() is None


@pytest.mark.parametrize("call", [
    lambda a: a.Recognize("soon"),
    lambda a: a.SetImage(b"not an image object"),
    lambda a: a.SetImageFile(12),
    lambda a: a.SetPageSegMode("auto"),
    lambda a: a.SetRectangle("0", 0, 1, 1),
    lambda a: a.InitFull(configs="box.train"),
    lambda a: a.InitFull(configs=[object()]),
    lambda a: a.InitFull(variables=[("a", "b")]),
    lambda a: a.Init(lang=5),
    lambda a: a.GetIterator().Next("word"),
    lambda a: a.GetIterator().BoundingBox(None),
    lambda a: tesserocr.image_to_text("page.png"),
    lambda a: tesserocr.file_to_text(3.5),
    lambda a: tesserocr.PyChoiceIterator(),
    lambda a: tesserocr.PyPageIterator(),
], ids=lambda call: "")
def test_wrong_types(recognized, call) -> None:
    with pytest.raises(TypeError):
        call(recognized)
    recognized.Init()


@pytest.mark.parametrize("call", [
    lambda a: a.GetUTF8Text(), lambda a: a.GetIterator(), lambda a: a.AnalyseLayout(),
    lambda a: a.GetDatapath(), lambda a: a.SetVariable("tessedit_pageseg_mode", "6"),
    lambda a: a.GetVariableAsString("file_type"), lambda a: a.SetImage(PAGE),
    lambda a: a.Recognize(), lambda a: a.GetThresholdedImage(), lambda a: a.DetectOS(),
    lambda a: a.GetComponentImages(RIL.WORD, True), lambda a: a.MeanTextConf(),
    lambda a: a.GetInitLanguagesAsString(), lambda a: a.SetPageSegMode(3),
])
def test_ended_api_raises_runtime_error(call) -> None:
    engine = PyTessBaseAPI()
    engine.End()
    with pytest.raises(RuntimeError, match="not initialised"):
        call(engine)
    engine.End()  # ending twice is harmless


def test_bad_files_and_values(api, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        api.SetImageFile(tmp_path / "missing.png")
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(RuntimeError):
        api.SetImageFile(damaged)
    with pytest.raises(RuntimeError):
        PyTessBaseAPI(path=tmp_path)
    with pytest.raises(RuntimeError):
        PyTessBaseAPI(lang="no-such-language")
    with pytest.raises(RuntimeError):
        tesserocr.file_to_text(damaged)
    assert api.SetVariable("no_such_variable", "1") is False
    assert api.GetVariableAsString("no_such_variable") is None
    assert api.GetIntVariable("no_such_variable") is None
    with pytest.raises(RuntimeError):
        api.SetImageBytes(b"\0" * 10, 10, 10, 1, 10)
    api.SetImageBytes(PAGE.tobytes(), PAGE.width, PAGE.height, 1, PAGE.width)
    assert "quick" in api.GetUTF8Text()
    api.Clear()
    with pytest.raises(RuntimeError):
        api.GetUTF8Text()
    assert api.Recognize() is False
    api.SetImage(PAGE)
    api.SetRectangle(-5, -5, 10**6, 10**6)  # clipped to the image, as Tesseract clips
    assert api.GetThresholdedImage().size == PAGE.size


def test_module_functions() -> None:
    path, languages = tesserocr.get_languages()
    assert "eng" in languages and Path(path).is_dir()
    assert tesserocr.tesseract_version().startswith("tesseract ")
    assert tesserocr.RIL.WORD == 3 and tesserocr.PSM.AUTO == 3 and tesserocr.OEM.DEFAULT == 3
