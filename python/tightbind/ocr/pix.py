"""Leptonica images (``Pix``): reading, converting and basic preprocessing.

Only Leptonica's accessor functions are used (its struct fields are private since 1.83).
Every ``Pix`` owns one Leptonica image, freed by ``pixDestroy`` when the object is
garbage-collected or closed; operations return new ``Pix`` objects.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import zlib
from typing import TYPE_CHECKING, Any

from tightbind.ocr._native import check, ffi, lib, log_messages
from tightbind.ocr.errors import ClosedError, ImageError, ImageFileNotFound

if TYPE_CHECKING:  # pragma: no cover
    import numpy
    from PIL import Image
    from typing_extensions import Self

__all__ = ["MAX_IMAGE_PIXELS", "Pix", "pix_read", "pix_read_pages"]

#: Images with more pixels than this are refused before decoding (a decompression bomb
#: guard, like Pillow's); Tesseract itself cannot take sides longer than 32767 pixels.
MAX_IMAGE_PIXELS = 1 << 28

#: Tesseract refuses images with a side longer than this.
MAX_SIDE = 32767


_TIFF_FORMATS = frozenset({
    lib.IFF_TIFF, lib.IFF_TIFF_PACKBITS, lib.IFF_TIFF_RLE, lib.IFF_TIFF_G3, lib.IFF_TIFF_G4,
    lib.IFF_TIFF_LZW, lib.IFF_TIFF_ZIP, lib.IFF_TIFF_JPEG,
})


def _fail(message: str, raising: type[Exception] = ImageError) -> Exception:
    detail = log_messages(logging.DEBUG)
    if detail:
        message = f"{message} (leptonica: {detail.splitlines()[0]})"
    return raising(message)


def _wrap(ptr: Any, what: str) -> Pix:
    if ptr == ffi.NULL:
        raise _fail(what)
    log_messages()
    return Pix._adopt(ptr)


def _check_header(data: bytes) -> int:
    """Check encoded image bytes before decoding; return Leptonica's format code."""
    if not data:
        raise ImageError("empty image data (0 bytes)")
    fmt = ffi.new("l_int32 *")
    if lib.findFileFormatBuffer(data, fmt) != 0 or fmt[0] == lib.IFF_UNKNOWN:
        raise _fail("not an image format Leptonica can read")
    if fmt[0] == lib.IFF_JFIF_JPEG:
        return int(fmt[0])  # the shim's JPEG reader checks the size itself, quietly
    width, height = ffi.new("l_int32 *"), ffi.new("l_int32 *")
    if lib.pixReadHeaderMem(data, len(data), ffi.NULL, width, height, ffi.NULL, ffi.NULL,
                            ffi.NULL) != 0:
        raise _fail("corrupt or truncated image header")
    _check_size(width[0], height[0])
    if fmt[0] == lib.IFF_PNG:
        _check_png(data)
    return int(fmt[0])


# libpng prints some errors straight to stderr from inside Leptonica, where no handler
# can reach them; the common causes (truncation, damaged chunks) are caught here first
# so that they become a clean ImageError instead.  (JPEGs are decoded by the shim's own
# libjpeg reader, whose messages are caught like Leptonica's.)

def _check_png(data: bytes) -> None:
    offset = 8
    while True:
        if offset + 12 > len(data):
            raise ImageError("truncated PNG (no IEND chunk)")
        length, = struct.unpack_from(">I", data, offset)
        end = offset + 8 + length
        if length > 0x7FFFFFFF or end + 4 > len(data):
            raise ImageError("truncated PNG (a chunk runs past the end of the data)")
        kind = data[offset + 4:offset + 8]
        crc, = struct.unpack_from(">I", data, end)
        if zlib.crc32(data[offset + 4:end]) != crc:
            raise ImageError(f"corrupt PNG (bad CRC in chunk {kind!r})")
        if kind == b"IEND":
            return
        offset = end + 4


def _check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"empty image ({width}x{height} pixels)")
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageError(f"image of {width}x{height} pixels is larger than "
                         f"MAX_IMAGE_PIXELS ({MAX_IMAGE_PIXELS})")


def _read_file(path: str | os.PathLike[str]) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise ImageFileNotFound(f"no such image file: {os.fspath(path)!r}") from None
    except IsADirectoryError:
        raise ImageFileNotFound(f"image path is a directory: {os.fspath(path)!r}") from None


class Pix:
    """A Leptonica image.  Create one with :func:`pix_read` or a ``from_*`` constructor."""

    __slots__ = ("__weakref__", "_ptr")
    _ptr: Any

    def __init__(self) -> None:
        raise TypeError("use pix_read(), Pix.from_bytes(), Pix.from_pil() or Pix.from_numpy()")

    @classmethod
    def _adopt(cls, ptr: Any) -> Pix:
        self = object.__new__(cls)
        self._ptr = ffi.gc(ptr, lib.tb_ocr_pix_free)
        return self

    # ---- constructors ------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Pix:
        """Read the (first page of the) image file at ``path``.

        Raises :class:`ImageFileNotFound` or :class:`ImageError`.
        """
        return cls.from_bytes(_read_file(path))

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Pix:
        """Decode an encoded image (PNG, JPEG, TIFF (first page), BMP, PNM, GIF, WebP...).

        Raises :class:`ImageError` for empty, unknown, corrupt or oversized data.
        """
        data = bytes(data)
        if _check_header(data) == lib.IFF_JFIF_JPEG:
            out = ffi.new("PIX **")
            rc = lib.tb_ocr_read_jpeg(data, len(data), MAX_IMAGE_PIXELS, out)
            if rc != lib.TB_OK:
                detail = log_messages(logging.DEBUG)
                check(rc, "decoding JPEG data"
                      + (f" (libjpeg: {detail.splitlines()[0]})" if detail else ""))
            return _wrap(out[0], "cannot decode JPEG data")
        return _wrap(lib.pixReadMem(data, len(data)), "cannot decode image data")

    @classmethod
    def from_numpy(cls, array: numpy.ndarray) -> Pix:
        """Copy a numpy array: ``uint8``, ``uint16`` (scaled to 8 bits) or ``bool``,
        shaped (h, w) gray, or (h, w, 3|4) RGB/RGBA.  Raises :class:`ImageError` for other
        dtypes, shapes or empty arrays."""
        import numpy as np

        array = np.asarray(array)
        if array.dtype == np.bool_:
            array = np.where(array, 255, 0).astype(np.uint8)
        elif array.dtype == np.uint16:
            array = (array >> 8).astype(np.uint8)
        if array.dtype != np.uint8:
            raise ImageError(f"numpy images must be uint8 or bool, not {array.dtype}")
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        if array.ndim == 2:
            channels = 1
        elif array.ndim == 3 and array.shape[2] in (3, 4):
            channels = int(array.shape[2])
        else:
            raise ImageError(f"numpy image shape {array.shape} is not (h, w) or (h, w, 3|4)")
        height, width = int(array.shape[0]), int(array.shape[1])
        _check_size(width, height)
        array = np.ascontiguousarray(array)
        return cls._from_raw(ffi.from_buffer(array), width, height, channels,
                             width * channels)

    @classmethod
    def from_pil(cls, image: Image.Image) -> Pix:
        """Copy a Pillow image (any mode; converted to L, RGB or RGBA), keeping its dpi."""
        mode = image.mode
        if mode.startswith("I"):  # 16/32-bit gray: keep the top 8 of 16 bits
            image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
        elif mode in ("1", "F"):
            image = image.convert("L")
        elif mode not in ("L", "RGB", "RGBA"):
            has_alpha = "A" in mode or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
        mode = image.mode
        width, height = image.size
        _check_size(width, height)
        channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
        pix = cls._from_raw(image.tobytes(), width, height, channels, width * channels)
        dpi = image.info.get("dpi")
        if dpi:
            with contextlib.suppress(TypeError, ValueError, IndexError):
                pix.resolution = (round(float(dpi[0])), round(float(dpi[1])))
        return pix

    @classmethod
    def _from_raw(cls, data: Any, width: int, height: int, channels: int, stride: int) -> Pix:
        out = ffi.new("PIX **")
        check(lib.tb_ocr_pix_from_raw(data, width, height, channels, stride, out),
              f"making a {width}x{height} image")
        return cls._adopt(out[0])

    # ---- properties --------------------------------------------------------------------

    @property
    def ptr(self) -> Any:
        """The ``PIX *`` (for use with the cffi library); raises ClosedError when closed."""
        if self._ptr is None:
            raise ClosedError("this Pix was closed")
        return self._ptr

    @property
    def width(self) -> int:
        return int(lib.pixGetWidth(self.ptr))

    @property
    def height(self) -> int:
        return int(lib.pixGetHeight(self.ptr))

    @property
    def depth(self) -> int:
        """Bits per pixel: 1, 2, 4, 8, 16 or 32."""
        return int(lib.pixGetDepth(self.ptr))

    @property
    def resolution(self) -> tuple[int, int]:
        """(x, y) resolution in pixels per inch; (0, 0) when the image has none."""
        return int(lib.pixGetXRes(self.ptr)), int(lib.pixGetYRes(self.ptr))

    @resolution.setter
    def resolution(self, value: tuple[int, int] | int) -> None:
        x, y = (value, value) if isinstance(value, int) else value
        if not (0 <= x < 1 << 20 and 0 <= y < 1 << 20):
            raise ValueError(f"resolution out of range: {value!r}")
        lib.pixSetResolution(self.ptr, int(x), int(y))

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<Pix closed>"
        return f"<Pix {self.width}x{self.height} depth={self.depth}>"

    # ---- output ------------------------------------------------------------------------

    def to_png(self) -> bytes:
        """The image encoded as PNG."""
        data = ffi.new("uint8_t **")
        size = ffi.new("size_t *")
        check(lib.tb_ocr_pix_encode(self.ptr, lib.IFF_PNG, data, size), "encoding as PNG")
        try:
            return bytes(ffi.buffer(data[0], size[0]))
        finally:
            lib.lept_free(data[0])

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the image to ``path`` as PNG."""
        with open(path, "wb") as fh:
            fh.write(self.to_png())

    def _raw(self) -> tuple[bytearray, int, int, int]:
        pix = self._displayable()
        channels = 1 if lib.pixGetDepth(pix.ptr) == 8 else int(lib.pixGetSpp(pix.ptr))
        channels = channels if channels in (1, 3, 4) else 3
        width, height = pix.width, pix.height
        out = bytearray(width * height * channels)
        check(lib.tb_ocr_pix_to_raw(pix.ptr, channels, ffi.from_buffer(out), len(out)),
              "exporting image pixels")
        return out, width, height, channels

    def _displayable(self) -> Pix:
        """This image as 8 bpp gray or 32 bpp colour without a colormap."""
        pix = self
        if lib.pixGetColormap(pix.ptr) != ffi.NULL:
            pix = _wrap(lib.pixRemoveColormap(pix.ptr, lib.REMOVE_CMAP_BASED_ON_SRC),
                        "cannot remove colormap")
        depth = pix.depth
        if depth not in (8, 32):
            converted = lib.pixConvertTo8(pix.ptr, 0) if depth <= 16 else \
                lib.pixConvertTo32(pix.ptr)
            pix = _wrap(converted, f"cannot convert a {depth} bpp image")
        return pix

    def _for_tesseract(self) -> Pix:
        """This image, or a converted copy when Tesseract cannot take its depth or
        colormap (Tesseract takes 1, 8 and 32 bpp without a colormap)."""
        if lib.pixGetColormap(self.ptr) != ffi.NULL or self.depth not in (1, 8, 32):
            return self._displayable()
        return self

    def to_numpy(self) -> numpy.ndarray:
        """A new uint8 array: (h, w) for gray and binary images, (h, w, 3|4) for colour."""
        import numpy as np

        raw, width, height, channels = self._raw()
        array = np.frombuffer(raw, dtype=np.uint8)
        return array.reshape((height, width) if channels == 1 else (height, width, channels))

    def to_pil(self) -> Image.Image:
        """A new Pillow image (mode L, RGB or RGBA), with the resolution as its dpi."""
        from PIL import Image

        raw, width, height, channels = self._raw()
        image = Image.frombytes({1: "L", 3: "RGB", 4: "RGBA"}[channels], (width, height),
                                bytes(raw))
        x, y = self.resolution
        if x and y:
            image.info["dpi"] = (x, y)
        return image

    # ---- preprocessing -----------------------------------------------------------------

    def to_gray(self) -> Pix:
        """An 8 bpp gray copy."""
        return _wrap(lib.pixConvertTo8(self.ptr, 0), "cannot convert image to gray")

    def deskew(self) -> Pix:
        """A copy rotated to straighten text lines (Leptonica's pixDeskew); if no skew
        can be measured the copy is unrotated."""
        return _wrap(lib.pixDeskew(self.ptr, 0), "cannot deskew image")

    def scale(self, factor_x: float, factor_y: float | None = None) -> Pix:
        """A copy scaled by ``factor_x`` horizontally and ``factor_y`` (default the same)
        vertically.  Raises ImageError when the result would be empty or too large."""
        factor_y = factor_x if factor_y is None else factor_y
        if not (factor_x > 0 and factor_y > 0):
            raise ValueError("scale factors must be positive")
        _check_size(max(1, round(self.width * factor_x)), max(1, round(self.height * factor_y)))
        return _wrap(lib.pixScale(self.ptr, float(factor_x), float(factor_y)),
                     "cannot scale image")

    def rotate(self, quarter_turns: int) -> Pix:
        """A copy rotated clockwise by ``quarter_turns`` * 90 degrees."""
        if not isinstance(quarter_turns, int):
            raise TypeError("quarter_turns must be an int")
        return _wrap(lib.pixRotateOrth(self.ptr, quarter_turns % 4), "cannot rotate image")

    def copy(self) -> Pix:
        """An independent copy."""
        return _wrap(lib.pixCopy(ffi.NULL, self.ptr), "cannot copy image")

    # ---- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        """Free the image now (it is also freed when garbage-collected)."""
        if self._ptr is not None:
            ptr, self._ptr = self._ptr, None
            ffi.release(ptr)

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pix_read(path: str | os.PathLike[str]) -> Pix:
    """Read the image file at ``path`` (first page of a multi-page TIFF).

    Raises :class:`ImageFileNotFound` or :class:`ImageError`.
    """
    return Pix.from_file(path)


def pix_read_pages(source: str | os.PathLike[str] | bytes) -> list[Pix]:
    """Every page of a (multi-page) TIFF, or the one image of any other file or bytes."""
    data = source if isinstance(source, bytes) else _read_file(source)
    fmt = _check_header(data)
    if fmt not in _TIFF_FORMATS:
        return [Pix.from_bytes(data)]
    pixa = lib.pixaReadMemMultipageTiff(data, len(data))
    if pixa == ffi.NULL:
        raise _fail("cannot decode TIFF pages")
    pixa = ffi.gc(pixa, lib.tb_ocr_pixa_free)
    try:
        pages = []
        for index in range(lib.pixaGetCount(pixa)):
            pix = lib.pixaGetPix(pixa, index, lib.L_CLONE)
            pages.append(_wrap(pix, f"cannot read TIFF page {index}"))
        if not pages:
            raise ImageError("TIFF has no pages")
        return pages
    finally:
        ffi.release(pixa)
