"""tightbind.ocr.results: page elements at every level, walked in one C call."""

from __future__ import annotations

import pytest
from helpers.pages import (
    PARAGRAPH,
    recognized,
    render,
)

from tightbind.ocr import (
    RIL_BLOCK,
    RIL_PARA,
    RIL_SYMBOL,
    RIL_TEXTLINE,
    RIL_WORD,
    PageIteratorLevel,
    TessApi,
)

# ---- levels, iteration, confidences, formats --------------------------------------------


def test_levels(api):
    image, _layout = render(PARAGRAPH)
    recognized(api, image)
    lines = api.results(RIL_TEXTLINE)
    assert [line.text.strip() for line in lines] == PARAGRAPH
    assert [line.line_num for line in lines] == [1, 2, 3]
    symbols = api.results(RIL_SYMBOL)
    assert "".join(s.text for s in symbols) == "".join("".join(PARAGRAPH).split())
    words = api.results(RIL_WORD)
    for word in words:
        mine = [s for s in symbols if (s.block_num, s.par_num, s.line_num, s.word_num)
                == (word.block_num, word.par_num, word.line_num, word.word_num)]
        assert "".join(s.text for s in mine) == word.text
        assert min(s.left for s in mine) >= word.left
    paras = api.results(RIL_PARA)
    blocks = api.results(RIL_BLOCK)
    assert "".join(p.text for p in paras) == api.get_utf8_text()
    assert len(blocks) == 1 and blocks[0].text == api.get_utf8_text()
    assert list(api.iterate(RIL_WORD)) == [w.text for w in words]
    assert list(api.iterate(RIL_PARA)) == [p.text for p in paras]


@pytest.mark.parametrize("level", list(PageIteratorLevel))
def test_results_grow_their_buffers(pages, level):
    """The walk reports the sizes it needs when the arrays are too small; the retry
    must give exactly what roomy arrays give."""
    from tightbind.ocr._native import ffi

    with TessApi() as roomy, TessApi() as tight:
        for engine in (roomy, tight):
            recognized(engine, pages["paragraph"])
        tight._elements = ffi.new("tb_ocr_element[]", 1)
        tight._text = ffi.new("char[]", 1)
        assert tight.results(level) == roomy.results(level)
        tight._elements = ffi.new("tb_ocr_element[]", 1)
        assert tight.analyse_layout(level) == roomy.analyse_layout(level)


def test_confidences(api, pages):
    recognized(api, pages["paragraph"])
    words = api.results()
    confidences = api.all_word_confidences()
    assert len(confidences) == len(words)
    assert all(0 <= c <= 100 for c in confidences)
    assert 0 <= api.mean_text_confidence() <= 100
    assert all(0 <= w.confidence <= 100 for w in words)
