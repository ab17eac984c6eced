"""What recognition gives back: page elements (words, lines, ...) walked in one C call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from tightbind.ocr._native import check, ffi, lib
from tightbind.ocr.constants import PageIteratorLevel, PolyBlockType

__all__ = ["Element", "OrientationScript", "TextDirection", "Walker", "page_level"]


@dataclass(frozen=True)
class Element:
    """One block, paragraph, line, word or symbol of a page.

    ``box`` is (left, top, right, bottom) in image pixels, right and bottom exclusive;
    the numbers count from 1 as in Tesseract's TSV output (0 where not applicable).
    Layout-only elements (``analyse_layout``) have empty text and confidence -1.
    """

    level: PageIteratorLevel
    text: str
    confidence: float
    box: tuple[int, int, int, int]
    block_num: int
    par_num: int
    line_num: int
    word_num: int
    block_type: PolyBlockType

    @property
    def left(self) -> int:
        return self.box[0]

    @property
    def top(self) -> int:
        return self.box[1]

    @property
    def right(self) -> int:
        return self.box[2]

    @property
    def bottom(self) -> int:
        return self.box[3]

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


class OrientationScript(NamedTuple):
    """Result of :meth:`TessApi.detect_orientation_script`.

    ``orientation`` is the page's orientation in degrees (0, 90, 180, 270) as Tesseract's
    ``--psm 0`` prints it ("Orientation in degrees"); ``rotation`` is its "Rotate"
    figure, the degrees to rotate the image to make it upright.
    """

    orientation: int
    orientation_confidence: float
    script: str
    script_confidence: float

    @property
    def rotation(self) -> int:
        """Degrees to rotate the image counter-clockwise to make it upright."""
        return (360 - self.orientation) % 360


class TextDirection(NamedTuple):
    offset: int
    slope: float


_LEVELS = {int(level): level for level in PageIteratorLevel}
_BLOCK_TYPES = {int(kind): kind for kind in PolyBlockType}


def page_level(level: int) -> PageIteratorLevel:
    """``level`` as a PageIteratorLevel; ValueError when it is not one."""
    try:
        return _LEVELS[int(level)]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"not a page iterator level: {level!r}") from None


class Walker:
    """Caller-owned arrays that ``tb_ocr_walk`` fills, grown when a page needs more.

    One per engine: its calls are serialised by the engine's lock.
    """

    def __init__(self) -> None:
        self._elements = ffi.new("tb_ocr_element[]", 256)
        self._text = ffi.new("char[]", 4096)
        self._result = ffi.new("tb_ocr_walk_result *")

    def walk(self, handle: Any, level: PageIteratorLevel,
             offset: tuple[int, int]) -> list[Element]:
        """Every non-empty element of the recognised page at ``level``, boxes shifted by
        ``offset`` (the rectangle's corner)."""
        result = self._result
        while True:
            rc = lib.tb_ocr_walk(handle, int(level), self._elements, len(self._elements),
                                 self._text, len(self._text), result)
            if rc != lib.TB_OCR_FULL:
                break
            if result.elements > len(self._elements):
                self._elements = ffi.new("tb_ocr_element[]", result.elements + 64)
            if result.text_bytes > len(self._text):
                self._text = ffi.new("char[]", result.text_bytes + 1024)
        check(rc, "walking the recognized page")
        return self._collect(level, result.elements, result.text_bytes, offset)

    def walk_layout(self, iterator: Any, level: PageIteratorLevel,
                    offset: tuple[int, int]) -> list[Element]:
        """Boxes and block types of a layout-only page iterator at ``level``."""
        result = self._result
        while True:
            rc = lib.tb_ocr_layout_walk(iterator, int(level), self._elements,
                                        len(self._elements), result)
            if rc != lib.TB_OCR_FULL:
                break
            self._elements = ffi.new("tb_ocr_element[]", result.elements + 64)
        check(rc, "walking the page layout")
        return self._collect(level, result.elements, 0, offset)

    def _collect(self, level: PageIteratorLevel, count: int, text_bytes: int,
                 offset: tuple[int, int]) -> list[Element]:
        text = ffi.buffer(self._text, text_bytes)[:] if text_bytes else b""
        elements = self._elements
        out = []
        block_types = _BLOCK_TYPES
        dx, dy = offset
        for index in range(count):
            e = elements[index]
            start = e.text_offset
            out.append(Element(
                level,
                text[start:start + e.text_length].decode("utf-8", "replace"),
                e.confidence,
                (e.left + dx, e.top + dy, e.right + dx, e.bottom + dy),
                e.block_num, e.par_num, e.line_num, e.word_num,
                block_types.get(e.block_type, PolyBlockType.UNKNOWN),
            ))
        return out
