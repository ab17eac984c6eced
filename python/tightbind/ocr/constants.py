"""Tesseract's enumerations as IntEnums, with values read from the compiled library."""

from __future__ import annotations

from enum import IntEnum

from tightbind.ocr._native import lib


class PageIteratorLevel(IntEnum):
    """Granularity of page elements (Tesseract's ``RIL_*``)."""

    BLOCK = lib.RIL_BLOCK
    PARA = lib.RIL_PARA
    TEXTLINE = lib.RIL_TEXTLINE
    WORD = lib.RIL_WORD
    SYMBOL = lib.RIL_SYMBOL


class PSM(IntEnum):
    """Page segmentation modes (Tesseract's ``PSM_*``)."""

    OSD_ONLY = lib.PSM_OSD_ONLY
    AUTO_OSD = lib.PSM_AUTO_OSD
    AUTO_ONLY = lib.PSM_AUTO_ONLY
    AUTO = lib.PSM_AUTO
    SINGLE_COLUMN = lib.PSM_SINGLE_COLUMN
    SINGLE_BLOCK_VERT_TEXT = lib.PSM_SINGLE_BLOCK_VERT_TEXT
    SINGLE_BLOCK = lib.PSM_SINGLE_BLOCK
    SINGLE_LINE = lib.PSM_SINGLE_LINE
    SINGLE_WORD = lib.PSM_SINGLE_WORD
    CIRCLE_WORD = lib.PSM_CIRCLE_WORD
    SINGLE_CHAR = lib.PSM_SINGLE_CHAR
    SPARSE_TEXT = lib.PSM_SPARSE_TEXT
    SPARSE_TEXT_OSD = lib.PSM_SPARSE_TEXT_OSD
    RAW_LINE = lib.PSM_RAW_LINE


class OEM(IntEnum):
    """OCR engine modes (Tesseract's ``OEM_*``)."""

    TESSERACT_ONLY = lib.OEM_TESSERACT_ONLY
    LSTM_ONLY = lib.OEM_LSTM_ONLY
    TESSERACT_LSTM_COMBINED = lib.OEM_TESSERACT_LSTM_COMBINED
    DEFAULT = lib.OEM_DEFAULT


class Orientation(IntEnum):
    """Which way up a page or block is."""

    PAGE_UP = lib.ORIENTATION_PAGE_UP
    PAGE_RIGHT = lib.ORIENTATION_PAGE_RIGHT
    PAGE_DOWN = lib.ORIENTATION_PAGE_DOWN
    PAGE_LEFT = lib.ORIENTATION_PAGE_LEFT


class WritingDirection(IntEnum):
    LEFT_TO_RIGHT = lib.WRITING_DIRECTION_LEFT_TO_RIGHT
    RIGHT_TO_LEFT = lib.WRITING_DIRECTION_RIGHT_TO_LEFT
    TOP_TO_BOTTOM = lib.WRITING_DIRECTION_TOP_TO_BOTTOM


class TextlineOrder(IntEnum):
    LEFT_TO_RIGHT = lib.TEXTLINE_ORDER_LEFT_TO_RIGHT
    RIGHT_TO_LEFT = lib.TEXTLINE_ORDER_RIGHT_TO_LEFT
    TOP_TO_BOTTOM = lib.TEXTLINE_ORDER_TOP_TO_BOTTOM


class Justification(IntEnum):
    """How a paragraph's lines are aligned (Tesseract's ``JUSTIFICATION_*``)."""

    UNKNOWN = lib.JUSTIFICATION_UNKNOWN
    LEFT = lib.JUSTIFICATION_LEFT
    CENTER = lib.JUSTIFICATION_CENTER
    RIGHT = lib.JUSTIFICATION_RIGHT


class PolyBlockType(IntEnum):
    """What a layout block holds (Tesseract's ``PT_*``)."""

    UNKNOWN = lib.PT_UNKNOWN
    FLOWING_TEXT = lib.PT_FLOWING_TEXT
    HEADING_TEXT = lib.PT_HEADING_TEXT
    PULLOUT_TEXT = lib.PT_PULLOUT_TEXT
    EQUATION = lib.PT_EQUATION
    INLINE_EQUATION = lib.PT_INLINE_EQUATION
    TABLE = lib.PT_TABLE
    VERTICAL_TEXT = lib.PT_VERTICAL_TEXT
    CAPTION_TEXT = lib.PT_CAPTION_TEXT
    FLOWING_IMAGE = lib.PT_FLOWING_IMAGE
    HEADING_IMAGE = lib.PT_HEADING_IMAGE
    PULLOUT_IMAGE = lib.PT_PULLOUT_IMAGE
    HORZ_LINE = lib.PT_HORZ_LINE
    VERT_LINE = lib.PT_VERT_LINE
    NOISE = lib.PT_NOISE


RIL_BLOCK = PageIteratorLevel.BLOCK
RIL_PARA = PageIteratorLevel.PARA
RIL_TEXTLINE = PageIteratorLevel.TEXTLINE
RIL_WORD = PageIteratorLevel.WORD
RIL_SYMBOL = PageIteratorLevel.SYMBOL

__all__ = [
    "OEM",
    "PSM",
    "RIL_BLOCK",
    "RIL_PARA",
    "RIL_SYMBOL",
    "RIL_TEXTLINE",
    "RIL_WORD",
    "Justification",
    "Orientation",
    "PageIteratorLevel",
    "PolyBlockType",
    "TextlineOrder",
    "WritingDirection",
]
