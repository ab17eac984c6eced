"""tightbind.ocr.pix: decoding, converting and refusing images."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers.images import (
    ENCODINGS,
    bmp,
    encode,
    gif,
    jpeg,
    leptonica_reads_jpeg2000,
    multipage_tiff,
    sample_image,
    tiff,
    truncation_points,
    webp,
)
from helpers.pages import (
    PARAGRAPH,
    cli,
    recognized,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tightbind.ocr import (
    MAX_IMAGE_PIXELS,
    ClosedError,
    ImageError,
    ImageFileNotFound,
    Pix,
    pix_read,
    pix_read_pages,
)
from tightbind.ocr.pix import iter_pages

TOO_LARGE = r"larger than MAX_IMAGE_PIXELS .*tightbind\.ocr\.MAX_IMAGE_PIXELS"

# ---- Pix ---------------------------------------------------------------------------------


def test_pix_properties_and_round_trips(pages, tmp_path):
    pix = pix_read(pages["line"])
    image = Image.open(pages["line"])
    assert (pix.width, pix.height) == image.size
    assert pix.depth == 8
    assert pix.resolution == (300, 300)
    assert np.array_equal(pix.to_numpy(), np.asarray(image))
    assert Image.open(io.BytesIO(pix.to_png())).tobytes() == image.tobytes()
    assert pix.to_pil().tobytes() == image.tobytes()
    rgba = np.random.default_rng(1).integers(0, 256, (7, 5, 4), dtype=np.uint8)
    assert np.array_equal(Pix.from_numpy(rgba).to_numpy(), rgba)
    rgb = rgba[:, :, :3]
    assert np.array_equal(Pix.from_numpy(rgb).to_numpy(), rgb)
    assert np.array_equal(Pix.from_pil(Image.fromarray(rgb)).to_pil(), Image.fromarray(rgb))
    pix.write(tmp_path / "out.png")
    assert pix_read(tmp_path / "out.png").to_numpy().tolist() == pix.to_numpy().tolist()
    pix.resolution = (150, 200)
    assert pix.resolution == (150, 200)
    binary = Pix.from_pil(image.convert("1"))
    assert binary.to_numpy().shape == (pix.height, pix.width)
    wide = np.asarray(image).astype(np.uint16) * 257  # the same picture in 16 bits
    assert np.array_equal(Pix.from_numpy(wide).to_numpy(), np.asarray(image))
    assert np.array_equal(Pix.from_pil(Image.fromarray(wide)).to_numpy(), np.asarray(image))
    palette = image.convert("P")
    assert np.array_equal(Pix.from_pil(palette).to_numpy(),
                          np.asarray(palette.convert("RGB")))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 24), st.integers(1, 24), st.sampled_from([None, 3, 4]), st.data())
def test_pix_numpy_and_png_round_trips(height, width, channels, data):
    shape = (height, width) if channels is None else (height, width, channels)
    raw = data.draw(st.binary(min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    array = np.frombuffer(raw, dtype=np.uint8).reshape(shape)
    pix = Pix.from_numpy(array)
    assert (pix.width, pix.height, pix.depth) == (width, height, 8 if channels is None else 32)
    assert np.array_equal(pix.to_numpy(), array)
    assert np.array_equal(Pix.from_bytes(pix.to_png()).to_numpy(), array)
    assert np.array_equal(np.asarray(pix.to_pil()), array)


def test_pix_preprocessing(api, pages):
    pix = Pix.from_pil(Image.open(pages["line"]).convert("RGB"))
    assert pix.depth == 32
    gray = pix.to_gray()
    assert gray.depth == 8 and (gray.width, gray.height) == (pix.width, pix.height)
    half = pix.scale(0.5)
    assert (half.width, half.height) == (pix.width // 2, pix.height // 2)
    assert pix.scale(2, 1).width == 2 * pix.width
    turned = pix.rotate(1)
    assert (turned.width, turned.height) == (pix.height, pix.width)
    assert np.array_equal(pix.rotate(4).to_numpy(), pix.to_numpy())
    assert np.array_equal(turned.rotate(3).to_numpy(), pix.to_numpy())
    skewed = Pix.from_pil(Image.open(pages["paragraph"]).rotate(3, expand=True,
                                                                  fillcolor=255))
    recognized(api, skewed.deskew())
    assert api.get_utf8_text().split() == " ".join(PARAGRAPH).split()


def test_multipage_tiff(pages, tmp_path, api):
    first = Image.open(pages["line"])
    second = Image.open(pages["paragraph"])
    path = tmp_path / "two.tif"
    first.save(path, save_all=True, append_images=[second], dpi=(300, 300))
    tiff_pages = pix_read_pages(path)
    assert [(p.width, p.height) for p in tiff_pages] == [first.size, second.size]
    assert pix_read_pages(path.read_bytes())[1].to_numpy().shape == second.size[::-1]
    assert len(pix_read_pages(pages["line"])) == 1
    recognized(api, tiff_pages[1])
    assert api.get_utf8_text() == cli(pages["paragraph"])


def test_pix_close():
    pix = Pix.from_numpy(np.zeros((4, 4), dtype=np.uint8))
    with pix:
        assert pix.width == 4
    assert pix.closed
    with pytest.raises(ClosedError):
        _ = pix.width
    pix.close()  # twice is fine
    with pytest.raises(TypeError):
        Pix()


@pytest.mark.parametrize("bad", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_unreadable_bytes(api, bad):
    with pytest.raises(ImageError):
        api.set_image(bad)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "BMP", "GIF", "WEBP", "PPM"])
def test_truncated_files(api, pages, fmt):
    buffer = io.BytesIO()
    Image.open(pages["paragraph"]).save(buffer, fmt)
    data = buffer.getvalue()
    with pytest.raises(ImageError):
        api.set_image(data[: len(data) // 2])
    api.set_image(data)  # the whole file is fine


def test_corrupt_png_chunk(api, pages):
    data = bytearray(pages["line"].read_bytes())
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(ImageError, match="CRC"):
        api.set_image(bytes(data))


def test_missing_and_directory_paths(api, tmp_path):
    with pytest.raises(ImageFileNotFound) as info:
        api.set_image(tmp_path / "missing.png")
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(ImageFileNotFound):
        pix_read(tmp_path)


def test_bad_arrays_and_types(api):
    for array in (np.zeros((0, 10), np.uint8), np.zeros((5, 5), np.float32),
                  np.zeros((5, 5, 2), np.uint8), np.zeros((2, 2, 2, 2), np.uint8)):
        with pytest.raises(ImageError):
            api.set_image(array)
    with pytest.raises(TypeError):
        api.set_image(12345)
    with pytest.raises(TypeError):
        api.set_image_pix(b"bytes")
    with pytest.raises(ImageError):
        api.set_image(Image.new("L", (40000, 10), 255))


def test_oversized_header_refused_before_decoding(tmp_path):
    side = 1 << 15
    assert side * side > MAX_IMAGE_PIXELS
    # A PNG header claiming 32768x32768 pixels, without the pixels.
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    png = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
           + struct.pack(">I", zlib.crc32(chunk))
           + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND")))
    with pytest.raises(ImageError, match=TOO_LARGE):
        Pix.from_bytes(png)


def test_damaged_images_never_crash_or_print():
    script = Path(__file__).parent.parent / "native" / "ocr_mutate.py"
    done = subprocess.run([sys.executable, str(script), "7", "600"], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == ""
    decoded, refused = map(int, done.stdout.split())
    assert decoded + refused == 600 and decoded > 0 and refused > 0


def test_jpeg_reader(api, pages, tmp_path):
    source = Image.open(pages["paragraph"])
    path = tmp_path / "page.jpg"
    source.convert("RGB").save(path, quality=95, dpi=(300, 300))
    pix = pix_read(path)
    assert (pix.depth, pix.resolution) == (32, (300, 300))
    decoded = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert np.abs(pix.to_numpy().astype(int) - decoded).max() <= 2
    recognized(api, pix)
    assert api.get_utf8_text() == cli(path)
    gray = tmp_path / "gray.jpg"
    source.save(gray, quality=95)
    assert pix_read(gray).depth == 8
    cmyk = tmp_path / "cmyk.jpg"
    Image.open(pages["line"]).convert("CMYK").save(cmyk, quality=95)
    expected = np.asarray(Image.open(cmyk).convert("RGB")).astype(int)
    assert np.abs(pix_read(cmyk).to_numpy().astype(int) - expected).max() <= 3
    with pytest.raises(ImageError, match="JPEG"):
        Pix.from_bytes(path.read_bytes()[:600])


def test_jpeg_size_refused_before_decoding(tmp_path):
    path = tmp_path / "big.jpg"
    Image.new("L", (20000, 20000), 255).save(path, quality=10)
    assert MAX_IMAGE_PIXELS < 20000 * 20000
    with pytest.raises(ImageError, match=TOO_LARGE):
        pix_read(path)


# ---- every image checked whole before decoding (tb_ocr_image_check) ----------------------


def test_max_image_pixels_is_pillows_bomb_limit_and_settable_on_the_package():
    import tightbind.ocr as ocr
    from tightbind.ocr import pix as pix_module

    assert ocr.MAX_IMAGE_PIXELS == MAX_IMAGE_PIXELS == 2 * 89_478_485
    image = Image.new("L", (50, 40), 255)
    encoded = io.BytesIO()
    image.save(encoded, "PNG")
    try:
        ocr.MAX_IMAGE_PIXELS = 50 * 40 - 1
        assert pix_module.MAX_IMAGE_PIXELS == 50 * 40 - 1
        for make in (lambda: Pix.from_bytes(encoded.getvalue()), lambda: Pix.from_pil(image),
                     lambda: Pix.from_numpy(np.asarray(image))):
            with pytest.raises(ImageError, match=r"50x40 pixels \(2,000\) .*\(1,999\)"):
                make()
        ocr.MAX_IMAGE_PIXELS = 50 * 40
        assert Pix.from_bytes(encoded.getvalue()).width == 50
        for bad in (0, -5, 1.5, "100", True):
            with pytest.raises((TypeError, ValueError)):
                ocr.MAX_IMAGE_PIXELS = bad
    finally:
        ocr.MAX_IMAGE_PIXELS = 2 * 89_478_485
    assert pix_module.MAX_IMAGE_PIXELS == 2 * 89_478_485


@pytest.mark.parametrize(("fmt", "options", "mode"), ENCODINGS,
                         ids=[f"{f}-{m}-{'-'.join(o)}" for f, o, m in ENCODINGS])
def test_every_truncation_point_of_every_format_is_refused(fmt, options, mode):
    """The whole file decodes to Pillow's pixels; every cut of it is an ImageError."""
    image = sample_image()
    data = encode(image, fmt, options, mode)
    if fmt == "JPEG2000" and not leptonica_reads_jpeg2000():
        with pytest.raises(ImageError):
            Pix.from_bytes(data)
        pytest.skip("this Leptonica has no JPEG 2000 decoder: such files are refused whole")
    whole = Pix.from_bytes(data)
    assert (whole.width, whole.height) == image.size
    if fmt not in ("JPEG", "WEBP", "JPEG2000") or options.get("lossless"):
        expected = np.asarray(Image.open(io.BytesIO(data)).convert("L" if mode != "RGB"
                                                                   else "RGB"))
        got = whole.to_numpy() if mode == "RGB" else whole.to_gray().to_numpy()
        assert np.array_equal(got[..., :3] if got.ndim == 3 else got, expected)
    accepted = []
    for cut in truncation_points(len(data), dense_below=len(data)):
        try:
            Pix.from_bytes(data[:cut])
            accepted.append(cut)
        except ImageError:
            pass
    assert not accepted


@pytest.mark.parametrize(("label", "data", "reason"), [
    ("bigtiff", b"II+\x00\x08\x00\x00\x00" + bytes(32), "BigTIFF"),
    ("arithmetic", jpeg(100, 100, sof=0xC9), "arithmetic"),
    ("lossless", jpeg(100, 100, sof=0xC3), "lossless"),
    ("pdf", b"%PDF-1.4\n" + bytes(64), "not an image format"),
    ("spix", b"spix" + bytes(64), "not an image format"),
    ("old-jpeg-tiff", tiff(10, 10, compression=6), "compressed in a way"),
    ("rle-bmp", bmp(10, 10).replace(b"\x00\x00\x00\x00\x00\x00\x00\x00", b"\x01" + bytes(7),
                                     1), "BMP"),
    ("animated-webp", b"RIFF" + struct.pack("<I", len(webp(10, 10, "VP8X")) + 6)
     + webp(10, 10, "VP8X")[8:] + b"ANIM" + struct.pack("<I", 6) + bytes(6), "animated"),
])
def test_formats_and_variants_not_read(label, data, reason):
    from tightbind.ocr._native import check, ffi, lib

    with pytest.raises(ImageError, match=reason):
        Pix.from_bytes(data)
    info = ffi.new("tb_ocr_image_info *")
    rc = lib.tb_ocr_image_check(data, len(data), 10**9, info, ffi.NULL, 0)
    assert rc in (lib.TB_OCR_E_FORMAT, lib.TB_OCR_E_IMAGE)
    with pytest.raises(ImageError):
        check(rc, "checking")
    if label in ("bigtiff", "arithmetic", "pdf", "spix", "old-jpeg-tiff", "animated-webp"):
        assert rc == lib.TB_OCR_E_FORMAT


def test_check_image_reports_pages_and_sizes():
    from tightbind.ocr._native import ffi, lib
    from tightbind.ocr.pix import MAX_PAGES, check_image

    pages = multipage_tiff()
    checked = check_image(pages)
    assert checked.pages == 3 and checked.format == lib.IFF_TIFF
    assert checked.total_pixels == 96 * 40 + 104 * 44 + 112 * 48
    assert len(pix_read_pages(pages)) == 3
    assert check_image(pages, 112 * 48).pages == 3  # the limit applies to each page
    with pytest.raises(ImageError, match="page 3 of a TIFF of 112x48"):
        check_image(pages, 112 * 48 - 1)
    import tightbind.ocr as ocr

    try:
        ocr.MAX_IMAGE_PIXELS = 112 * 48 + 1
        with pytest.raises(ImageError, match=r"3 pages .* together"):
            pix_read_pages(pages)
        assert len(list(iter_pages(pages))) == 3  # one at a time is fine
    finally:
        ocr.MAX_IMAGE_PIXELS = 2 * 89_478_485
    info = ffi.new("tb_ocr_image_info *")
    offsets = ffi.new("uint64_t[]", 1)
    assert lib.tb_ocr_image_check(pages, len(pages), 10**9, info, offsets, 1) == lib.TB_OCR_FULL
    assert info.pages == 3 and MAX_PAGES == 10000
    assert lib.tb_ocr_image_check(pages, len(pages), 10**9, ffi.NULL, offsets, 1) == lib.TB_E_ARG
    gif_frames = gif(100, 100, frames=3)
    assert check_image(gif_frames).total_pixels == 30000
    with pytest.raises(ImageError, match="GIF frames together"):
        check_image(gif_frames, 25000)


def test_tiff_directory_loops_and_page_limit_refused():
    from tightbind.ocr.pix import check_image

    data = bytearray(tiff(4, 4))
    entries = struct.unpack_from("<H", data, 8)[0]
    struct.pack_into("<I", data, 8 + 2 + 12 * entries, 8)  # the next directory is itself
    with pytest.raises(ImageError, match="loop"):
        check_image(bytes(data))


def test_jpeg_scans_limited():
    from tightbind.ocr.pix import MAX_JPEG_SCANS

    data = jpeg(16, 16, sof=0xC2)
    scan = data[data.index(b"\xff\xda"):-2]
    many = data[:data.index(b"\xff\xda")] + scan * (MAX_JPEG_SCANS + 1) + b"\xff\xd9"
    with pytest.raises(ImageError, match="scans"):
        Pix.from_bytes(many)
