"""TightOCR compatibility: the old ``tightocr`` import paths on top of tightbind.ocr.

Code written for TightOCR (a ctypes wrapper over a C shim of Tesseract's C++ API) runs
unchanged under Python 3::

    from tightocr.adapters.api_adapter import TessApi
    from tightocr.adapters.lept_adapter import pix_read
    from tightocr.constants import RIL_PARA

    t = TessApi(None, 'eng')
    t.set_image_pix(pix_read('receipt.png'))
    t.recognize()
    for block in t.iterate(RIL_PARA):
        print(block)

Every name maps to the tightbind object of the same name; new code should import
:mod:`tightbind.ocr` directly.
"""

from tightbind.ocr import OcrError, TessApi, pix_read

__all__ = ["OcrError", "TessApi", "pix_read"]
