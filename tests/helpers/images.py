"""Hostile images for the OCR tests, written byte by byte: every format's header declaring
any size over a few bytes of data (decompression bombs), and the families the hostile
tests walk (every truncation point, multi-page TIFFs with a bad later page).

Nothing here decodes; Pillow only makes the well-formed files that are then cut.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

from PIL import Image

# ---- one header per format -----------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int, *, colour: int = 0, idat: bytes | None = None) -> bytes:
    """A PNG whose IHDR declares ``width`` x ``height`` (8-bit gray, or ``colour``), with
    ``idat`` (default: a few compressed zero bytes) as its only pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    body = zlib.compress(bytes(64)) if idat is None else idat
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body)
            + _png_chunk(b"IEND", b""))


def png_zeros(width: int, height: int) -> bytes:
    """A valid all-zero 8-bit gray PNG, compressed row by row (16383x16383 is ~1 MB)."""
    squeeze = zlib.compressobj(9)
    row = bytes(width + 1)
    parts = [squeeze.compress(row) for _ in range(height)]
    parts.append(squeeze.flush())
    return png(width, height, idat=b"".join(parts))


def _jpeg_segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


def jpeg(width: int, height: int, *, sof: int = 0xC0, components: int = 1,
         scan: bytes = b"\x00" * 8) -> bytes:
    """A JPEG frame header (baseline 0xC0, progressive 0xC2, arithmetic 0xC9/0xCA)
    declaring ``width`` x ``height``, one scan of ``scan`` bytes and an end marker."""
    quant = _jpeg_segment(0xDB, b"\x00" + bytes(range(1, 65)))
    frame = struct.pack(">BHHB", 8, height, width, components) + b"".join(
        struct.pack(">BBB", index + 1, 0x11, 0) for index in range(components))
    # One-symbol Huffman tables (DC: category 0; AC: end of block), 1-bit codes.
    huffman = (_jpeg_segment(0xC4, b"\x00" + bytes([1] + [0] * 15) + b"\x00")
               + _jpeg_segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00"))
    progressive = sof in (0xC2, 0xCA)
    selectors = b"".join(struct.pack(">BB", index + 1, 0) for index in range(components))
    scan_header = _jpeg_segment(0xDA, bytes([components]) + selectors
                                + (b"\x00\x00\x00" if progressive else b"\x00\x3f\x00"))
    return (b"\xff\xd8" + quant + _jpeg_segment(sof, frame)
            + (b"" if sof in (0xC9, 0xCA) else huffman) + scan_header + scan + b"\xff\xd9")


def _tiff_entries(entries: list[tuple[int, int, int, int]]) -> bytes:
    return struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", tag, kind, count, value) for tag, kind, count, value in entries)


def tiff(width: int, height: int, *, compression: int = 1, strip: bytes = b"\x00" * 16,
         bits: int = 8, samples: int = 1) -> bytes:
    """A one-page little-endian TIFF declaring ``width`` x ``height`` with one strip of
    ``strip`` bytes."""
    header_size, entry_count = 8, 9
    strip_at = header_size + 2 + 12 * entry_count + 4
    entries = [
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, bits), (259, 3, 1, compression),
        (262, 3, 1, 1), (273, 4, 1, strip_at), (277, 3, 1, samples), (278, 4, 1, height),
        (279, 4, 1, len(strip)),
    ]
    return b"II*\x00" + struct.pack("<I", header_size) + _tiff_entries(entries) \
        + b"\x00" * 4 + strip


def webp(width: int, height: int, kind: str = "VP8L") -> bytes:
    """A WebP (lossless VP8L, lossy VP8 or extended VP8X) declaring ``width`` x ``height``
    (VP8 and VP8L hold at most 16384 a side, VP8X's canvas 16777216)."""
    if kind == "VP8L":
        bits = (width - 1) | (height - 1) << 14
        chunk = b"VP8L" + struct.pack("<I", 5 + 9) + b"\x2f" + struct.pack("<I", bits) + bytes(9)
    elif kind == "VP8 ":
        body = b"\x10\x02\x00\x9d\x01\x2a" + struct.pack("<HH", width, height) + bytes(10)
        chunk = b"VP8 " + struct.pack("<I", len(body)) + body
    else:
        canvas = struct.pack("<I", width - 1)[:3] + struct.pack("<I", height - 1)[:3]
        inner = webp(min(width, 16384), min(height, 16384), "VP8L")[12:]
        chunk = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4 + canvas + inner
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def pnm(width: int, height: int, kind: int = 5) -> bytes:
    """A PNM (P1..P6, or P7 PAM) header declaring ``width`` x ``height`` and a few bytes."""
    if kind == 7:
        return (f"P7\nWIDTH {width}\nHEIGHT {height}\nDEPTH 1\nMAXVAL 255\n"
                "TUPLTYPE GRAYSCALE\nENDHDR\n").encode() + bytes(16)
    maxval = "" if kind in (1, 4) else " 255"
    body = b"0 1 0 1\n" if kind in (1, 2, 3) else bytes(16)
    return f"P{kind}\n{width} {height}{maxval}\n".encode() + body


def bmp(width: int, height: int, bpp: int = 24) -> bytes:
    """A BMP (BITMAPINFOHEADER, uncompressed) declaring ``width`` x ``height``."""
    palette = 4 * (1 << bpp) if bpp <= 8 else 0
    offset = 14 + 40 + palette
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bpp, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", offset + 16, 0, 0, offset) + info + bytes(palette) \
        + bytes(16)


def gif(width: int, height: int, *, frames: int = 1, frame: tuple[int, int] | None = None) -> bytes:
    """A GIF with a ``width`` x ``height`` screen and ``frames`` images (each ``frame``
    pixels, default the screen) of almost no LZW data."""
    frame_width, frame_height = frame or (width, height)
    out = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + bytes(6)
    for _ in range(frames):
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, frame_width, frame_height, 0)
        out += b"\x02\x02\x4c\x01\x00"  # code size 2, one sub-block: clear, end
    return out + b"\x3b"


def j2k(width: int, height: int, *, components: int = 1, tile: int | None = None) -> bytes:
    """A JPEG 2000 codestream declaring ``width`` x ``height`` and no tile data."""
    tile = tile or max(width, height)
    siz = struct.pack(">HIIIIIIIIH", 0, width, height, 0, 0, tile, tile, 0, 0, components)
    siz += b"".join(b"\x07\x01\x01" for _ in range(components))
    cod = b"\xff\x52" + struct.pack(">HBBHBBBBBB", 12, 0, 0, 1, 0, 5, 4, 4, 0, 0)
    qcd = b"\xff\x5c" + struct.pack(">HB", 4, 0x40) + b"\x48"
    return b"\xff\x4f\xff\x51" + struct.pack(">H", len(siz) + 2) + siz + cod + qcd + b"\xff\xd9"


def jp2(width: int, height: int, *, components: int = 1) -> bytes:
    """The same codestream in a JP2 file (signature, ftyp, jp2h with ihdr, jp2c)."""
    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", 8 + len(body)) + kind + body

    ihdr = box(b"ihdr", struct.pack(">IIHBBBB", height, width, components, 7, 7, 0, 0))
    colr = box(b"colr", struct.pack(">BBBI", 1, 0, 0, 17 if components == 1 else 16))
    return (box(b"jP  ", b"\r\n\x87\n") + box(b"ftyp", b"jp2 \x00\x00\x00\x00jp2 ")
            + box(b"jp2h", ihdr + colr) + box(b"jp2c", j2k(width, height,
                                                           components=components)))


def bomb_headers(width: int, height: int) -> dict[str, bytes]:
    """Every format's few-byte header declaring ``width`` x ``height`` (each side at most
    65535; WebP VP8/VP8L sides are clamped to the 16383 the format can declare)."""
    side = (min(width, 16383), min(height, 16383))
    return {
        "png": png(width, height),
        "png-rgba": png(width, height, colour=6),
        "jpeg-baseline": jpeg(width, height),
        "jpeg-progressive": jpeg(width, height, sof=0xC2, components=3),
        "jpeg-arithmetic": jpeg(width, height, sof=0xC9, components=3),
        "jpeg-arithmetic-progressive": jpeg(width, height, sof=0xCA, components=3),
        "tiff-raw": tiff(width, height),
        "tiff-lzw": tiff(width, height, compression=5, strip=b"\x80\x00\x40\x00" * 4),
        "tiff-deflate": tiff(width, height, compression=8, strip=zlib.compress(bytes(64))),
        "tiff-packbits": tiff(width, height, compression=32773, strip=b"\x81\x00" * 8),
        "tiff-g4": tiff(width, height, compression=4, bits=1, strip=b"\x00\x10\x01" * 4),
        "webp-lossless": webp(*side, "VP8L"),
        "webp-lossy": webp(*side, "VP8 "),
        "webp-extended": webp(width, height, "VP8X"),
        "pgm": pnm(width, height, 5),
        "ppm": pnm(width, height, 6),
        "pbm": pnm(width, height, 4),
        "pbm-plain": pnm(width, height, 1),
        "pgm-plain": pnm(width, height, 2),
        "pam": pnm(width, height, 7),
        "bmp": bmp(width, height),
        "bmp-8": bmp(width, height, 8),
        "gif": gif(width, height),
        "j2k": j2k(width, height, components=3),
        "jp2": jp2(width, height, components=3),
    }


# ---- families --------------------------------------------------------------------------

#: Pillow encoders the truncation families walk: (format, save options, image mode).
ENCODINGS: list[tuple[str, dict[str, object], str]] = [
    ("PNG", {}, "L"), ("PNG", {}, "RGB"), ("PNG", {"interlace": 1}, "RGB"), ("PNG", {}, "1"),
    ("JPEG", {}, "RGB"), ("JPEG", {"progressive": True}, "RGB"), ("JPEG", {}, "L"),
    ("TIFF", {}, "RGB"), ("TIFF", {"compression": "tiff_lzw"}, "L"),
    ("TIFF", {"compression": "tiff_adobe_deflate"}, "RGB"),
    ("TIFF", {"compression": "packbits"}, "L"), ("TIFF", {"compression": "group4"}, "1"),
    ("TIFF", {"compression": "jpeg"}, "RGB"),
    ("BMP", {}, "RGB"), ("BMP", {}, "L"), ("GIF", {}, "L"), ("WEBP", {}, "RGB"),
    ("WEBP", {"lossless": True}, "RGB"), ("PPM", {}, "RGB"), ("PPM", {}, "L"),
    ("PPM", {}, "1"), ("JPEG2000", {}, "RGB"), ("JPEG2000", {"no_jp2": True}, "L"),
]


def encode(image: Image.Image, fmt: str, options: dict[str, object], mode: str) -> bytes:
    buffer = io.BytesIO()
    image.convert(mode).save(buffer, fmt, **options)
    return buffer.getvalue()


def sample_image(width: int = 96, height: int = 40) -> Image.Image:
    """A small gray page with some structure (so compressed data is not trivial)."""
    image = Image.new("L", (width, height), 255)
    for x in range(0, width, 7):
        for y in range(x % 5, height, 3):
            image.putpixel((x, y), (x * 5 + y * 3) % 256)
    return image


def multipage_tiff(compression: str | None = None, pages: int = 3, *,
                   bilevel: bool = False) -> bytes:
    """A ``pages``-page TIFF made by Pillow: gray, RGB and bilevel pages in turn (all
    bilevel with ``bilevel``; no bilevel ones for JPEG compression)."""
    modes = ["1"] if bilevel else ["L", "RGB"] if compression == "jpeg" else ["L", "RGB", "1"]
    images = [sample_image(96 + 8 * index, 40 + 4 * index).convert(modes[index % len(modes)])
              for index in range(pages)]
    buffer = io.BytesIO()
    options = {} if compression is None else {"compression": compression}
    images[0].save(buffer, "TIFF", save_all=True, append_images=images[1:], **options)
    return buffer.getvalue()


def truncation_points(size: int, dense_below: int = 400, step: int | None = None) -> Iterator[int]:
    """Every cut of a ``size``-byte file below ``dense_below`` bytes, then every ``step``
    bytes (default: about 300 cuts in all), always including ``size - 1``."""
    yield from range(1, min(size, dense_below))
    step = step or max(1, (size - dense_below) // 300)
    yield from range(dense_below, size, step)
    if size - 1 >= dense_below:
        yield size - 1


def with_big_page(pages: bytes, width: int = 30000, height: int = 30000) -> bytes:
    """A multi-page TIFF whose second page's directory declares ``width`` x ``height``
    (its strips left as they were)."""
    data = bytearray(pages)
    first = struct.unpack_from("<I", data, 4)[0]
    count = struct.unpack_from("<H", data, first)[0]
    second = struct.unpack_from("<I", data, first + 2 + 12 * count)[0]
    count = struct.unpack_from("<H", data, second)[0]
    for index in range(count):
        at = second + 2 + 12 * index
        tag = struct.unpack_from("<H", data, at)[0]
        if tag in (256, 257):
            value = width if tag == 256 else height
            struct.pack_into("<HHII", data, at, tag, 4, 1, value)
    return bytes(data)


def noise_page(width: int = 3600, height: int = 1800, seed: int = 0) -> Image.Image:
    """Black-and-white noise: Tesseract's layout analysis, which cannot be interrupted,
    spends about 15 s on 3600x1800 of it."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return Image.fromarray(((rng.random((height, width)) > 0.5) * 255).astype(np.uint8))


def leptonica_reads_jpeg2000() -> bool:
    """Whether the Leptonica tightbind loaded decodes JPEG 2000 (Debian's is built with
    OpenJPEG; the wheel's is not, and refuses such files whole with an ImageError)."""
    from tightbind.ocr import ImageError, Pix

    try:
        Pix.from_bytes(encode(sample_image(), "JPEG2000", {}, "L"))
    except ImageError as exc:
        if "function not present" in str(exc):
            return False
        raise
    return True
