"""TightOCR's constants: page iterator levels, segmentation and engine modes."""

from tightbind.ocr.constants import (
    OEM,
    PSM,
    RIL_BLOCK,
    RIL_PARA,
    RIL_SYMBOL,
    RIL_TEXTLINE,
    RIL_WORD,
    PageIteratorLevel,
)

__all__ = [
    "OEM",
    "PSM",
    "RIL_BLOCK",
    "RIL_PARA",
    "RIL_SYMBOL",
    "RIL_TEXTLINE",
    "RIL_WORD",
    "PageIteratorLevel",
]
