"""tightbind.ocr.batch: many images on a pool of engines."""

from __future__ import annotations

import io
import sys

import pytest
from helpers.pages import (
    cli,
)

from tightbind.ocr import (
    ImageError,
    LanguageNotFound,
    ocr_many,
)
from tightbind.ocr.progress import Progress


def test_ocr_many_in_order(pages):
    items = [pages["paragraph"], pages["line"], pages["blocks"]] * 2
    expected = [cli(path) for path in items]
    results = list(ocr_many(items, workers=2))
    assert [r.index for r in results] == list(range(len(items)))
    assert [r.text for r in results] == expected
    assert [w.text for w in results[1].words] == ["Hello", "tightbind", "123"]
    lazy = list(ocr_many(iter(items[:2]), workers=1, progress=True))
    assert [r.text for r in lazy] == expected[:2]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_ocr_many_progress_bar_on_a_terminal(pages, monkeypatch):
    pytest.importorskip("tqdm")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    results = list(ocr_many([pages["line"]] * 3, workers=2, progress=True))
    assert len(results) == 3
    final = terminal.getvalue().rsplit("\r", 1)[-1]
    assert "OCR: 100%" in final and "3/3" in final and "page/s" in final, final
    assert terminal.getvalue().endswith("\n")


def test_ocr_many_progress_lines_when_not_a_terminal(pages, monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    list(ocr_many([pages["line"]] * 2, progress=True))
    lines = sys.stderr.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("OCR: 2/2 pages, "), lines
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    list(ocr_many([pages["line"]], progress=False))
    assert sys.stderr.getvalue() == ""


def test_progress_without_tqdm_writes_plain_lines(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    terminal = Terminal()
    progress = Progress(4, stream=terminal, interval=0.0)
    progress.update()
    progress.update(failed=True)
    progress.close()
    lines = terminal.getvalue().splitlines()
    assert lines[0].startswith("OCR: 1/4 pages, ") and "s left" in lines[0]
    assert lines[-1].startswith("OCR: 2/4 pages, ") and lines[-1].endswith(", 1 failed")
    assert len(lines) == 3


def test_progress_bar_counts_failures(monkeypatch):
    pytest.importorskip("tqdm")
    terminal = Terminal()
    progress = Progress(None, stream=terminal)
    progress.update(failed=True)
    progress.update()
    progress.close()
    assert (progress.done, progress.failed) == (2, 1)
    assert "failed=1" in terminal.getvalue()


def test_ocr_many_errors(pages):
    with pytest.raises(ImageError):
        list(ocr_many([pages["line"], b"junk", pages["line"]], workers=2))
    with pytest.raises(LanguageNotFound):
        ocr_many([pages["line"]], language="xyz")  # at the call, before iterating
    with pytest.raises(ValueError):
        ocr_many([pages["line"]], workers=0)
