"""Every OCR status code reaches its exception: each is produced by a real call into the
shim (through the public API where one gets there, else the C function itself) and
turned into the exception ``tightbind.ocr._native.FAILURES`` names for it."""

from __future__ import annotations

import io

import pytest
from helpers.pages import render
from PIL import Image

from tightbind.ocr import ImageError, NotRecognized, Pix, RecognitionTimeout, TessApi
from tightbind.ocr._native import FAILURES, check, ffi, lib
from tightbind.ocr.errors import InvalidArgument, OcrError, RecognitionCancelled


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def raises_from_table(code: int, call_result: int) -> None:
    """``check`` of a real call's status raises exactly the table's class and sentence."""
    assert call_result == code
    cls, sentence = FAILURES[code]
    with pytest.raises(cls) as info:
        check(call_result, "calling the shim")
    assert type(info.value) is cls and sentence in str(info.value)


def test_invalid_argument_from_the_shim():
    walk = ffi.new("tb_ocr_walk_result *")
    raises_from_table(lib.TB_E_ARG, lib.tb_ocr_walk(ffi.NULL, 3, ffi.NULL, 0, ffi.NULL, 0,
                                                     walk))
    assert FAILURES[lib.TB_E_ARG][0] is InvalidArgument


def test_failed_encode_from_leptonica():
    pix = Pix.from_pil(Image.new("L", (8, 8), 255))
    data = ffi.new("uint8_t **")
    size = ffi.new("size_t *")
    raises_from_table(lib.TB_OCR_E_FAILED, lib.tb_ocr_pix_encode(pix.ptr, 9999, data, size))
    assert FAILURES[lib.TB_OCR_E_FAILED][0] is OcrError


def test_cancel_flag_set_before_recognition():
    image, _ = render(["Cancelled before it starts"])
    with TessApi() as api:
        api.set_image(image)
        flag = ffi.new("int *", 1)
        raises_from_table(lib.TB_OCR_E_CANCELLED, lib.tb_ocr_recognize(api._handle, flag, 0))
    assert FAILURES[lib.TB_OCR_E_CANCELLED][0] is RecognitionCancelled


def test_walk_before_recognition():
    with TessApi() as api:
        api.set_image(render(["Set but not recognized"])[0])
        walk = ffi.new("tb_ocr_walk_result *")
        elements = ffi.new("tb_ocr_element[]", 4)
        raises_from_table(lib.TB_OCR_E_NO_RESULT,
                          lib.tb_ocr_walk(api._handle, 3, elements, 4, ffi.NULL, 0, walk))
        with pytest.raises(NotRecognized):  # and the public call says the same
            api.results()


def test_timeout_through_recognize():
    image, _ = render([f"line {n} of a page that takes a while" for n in range(60)],
                      size=30, spacing=20)
    with TessApi() as api:
        api.set_image(image)
        with pytest.raises(RecognitionTimeout):
            api.recognize(timeout=0.001)
    assert FAILURES[lib.TB_OCR_E_TIMEOUT][0] is RecognitionTimeout


@pytest.mark.parametrize("data, code", [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "TB_OCR_E_IMAGE"),          # damaged header
    (b"this is not an image at all", "TB_OCR_E_FORMAT"),
])
def test_image_codes_through_pix(data, code):
    cls, _sentence = FAILURES[getattr(lib, code)]
    assert cls is ImageError
    with pytest.raises(ImageError):
        Pix.from_bytes(data)


def test_too_large_through_pix():
    header = png(Image.new("1", (1, 1)))
    # The same PNG with its IHDR saying 100000 x 100000 (CRC made again).
    import struct
    import zlib

    body = b"IHDR" + struct.pack(">IIBBBBB", 100_000, 100_000, 1, 0, 0, 0, 0)
    ihdr = struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body))
    bomb = header[:8] + ihdr + header[8 + 25:]
    with pytest.raises(ImageError, match="MAX_IMAGE_PIXELS"):
        Pix.from_bytes(bomb)
    assert FAILURES[lib.TB_OCR_E_TOO_LARGE][0] is ImageError


def test_out_of_memory_is_mapped():
    # Not reachable on purpose: it needs an allocation inside the shim to fail, which no
    # input within MAX_IMAGE_PIXELS causes (tests/ocr/test_hostile.py runs the bombs under
    # a memory limit instead).  The table still names a MemoryError for it.
    cls, sentence = FAILURES[lib.TB_E_NOMEM]
    assert issubclass(cls, MemoryError) and issubclass(cls, OcrError) and sentence
