"""Hostile and ordinary documents for batch tests, made cheaply without PDF or TIFF
libraries: a PDF of N text pages written by hand (a few hundred bytes a page), and
multi-page TIFFs assembled from Pillow's pages so that single directories can be damaged.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image


def text_pdf(pages: int, *, width: float = 612, height: float = 792,
             words: str = "Page {n} of the long document") -> bytes:
    """A valid PDF of ``pages`` pages of ``width`` x ``height`` points, each with one line
    of Helvetica text naming its page number (``words`` formatted with ``n``)."""
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: page tree (filled in below)
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")  # 3
    kids = []
    for number in range(1, pages + 1):
        text = words.format(n=number).encode("latin-1")
        stream = b"BT /F1 24 Tf 72 %d Td (%s) Tj ET" % (int(height) - 120, text)
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        content = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
                       % (_number(width), _number(height), content))
        kids.append(b"%d 0 R" % len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), pages)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def _number(value: float) -> bytes:
    return (b"%d" % value) if value == int(value) else (b"%.2f" % value)


def tiff_pages(images: list[Image.Image], **options: object) -> bytes:
    """``images`` as one multi-page TIFF (Pillow's writer; ``options`` such as
    ``compression="group4"`` and ``dpi``)."""
    out = io.BytesIO()
    images[0].save(out, format="TIFF", save_all=True, append_images=images[1:], **options)
    return out.getvalue()


def a4_page(text: str, dpi: int = 300) -> Image.Image:
    """A bilevel A4 page at ``dpi`` with ``text`` near its top (for G4 TIFFs)."""
    from helpers.pages import render

    width, height = round(8.27 * dpi), round(11.69 * dpi)
    line = render([text])[0]
    page = Image.new("L", (width, height), 255)
    page.paste(line, (0, 0))
    return page.convert("1")


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def tiff_directory_offsets(data: bytes) -> list[int]:
    """The directory offsets of a little-endian classic TIFF (test-side oracle)."""
    import struct

    offsets = []
    offset = struct.unpack_from("<I", data, 4)[0]
    while offset and offset not in offsets:
        offsets.append(offset)
        entries = struct.unpack_from("<H", data, offset)[0]
        offset = struct.unpack_from("<I", data, offset + 2 + 12 * entries)[0]
    return offsets


def damage_tiff_page(data: bytes, page: int) -> bytes:
    """``data`` with page ``page``'s (from 0) strip byte count made to run past the end."""
    import struct

    out = bytearray(data)
    offset = tiff_directory_offsets(data)[page]
    entries = struct.unpack_from("<H", data, offset)[0]
    for entry in range(entries):
        at = offset + 2 + 12 * entry
        tag, kind, count = struct.unpack_from("<HHI", data, at)
        if tag == 279:
            assert count == 1, "one strip per page expected"
            if kind == 3:
                struct.pack_into("<H", out, at + 8, 0xFFFF)
            else:
                struct.pack_into("<I", out, at + 8, 0xFFFFFFF0)
            return bytes(out)
    raise AssertionError("no StripByteCounts")


def empty_directories_tiff(count: int, *, loop_to: int | None = None) -> bytes:
    """A TIFF of ``count`` one-entry directories (no page is decodable), the last one
    pointing back to directory ``loop_to`` when given: a page bomb of a few bytes each."""
    import struct

    size = 18
    out = bytearray(b"II*\0" + struct.pack("<I", 8))
    for index in range(count):
        at = 8 + index * size
        following = at + size if index + 1 < count else (
            0 if loop_to is None else 8 + loop_to * size)
        out += struct.pack("<HHHII", 1, 256, 4, 1, 1) + struct.pack("<I", following)
    return bytes(out)
