"""tightbind.ocr.batch: many images on a pool of engines."""

from __future__ import annotations

import io
import sys

import pytest
from ocr_pages import (
    cli,
)

from tightbind.ocr import (
    ImageError,
    LanguageNotFound,
    ocr_many,
)


def test_ocr_many_in_order(pages):
    items = [pages["paragraph"], pages["line"], pages["blocks"]] * 2
    expected = [cli(path) for path in items]
    results = list(ocr_many(items, workers=2))
    assert [r.index for r in results] == list(range(len(items)))
    assert [r.text for r in results] == expected
    assert [w.text for w in results[1].words] == ["Hello", "tightbind", "123"]
    lazy = list(ocr_many(iter(items[:2]), workers=1, progress=True))
    assert [r.text for r in lazy] == expected[:2]


def test_ocr_many_progress_bar_on_a_terminal(pages, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    results = list(ocr_many([pages["line"]] * 3, workers=2, progress=True))
    assert len(results) == 3
    assert terminal.getvalue().endswith("] 3/3\n")
    assert terminal.getvalue().count("\r") == 3
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal: nothing drawn
    list(ocr_many([pages["line"]], progress=True))
    assert sys.stderr.getvalue() == ""


def test_ocr_many_errors(pages):
    with pytest.raises(ImageError):
        list(ocr_many([pages["line"], b"junk", pages["line"]], workers=2))
    with pytest.raises(LanguageNotFound):
        ocr_many([pages["line"]], language="xyz")  # at the call, before iterating
    with pytest.raises(ValueError):
        ocr_many([pages["line"]], workers=0)
