"""Leptonica images (``Pix``): reading, converting and basic preprocessing.

Only Leptonica's accessor functions are used (its struct fields are private since 1.83).
Every ``Pix`` owns one Leptonica image, freed by ``pixDestroy`` when the object is
garbage-collected or closed; operations return new ``Pix`` objects.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tightbind.ocr._native import check, ffi, lib, log_messages, take_messages
from tightbind.ocr.errors import ClosedError, ImageError, ImageFileNotFound

if TYPE_CHECKING:  # pragma: no cover
    import numpy
    from PIL import Image
    from typing_extensions import Self

__all__ = ["MAX_IMAGE_PIXELS", "MAX_JPEG_SCANS", "MAX_PAGES", "MAX_SIDE", "Checked", "Pix",
           "check_image", "iter_pages", "pix_read", "pix_read_pages", "pixel_limit",
           "to_pix"]

#: Images with more pixels than this are refused before anything is decoded, from the
#: sizes their headers declare (every TIFF page, every GIF frame): Pillow's
#: decompression-bomb error threshold, 2 x 89,478,485 pixels.  Set
#: ``tightbind.ocr.MAX_IMAGE_PIXELS`` (or this) to change it; it is read at every call.
MAX_IMAGE_PIXELS = 2 * 89_478_485

#: Tesseract refuses images with a side longer than this.
MAX_SIDE = 32767

#: Most pages (TIFF directories) one file may have, and most scans one JPEG may have (each
#: scan of a progressive JPEG walks the whole image again); the shim refuses more.
MAX_PAGES = int(lib.TB_OCR_MAX_PAGES)
MAX_JPEG_SCANS = int(lib.TB_OCR_MAX_JPEG_SCANS)


def pixel_limit() -> int:
    """The current ``MAX_IMAGE_PIXELS``; TypeError/ValueError when it is set to a non-int
    or a value below 1."""
    limit = MAX_IMAGE_PIXELS
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"tightbind.ocr.MAX_IMAGE_PIXELS must be an int, not {limit!r}")
    if limit < 1:
        raise ValueError(f"tightbind.ocr.MAX_IMAGE_PIXELS must be at least 1, not {limit}")
    return min(limit, 1 << 62)


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


def _too_large(width: int, height: int, limit: int, what: str = "image") -> ImageError:
    return ImageError(f"{what} of {width}x{height} pixels ({width * height:,}) is larger than "
                      f"MAX_IMAGE_PIXELS ({limit:,}); set tightbind.ocr.MAX_IMAGE_PIXELS "
                      "higher to read it")


@dataclass(frozen=True)
class Checked:
    """What :func:`check_image` found: Leptonica's format code, the offsets of a TIFF's
    pages (empty for other formats) and every page's pixels together."""

    format: int
    page_offsets: list[int]
    total_pixels: int

    @property
    def pages(self) -> int:
        return max(1, len(self.page_offsets))


def check_image(data: bytes, limit: int | None = None) -> Checked:
    """Check encoded image bytes before any decoder sees them (``tb_ocr_image_check``):
    a format tightbind reads, every declared size within ``limit`` (default
    ``MAX_IMAGE_PIXELS``), every chunk, strip, scan or frame inside the data.

    Raises :class:`ImageError` naming the size and the setting, or what is damaged.
    """
    limit = pixel_limit() if limit is None else limit
    log_messages(logging.DEBUG)  # so that the first line after the call is its reason
    info = ffi.new("tb_ocr_image_info *")
    capacity = 16
    while True:
        offsets = ffi.new("uint64_t[]", capacity)
        rc = lib.tb_ocr_image_check(data, len(data), limit, info, offsets, capacity)
        if rc != lib.TB_OCR_FULL:
            break
        capacity = info.pages
    reason = take_messages().splitlines()
    if rc == lib.TB_OCR_E_TOO_LARGE:
        width, height = int(info.width), int(info.height)
        if width * height <= limit:  # frames or pages together
            raise ImageError(f"{reason[0] if reason else 'image'}: {int(info.total_pixels):,} "
                             f"pixels together, more than MAX_IMAGE_PIXELS ({limit:,}); set "
                             "tightbind.ocr.MAX_IMAGE_PIXELS higher to read it")
        what = f"page {info.page + 1} of a TIFF" if info.format == lib.IFF_TIFF else "image"
        raise _too_large(width, height, limit, what)
    if rc in (lib.TB_OCR_E_IMAGE, lib.TB_OCR_E_FORMAT):
        raise ImageError(f"cannot read image: {reason[0] if reason else 'damaged data'}")
    check(rc, "checking image data")
    pages = [int(offsets[i]) for i in range(info.pages)] if info.format == lib.IFF_TIFF \
        else []
    return Checked(int(info.format), pages, int(info.total_pixels))


def _check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"empty image ({width}x{height} pixels)")
    limit = pixel_limit()
    if width * height > limit:
        raise _too_large(width, height, limit)


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
        """Decode an encoded image: PNG, JPEG, TIFF (first page), BMP, PNM, GIF, WebP or
        JPEG 2000, checked whole by :func:`check_image` first.

        Raises :class:`ImageError` for empty, unknown, damaged, truncated or oversized
        data (over ``tightbind.ocr.MAX_IMAGE_PIXELS``).
        """
        data = bytes(data)
        limit = pixel_limit()
        checked = check_image(data, limit)
        if checked.format == lib.IFF_TIFF:
            return _tiff_page(data, checked.page_offsets[0], 0)
        if checked.format == lib.IFF_JFIF_JPEG:
            out = ffi.new("PIX **")
            rc = lib.tb_ocr_read_jpeg(data, len(data), limit, out)
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
        if array.ndim in (2, 3):  # refuse a huge array before converting (copying) it
            _check_size(int(array.shape[1]), int(array.shape[0]))
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
        _check_size(*image.size)  # before any conversion copies it
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


def to_pix(image: Any) -> Pix:
    """Turn a path, encoded bytes, Pillow image, numpy array or Pix into a Pix."""
    if isinstance(image, Pix):
        return image
    if isinstance(image, (str, os.PathLike)):
        return Pix.from_file(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return Pix.from_bytes(image)
    module = type(image).__module__ or ""
    if module.startswith("PIL."):
        return Pix.from_pil(image)
    if module == "numpy" or hasattr(image, "__array_interface__"):
        return Pix.from_numpy(image)
    raise TypeError(f"cannot make an image from {type(image).__name__}: pass a path, "
                    "encoded bytes, a Pillow image, a numpy array or a Pix")


def pix_read(path: str | os.PathLike[str]) -> Pix:
    """Read the image file at ``path`` (first page of a multi-page TIFF).

    Raises :class:`ImageFileNotFound` or :class:`ImageError`.
    """
    return Pix.from_file(path)


def _tiff_page(data: bytes, offset: int, index: int) -> Pix:
    """Decode the TIFF page whose directory is at ``offset`` (checked by check_image)."""
    cursor = ffi.new("size_t *", offset)
    return _wrap(lib.pixReadMemFromMultipageTiff(data, len(data), cursor),
                 f"cannot decode TIFF page {index + 1}")


def _source_bytes(source: str | os.PathLike[str] | bytes) -> bytes:
    return bytes(source) if isinstance(source, (bytes, bytearray, memoryview)) \
        else _read_file(source)


def iter_pages(source: str | os.PathLike[str] | bytes) -> Iterator[Pix]:
    """Decode the pages of a (multi-page) TIFF one at a time, or the one image of any other
    file or bytes.  Every page is checked before the first is decoded; the pixel limit
    applies to each page."""
    data = _source_bytes(source)
    return _decode_pages(data, check_image(data))


def _decode_pages(data: bytes, checked: Checked) -> Iterator[Pix]:
    if checked.format != lib.IFF_TIFF:
        yield Pix.from_bytes(data)
        return
    for index, offset in enumerate(checked.page_offsets):
        yield _tiff_page(data, offset, index)


def pix_read_pages(source: str | os.PathLike[str] | bytes) -> list[Pix]:
    """Every page of a (multi-page) TIFF, or the one image of any other file or bytes.

    Every page's directory, size and strips are checked before any page is decoded.  All
    pages are held in memory at once, so their pixels together must be within
    ``tightbind.ocr.MAX_IMAGE_PIXELS`` (``TessApi.process_pages`` reads one page at a
    time instead).  Raises :class:`ImageFileNotFound` or :class:`ImageError`.
    """
    data = _source_bytes(source)
    limit = pixel_limit()
    checked = check_image(data, limit)
    if checked.total_pixels > limit:
        raise ImageError(f"the {checked.pages} pages of this TIFF have {checked.total_pixels:,} "
                         f"pixels together, more than MAX_IMAGE_PIXELS ({limit:,}) allows in "
                         "memory at once; use TessApi.process_pages (one page at a time) or "
                         "set tightbind.ocr.MAX_IMAGE_PIXELS higher")
    return list(_decode_pages(data, checked))
