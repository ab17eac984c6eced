"""tightbind.ocr.pix: decoding, converting and refusing images."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
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
