"""tesserocr's iterators (``PyPageIterator``, ``PyResultIterator``, ``PyChoiceIterator``)
as cursors over a :class:`~tightbind.ocr.layout.PageRows`, part of
:mod:`tightbind.ocr.tesserocr`.

The page is read in one C call when the iterator is made; moving and reading never
call Tesseract again, so an iterator stays usable after its API moves to another image,
is cleared or is ended (tesserocr's would then read freed memory).  Past the end of the
page every reading answers as Tesseract's iterator does there (None, False, empty), and
the rows Tesseract cannot give there raise RuntimeError.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Any

from tightbind.ocr.constants import PageIteratorLevel
from tightbind.ocr.layout import Item, PageRows

__all__ = ["PyChoiceIterator", "PyLTRResultIterator", "PyPageIterator", "PyResultIterator",
           "iterate_choices", "iterate_level"]

_SYMBOL = PageIteratorLevel.SYMBOL
_WORD = PageIteratorLevel.WORD


def _level(level: object) -> int:
    """``level`` as a RIL value: TypeError for a non-integer, ValueError out of range."""
    if isinstance(level, bool):
        raise TypeError("a level must be an int (a RIL value), not bool")
    try:
        value = operator.index(level)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"a level must be an int (a RIL value), not "
                        f"{type(level).__name__}") from None
    if not PageIteratorLevel.BLOCK <= value <= PageIteratorLevel.SYMBOL:
        raise ValueError(f"not a page iterator level (RIL): {level!r}")
    return value


class PyPageIterator:
    """Layout elements of a page (tesserocr's ``PyPageIterator``, from
    ``PyTessBaseAPI.AnalyseLayout``).  Cannot be made from Python."""

    def __init__(self, *args: Any) -> None:
        raise TypeError(f"{type(self).__name__} cannot be instantiated from Python")

    @classmethod
    def _create(cls, rows: PageRows, size: tuple[int, int]) -> Any:
        iterator = cls.__new__(cls)
        iterator._rows = rows
        iterator._size = size
        iterator._position = 0
        return iterator

    _rows: PageRows
    _size: tuple[int, int]
    _position: int

    # ---- moving ------------------------------------------------------------------------

    def _at_end(self) -> bool:
        return self._position >= len(self._rows)

    def _item(self, level: int) -> Item | None:
        if self._at_end():
            return None
        return self._rows.item_at(self._position, level)

    def _require(self, level: int, what: str) -> Item:
        item = self._item(level)
        if item is None:
            raise RuntimeError(f"{what}: the iterator is past the end of the page")
        return item

    def Begin(self) -> None:
        """Move to the start of the page."""
        self._position = 0

    def Next(self, level: int) -> bool:
        """Move to the start of the next element at ``level``; False at the end."""
        level = _level(level)
        rows, position = self._rows, self._position
        if position >= len(rows):
            return False
        position += 1
        while position < len(rows) and not rows.begins(position, level):
            position += 1
        self._position = position
        return position < len(rows)

    def _restart(self, level: int) -> None:
        rows = self._rows
        if self._at_end():
            return
        current = rows.element_index(self._position, level)
        while self._position > 0 and rows.element_index(self._position - 1, level) == current:
            self._position -= 1

    def RestartParagraph(self) -> None:
        """Move to the start of the current paragraph."""
        self._restart(PageIteratorLevel.PARA)

    def RestartRow(self) -> None:
        """Move to the start of the current text line."""
        self._restart(PageIteratorLevel.TEXTLINE)

    def IsWithinFirstTextlineOfParagraph(self) -> bool:
        if self._at_end():
            return False
        rows, position = self._rows, self._position
        line = rows.element_index(position, PageIteratorLevel.TEXTLINE)
        paragraph = rows.element_index(position, PageIteratorLevel.PARA)
        while position > 0 and rows.element_index(position - 1,
                                                  PageIteratorLevel.PARA) == paragraph:
            position -= 1
        return rows.element_index(position, PageIteratorLevel.TEXTLINE) == line

    def IsAtBeginningOf(self, level: int) -> bool:
        level = _level(level)
        return not self._at_end() and self._rows.begins(self._position, level)

    def IsAtFinalElement(self, level: int, element: int) -> bool:
        """True when the next ``element`` would begin a new element of ``level``."""
        level, element = _level(level), _level(element)
        rows, position = self._rows, self._position
        if position >= len(rows):
            return False
        position += 1
        while position < len(rows) and not rows.begins(position, element):
            position += 1
        return position >= len(rows) or rows.begins(position, level)

    def SetBoundingBoxComponents(self, include_upper_dots: bool,
                                 include_lower_dots: bool) -> None:
        """Accepted for compatibility: boxes are those Tesseract gives by default."""

    # ---- reading -----------------------------------------------------------------------

    def BoundingBox(self, level: int, padding: int = 0) -> tuple[int, int, int, int] | None:
        """(left, top, right, bottom) of the element at ``level``, grown by ``padding``
        pixels within the image; None where there is none."""
        level = _level(level)
        padding = operator.index(padding)
        item = self._item(level)
        if item is None or item.box is None:
            return None
        left, top, right, bottom = item.box
        if padding:
            width, height = self._size
            left, top = max(0, left - padding), max(0, top - padding)
            right, bottom = min(width, right + padding), min(height, bottom + padding)
        return left, top, right, bottom

    def BoundingBoxInternal(self, level: int) -> tuple[int, int, int, int] | None:
        return self.BoundingBox(level)

    def Empty(self, level: int) -> bool:
        level = _level(level)
        item = self._item(level)
        return item is None or item.empty

    def BlockType(self) -> int:
        item = self._item(PageIteratorLevel.BLOCK)
        return 0 if item is None else int(item.block_type)

    def BlockPolygon(self) -> list[tuple[int, int]] | None:
        """The vertices of the current block's outline, or None."""
        item = self._item(PageIteratorLevel.BLOCK)
        if item is None or not item.polygon:
            return None
        return list(item.polygon)

    def Baseline(self, level: int) -> tuple[tuple[int, int], tuple[int, int]] | bool:
        """((x1, y1), (x2, y2)) of the element's baseline, False where there is none (as
        tesserocr returns)."""
        item = self._item(_level(level))
        if item is None or item.baseline is None:
            return False
        return item.baseline

    def Orientation(self) -> tuple[int, int, int, float]:
        """(orientation, writing direction, text line order, deskew angle) of the block."""
        return self._require(PageIteratorLevel.BLOCK, "Orientation()").orientation

    def ParagraphInfo(self) -> tuple[int, bool, bool, int]:
        """(justification, is list item, is crown, first line indent) of the paragraph."""
        return self._require(PageIteratorLevel.PARA, "ParagraphInfo()").paragraph


class PyLTRResultIterator(PyPageIterator):
    """Recognised elements in left-to-right order (tesserocr's ``PyLTRResultIterator``)."""

    def GetChoiceIterator(self) -> PyChoiceIterator | None:
        """The alternatives for the current symbol; None where there is no word."""
        word = self._item(_WORD)
        if word is None or word.empty:
            return None
        return PyChoiceIterator._create(self._require(_SYMBOL, "GetChoiceIterator()").choices)

    def GetUTF8Text(self, level: int) -> str:
        """The text of the element at ``level``; RuntimeError where there is none."""
        item = self._item(_level(level))
        if item is None or item.text is None:
            raise RuntimeError("No text returned")
        return item.text

    def Confidence(self, level: int) -> float:
        """Mean confidence (0..100) of the element at ``level``; 0.0 where there is none."""
        item = self._item(_level(level))
        return 0.0 if item is None or item.confidence is None else item.confidence

    def RowAttributes(self) -> dict[str, float]:
        """The text line's row height, descenders and ascenders."""
        height, descenders, ascenders = self._require(
            PageIteratorLevel.TEXTLINE, "RowAttributes()").row_attributes
        return {"row_height": height, "descenders": descenders, "ascenders": ascenders}

    def WordFontAttributes(self) -> dict[str, Any] | None:
        """The word's font (name, bold, italic, ..., pointsize, font_id); None where the
        model gives none (LSTM models give none)."""
        item = self._item(_WORD)
        return None if item is None or item.font is None else dict(item.font)

    def WordRecognitionLanguage(self) -> str | None:
        item = self._item(_WORD)
        return None if item is None else item.language

    def WordIsFromDictionary(self) -> bool:
        item = self._item(_WORD)
        return item is not None and item.from_dictionary

    def WordIsNumeric(self) -> bool:
        item = self._item(_WORD)
        return item is not None and item.numeric

    def BlanksBeforeWord(self) -> int:
        item = self._item(_WORD)
        return 1 if item is None or item.empty else item.blanks_before

    def HasBlamerInfo(self) -> bool:
        return False

    def SymbolIsSuperscript(self) -> bool:
        item = self._item(_SYMBOL)
        return item is not None and item.superscript

    def SymbolIsSubscript(self) -> bool:
        item = self._item(_SYMBOL)
        return item is not None and item.subscript

    def SymbolIsDropcap(self) -> bool:
        item = self._item(_SYMBOL)
        return item is not None and item.dropcap


class PyResultIterator(PyLTRResultIterator):
    """Recognised elements in reading order (tesserocr's ``PyResultIterator``, from
    ``PyTessBaseAPI.GetIterator``)."""

    def GetBestLSTMSymbolChoices(self) -> list[list[tuple[str, float]]]:
        """For each LSTM timestep of the current word, its (symbol, probability)
        alternatives (needs ``lstm_choice_mode`` 1 or 2 before recognition)."""
        item = self._item(_WORD)
        if item is None:
            return []
        return [list(step) for step in item.lstm_choices]


class PyChoiceIterator:
    """The alternatives Tesseract considered for one symbol (tesserocr's
    ``PyChoiceIterator``), from ``GetChoiceIterator``."""

    _choices: list[tuple[str, float]]
    _index: int

    def __init__(self, *args: Any) -> None:
        raise TypeError("ChoiceIterator cannot be instantiated from Python")

    @classmethod
    def _create(cls, choices: list[tuple[str, float]]) -> PyChoiceIterator:
        iterator = cls.__new__(cls)
        iterator._choices = choices
        iterator._index = 0
        return iterator

    def __iter__(self) -> Iterator[PyChoiceIterator]:
        return iterate_choices(self)

    def Next(self) -> bool:
        """Move to the next alternative; False when there are none left."""
        if self._index + 1 >= len(self._choices):
            self._index = len(self._choices)
            return False
        self._index += 1
        return True

    def GetUTF8Text(self) -> str | None:
        """The current alternative's text; None when the symbol has none (left)."""
        if self._index >= len(self._choices):
            return None
        return self._choices[self._index][0]

    def Confidence(self) -> float:
        """The current alternative's confidence (0..100 for LSTM models, as Tesseract
        scales it); 0.0 when there is none."""
        if self._index >= len(self._choices):
            return 0.0
        return self._choices[self._index][1]


def iterate_choices(citerator: PyChoiceIterator) -> Iterator[PyChoiceIterator]:
    """Yield ``citerator`` at each of its alternatives."""
    yield citerator
    while citerator.Next():
        yield citerator


def iterate_level(iterator: PyPageIterator, level: int) -> Iterator[PyPageIterator]:
    """Yield ``iterator`` at each element of ``level`` from where it is."""
    level = _level(level)
    yield iterator
    while iterator.Next(level):
        yield iterator
