"""Every row of a page in one C call: boxes, baselines, block polygons and orientation,
paragraph info, row attributes, word fonts, LSTM symbol choices, symbol alternatives.

:meth:`TessApi.page_rows` (a recognised page) and :meth:`TessApi.analyse_layout` with
``level=None`` (layout analysis only) return a :class:`PageRows`: ``tb_ocr_page_read`` walks
Tesseract's iterator once, at every position (each symbol, and once in each block without
text), and records the elements of every level beginning there. :class:`PageRows` then
answers from those arrays, so moving over a page never calls back into Tesseract and stays
valid after the engine moves on, is cleared or is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tightbind.ocr._native import check, ffi, lib, log_messages
from tightbind.ocr.constants import PageIteratorLevel, PolyBlockType
from tightbind.ocr.errors import OcrError
from tightbind.ocr.pix import Pix

__all__ = ["Item", "PageRows", "read_components", "read_rows"]

LEVELS = tuple(PageIteratorLevel)
if len(LEVELS) != lib.TB_OCR_LEVELS:  # pragma: no cover - a shim built for other levels
    raise ImportError("tightbind's OCR shim and PageIteratorLevel disagree on the levels")
#: The arrays tb_ocr_page_read fills, as the shim declares them (sizes from ffi).
ROW_TYPES = {name: ffi.typeof(name) for name in
             ("tb_ocr_position", "tb_ocr_item", "tb_ocr_timestep", "tb_ocr_choice")}
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Item:
    """One block, paragraph, text line, word or symbol and its rows.

    ``box`` is (left, top, right, bottom), right and bottom exclusive, or None where
    Tesseract has none; ``baseline`` is ((x1, y1), (x2, y2)) or None.  ``text`` and
    ``confidence`` (0..100) are None on a layout-only page.  The rows of other levels
    than the item's own keep their zero values.
    """

    level: PageIteratorLevel
    empty: bool
    box: Box | None
    baseline: tuple[tuple[int, int], tuple[int, int]] | None
    block_type: PolyBlockType
    text: str | None
    confidence: float | None
    # block
    orientation: tuple[int, int, int, float]  # orientation, writing direction, order, deskew
    polygon: list[tuple[int, int]]
    # paragraph: justification, is list item, is crown, first line indent
    paragraph: tuple[int, bool, bool, int]
    # text line: row height, descenders, ascenders
    row_attributes: tuple[float, float, float]
    # word
    font: dict[str, Any] | None
    from_dictionary: bool
    numeric: bool
    blanks_before: int
    language: str | None
    lstm_choices: list[list[tuple[str, float]]]
    # symbol
    superscript: bool
    subscript: bool
    dropcap: bool
    choices: list[tuple[str, float]]


class PageRows:
    """The positions and elements of one page (see the module docstring).

    ``len(rows)`` is the number of positions; :meth:`begins` and :meth:`item_at` answer
    for a position, :meth:`items` lists one level.  Boxes, baselines and polygons are in
    the whole image's coordinates (shifted by the rectangle's corner).
    """

    def __init__(self, page: Any, offset: tuple[int, int]) -> None:
        self._page = page
        self._offset = offset
        self.recognized = bool(page.recognized)
        self._text = ffi.buffer(page.text, page.text_length)[:] if page.text_length else b""
        self._cache: dict[tuple[int, int], Item] = {}
        self._positions = [(p.begins, tuple(p.element)) for p in
                           ffi.unpack(page.positions, page.position_count)] \
            if page.position_count else []

    def __len__(self) -> int:
        return len(self._positions)

    def begins(self, position: int, level: int) -> bool:
        """True when an element of ``level`` begins at ``position``."""
        return bool(self._positions[position][0] & (1 << int(level)))

    def element_index(self, position: int, level: int) -> int:
        return self._positions[position][1][int(level)]

    def item_at(self, position: int, level: int) -> Item:
        """The element of ``level`` holding ``position``."""
        return self.item(level, self.element_index(position, level))

    def items(self, level: int) -> list[Item]:
        """Every element of ``level``, in the iterator's order."""
        return [self.item(level, index) for index in range(self._page.item_count[int(level)])]

    def item(self, level: int, index: int) -> Item:
        key = (int(level), index)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._make(int(level), index)
        return found

    def _string(self, offset: int, length: int) -> str:
        return self._text[offset:offset + length].decode("utf-8", "replace")

    def _choices(self, offset: int, count: int) -> list[tuple[str, float]]:
        choices = self._page.choices
        return [(self._string(c.text_offset, c.text_length), float(c.value))
                for c in (choices[i] for i in range(offset, offset + count))]

    def _make(self, level: int, index: int) -> Item:
        page = self._page
        e = page.items[level][index]
        dx, dy = self._offset
        box = (e.left + dx, e.top + dy, e.right + dx, e.bottom + dy) if e.has_box else None
        b = e.baseline
        baseline = ((b[0] + dx, b[1] + dy), (b[2] + dx, b[3] + dy)) if e.has_baseline \
            else None
        polygon = [(page.polygon[2 * i] + dx, page.polygon[2 * i + 1] + dy)
                   for i in range(e.polygon_offset, e.polygon_offset + e.polygon_count)]
        font = None
        if e.has_font:
            font = {"font_name": self._string(e.font_offset, e.font_length),
                    "bold": bool(e.is_bold), "italic": bool(e.is_italic),
                    "underlined": bool(e.is_underlined), "monospace": bool(e.is_monospace),
                    "serif": bool(e.is_serif), "smallcaps": bool(e.is_smallcaps),
                    "pointsize": e.pointsize, "font_id": e.font_id}
        steps = page.timesteps
        lstm = [self._choices(steps[i].choice_offset, steps[i].choice_count)
                for i in range(e.timestep_offset, e.timestep_offset + e.timestep_count)]
        try:
            block_type = PolyBlockType(e.block_type)
        except ValueError:
            block_type = PolyBlockType.UNKNOWN
        return Item(
            level=LEVELS[level], empty=bool(e.empty), box=box, baseline=baseline,
            block_type=block_type,
            text=self._string(e.text_offset, e.text_length) if e.has_text else None,
            confidence=float(e.confidence) if self.recognized and not e.empty else None,
            orientation=(e.orientation, e.writing_direction, e.textline_order,
                         float(e.deskew_angle)),
            polygon=polygon,
            paragraph=(e.justification, bool(e.is_list_item), bool(e.is_crown),
                       e.first_line_indent),
            row_attributes=(float(e.row_height), float(e.descenders), float(e.ascenders)),
            font=font, from_dictionary=bool(e.from_dictionary), numeric=bool(e.numeric),
            blanks_before=e.blanks_before,
            language=self._string(e.language_offset, e.language_length)
            if e.has_language else None,
            lstm_choices=lstm, superscript=bool(e.superscript), subscript=bool(e.subscript),
            dropcap=bool(e.dropcap), choices=self._choices(e.choice_offset, e.choice_count),
        )


def read_rows(iterator: Any, recognized: bool, offset: tuple[int, int]) -> PageRows:
    """Walk a Tesseract page iterator (a result iterator when ``recognized``) once and
    return its :class:`PageRows`; the iterator is left at its end."""
    out = ffi.new("tb_ocr_page **")
    check(lib.tb_ocr_page_read(iterator, int(recognized), out), "reading the page")
    return PageRows(ffi.gc(out[0], lib.tb_ocr_page_free), offset)


def read_components(handle: Any, level: int, text_only: bool, images: bool,
                    offset: tuple[int, int]) -> Any:
    """TessApi.get_component_images on the engine ``handle``: boxes shifted by ``offset``,
    with ``images`` (box, Pix) pairs."""
    pixa_out = ffi.new("PIXA **") if images else ffi.NULL
    boxa = lib.TessBaseAPIGetComponentImages(handle, level, text_only, pixa_out, ffi.NULL)
    log_messages()
    pixa = ffi.NULL
    if images and pixa_out[0] != ffi.NULL:
        pixa = ffi.gc(pixa_out[0], lib.tb_ocr_pixa_free)
    if boxa == ffi.NULL:
        return []
    boxa = ffi.gc(boxa, lib.tb_ocr_boxa_free)
    try:
        count = lib.boxaGetCount(boxa)
        coords = ffi.new("int[]", max(1, 4 * count))
        found = ffi.new("size_t *")
        check(lib.tb_ocr_boxa_boxes(boxa, coords, count, found), "reading component boxes")
        dx, dy = offset
        boxes = [(coords[4 * i] + dx, coords[4 * i + 1] + dy, coords[4 * i + 2] + dx,
                  coords[4 * i + 3] + dy) for i in range(found[0])]
        if not images:
            return boxes
        if pixa == ffi.NULL or lib.pixaGetCount(pixa) != len(boxes):
            raise OcrError("Tesseract returned no component images")
        pairs = []
        for index, box in enumerate(boxes):
            pix = lib.pixaGetPix(pixa, index, lib.L_CLONE)
            if pix == ffi.NULL:
                raise OcrError(f"cannot read component image {index}")
            pairs.append((box, Pix._adopt(pix)))
        return pairs
    finally:
        ffi.release(boxa)
        if pixa != ffi.NULL:
            ffi.release(pixa)
