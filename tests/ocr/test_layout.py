"""TessApi.page_rows / analyse_layout(None): every row of a page read in one C call
(tightbind.ocr.layout), checked against the rows tightbind already reads another way."""

from __future__ import annotations

import pytest
from helpers.pages import render
from PIL import Image

from tightbind.ocr import RIL_BLOCK, RIL_PARA, RIL_SYMBOL, RIL_TEXTLINE, RIL_WORD, TessApi
from tightbind.ocr.constants import Justification, PolyBlockType
from tightbind.ocr.errors import ClosedError, NotRecognized

PAGE, _ = render(["The quick brown fox jumps", "over the lazy dog 1234.",
               "Pack my box with five dozen jugs."])


@pytest.fixture(scope="module")
def rows():
    with TessApi(variables={"lstm_choice_mode": 2}) as api:
        api.set_image(PAGE)
        api.recognize()
        yield api, api.page_rows()


def test_words_agree_with_results(rows) -> None:
    api, page = rows
    words = [item for item in page.items(RIL_WORD) if not item.empty]
    elements = api.results(RIL_WORD)
    assert [w.text for w in words] == [e.text for e in elements]
    assert [w.box for w in words] == [e.box for e in elements]
    assert all(abs(w.confidence - e.confidence) < 1e-3
               for w, e in zip(words, elements, strict=True))


@pytest.mark.parametrize("name", ["arabic", "chinese", "chinese-vertical"])
def test_words_read_in_reading_order_in_every_script(name) -> None:
    """A right-to-left word's text is as written (as results(), the C API and tesserocr
    give it), not in the order its letters are drawn; lines and blocks likewise."""
    from helpers.pdfcases import SCRIPT_PAGES, script_missing, script_page

    from tightbind.ocr.tessdata import list_languages

    language, psm = SCRIPT_PAGES[name][:2]
    if language not in list_languages():
        pytest.skip(f"Debian's tesseract-ocr-{language.replace('_', '-')} is not installed")
    if (why := script_missing(name)) is not None:
        pytest.skip(why)
    page = script_page(name)
    with TessApi(language=language, psm=psm) as api:
        api.set_image(page.image)
        api.recognize()
        rows = api.page_rows()
        for level in (RIL_WORD, RIL_TEXTLINE, RIL_BLOCK):
            items = [item.text for item in rows.items(level) if not item.empty]
            assert items == [e.text for e in api.results(level)], level
        if name == "arabic":
            drawn = {word for line in SCRIPT_PAGES[name][3] for word in line.split()}
            assert drawn & {item.text for item in rows.items(RIL_WORD)}


def test_positions_begin_every_level(rows) -> None:
    _, page = rows
    assert len(page) == len(page.items(RIL_SYMBOL))
    for level in (RIL_BLOCK, RIL_PARA, RIL_TEXTLINE, RIL_WORD, RIL_SYMBOL):
        begun = [p for p in range(len(page)) if page.begins(p, level)]
        assert len(begun) == len(page.items(level))
        assert [page.element_index(p, level) for p in begun] == list(range(len(begun)))


def test_level_rows(rows) -> None:
    _, page = rows
    block = page.item(RIL_BLOCK, 0)
    assert block.block_type is PolyBlockType.FLOWING_TEXT
    assert len(block.polygon) >= 4
    xs, ys = zip(*block.polygon, strict=True)
    left, top, right, bottom = block.box
    assert left - 10 <= min(xs) and max(xs) <= right + 10
    assert top - 10 <= min(ys) and max(ys) <= bottom + 10
    assert Justification(page.item(RIL_PARA, 0).paragraph[0]) in Justification
    height, descenders, ascenders = page.item(RIL_TEXTLINE, 0).row_attributes
    assert height > 0 and descenders < 0 < ascenders
    word = page.item(RIL_WORD, 0)
    assert word.language == "eng" and word.font is None  # LSTM models give no font
    assert word.lstm_choices and all(step for step in word.lstm_choices)
    symbol = page.item(RIL_SYMBOL, 0)
    assert symbol.choices[0][0] == symbol.text == "T"


def test_reading_twice_gives_the_same_rows(rows) -> None:
    api, page = rows
    again = api.page_rows()
    for level in (RIL_WORD, RIL_SYMBOL):
        assert page.items(level) == again.items(level)


def test_layout_rows_without_recognition() -> None:
    with TessApi() as api:
        api.set_image(PAGE)
        layout = api.analyse_layout(None)
        blocks = api.analyse_layout(RIL_BLOCK)
    assert not layout.recognized
    items = layout.items(RIL_BLOCK)
    assert [item.box for item in items] == [element.box for element in blocks]
    assert all(item.text is None and item.confidence is None for item in items)
    assert layout.items(RIL_WORD)[0].choices == []


def test_rectangle_shifts_rows() -> None:
    with TessApi() as api:
        api.set_image(PAGE)
        api.recognize()
        whole = api.page_rows().item(RIL_WORD, 0)
        api.set_rectangle(20, 20, PAGE.width - 20, PAGE.height - 20)
        api.recognize()
        part = api.page_rows().item(RIL_WORD, 0)
    assert part.text == whole.text
    assert all(abs(a - b) <= 3 for a, b in zip(part.box, whole.box, strict=True))


def test_blank_page_has_no_positions() -> None:
    with TessApi() as api:
        api.set_image(Image.new("L", (120, 80), 255))
        api.recognize()
        page = api.page_rows()
    assert len(page) == 0 and page.items(RIL_WORD) == []


def test_page_rows_needs_a_result() -> None:
    api = TessApi()
    api.set_image(PAGE)
    with pytest.raises(NotRecognized):
        api.page_rows()
    api.close()
    with pytest.raises(ClosedError):
        api.page_rows()
