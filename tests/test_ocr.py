"""tightbind.ocr against real Tesseract: the `tesseract` command is the oracle.

Images are rendered here with Pillow and DejaVu Sans at 300 dpi, so every word and its
position is known; the real scan ../shared/ocr/phototest.tif is used when present.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

import tightbind
from tightbind.ocr import (
    MAX_IMAGE_PIXELS,
    PSM,
    RIL_BLOCK,
    RIL_PARA,
    RIL_SYMBOL,
    RIL_TEXTLINE,
    RIL_WORD,
    ClosedError,
    ImageError,
    ImageFileNotFound,
    LanguageNotFound,
    NoImage,
    NotRecognized,
    OcrError,
    PageIteratorLevel,
    Pix,
    PolyBlockType,
    RecognitionCancelled,
    RecognitionTimeout,
    TessApi,
    VariableError,
    ocr_many,
    openmp_thread_limit,
    pix_read,
    pix_read_pages,
    process_pages,
)

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
TESSERACT = shutil.which("tesseract")
CLI_ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}

PARAGRAPH = [
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs.",
    "Invoice 4711 dated 2024 totals 385 euros.",
]


def render(lines: list[str], *, size: int = 40, margin: int = 60, spacing: int = 30,
           width: int | None = None) -> tuple[Image.Image, list[list[tuple[str, tuple]]]]:
    """Draw ``lines`` black on white at 300 dpi; return the image and each line's words
    with their Pillow bounding boxes (left, top, right, bottom)."""
    font = ImageFont.truetype(FONT, size)
    line_height = size + spacing
    text_width = max(int(font.getlength(line)) for line in lines)
    image = Image.new("L", (width or text_width + 2 * margin,
                            2 * margin + line_height * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    layout = []
    for row, line in enumerate(lines):
        y = margin + row * line_height
        x = margin
        words = []
        for word in line.split(" "):
            box = draw.textbbox((x, y), word, font=font)
            draw.text((x, y), word, font=font, fill=0)
            words.append((word, box))
            x += font.getlength(word + " ")
        layout.append(words)
    image.info["dpi"] = (300, 300)
    return image, layout


def save(image: Image.Image, path: Path) -> Path:
    image.save(path, dpi=(300, 300))
    return path


def cli(path: Path, *args: str) -> str:
    assert TESSERACT, "the tesseract command is needed as the oracle"
    done = subprocess.run([TESSERACT, str(path), "stdout", *args], capture_output=True,
                          text=True, env=CLI_ENV, check=True)
    return done.stdout


def cli_words(path: Path) -> list[tuple]:
    """The level-5 (word) rows of `tesseract PATH stdout tsv`."""
    rows = []
    for line in cli(path, "tsv").splitlines()[1:]:
        fields = line.split("\t")
        if fields[0] == "5":
            rows.append((*fields[2:11], fields[11] if len(fields) > 11 else ""))
    return rows


def as_tsv_words(elements) -> list[tuple]:
    return [(str(e.block_num), str(e.par_num), str(e.line_num), str(e.word_num),
             str(e.left), str(e.top), str(e.width), str(e.height), f"{e.confidence:.6f}",
             e.text) for e in elements]


@pytest.fixture(scope="module")
def api():
    with TessApi() as engine:
        yield engine


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pages")
    two_blocks = ["Alpha beta gamma delta", "", "", "Second block of words here"]
    out = {
        "paragraph": save(render(PARAGRAPH)[0], folder / "paragraph.png"),
        "line": save(render(["Hello tightbind 123"])[0], folder / "line.png"),
        "blocks": save(render(two_blocks)[0], folder / "blocks.png"),
    }
    return out


@pytest.fixture(scope="module")
def phototest(shared_dir) -> Path:
    path = shared_dir / "ocr" / "phototest.tif"
    if not path.exists():
        pytest.skip("phototest.tif is not in ../shared/ocr")
    return path


def recognized(api: TessApi, image) -> TessApi:
    api.set_image(image)
    api.recognize()
    return api


# ---- text-exact against the tesseract command -------------------------------------------


@pytest.mark.parametrize("name", ["paragraph", "line", "blocks"])
def test_text_equals_cli_stdout(api, pages, name):
    recognized(api, pages[name])
    assert api.get_utf8_text() == cli(pages[name])


@pytest.mark.parametrize("name", ["paragraph", "line", "blocks"])
def test_results_equal_cli_tsv_words(api, pages, name):
    recognized(api, pages[name])
    assert as_tsv_words(api.results(RIL_WORD)) == cli_words(pages[name])


def test_tsv_text_equals_cli_tsv(api, pages):
    recognized(api, pages["paragraph"])
    expected = cli(pages["paragraph"], "tsv").split("\n", 1)[1]
    assert api.get_tsv_text() == expected


def test_rendered_words_and_positions(api, pages):
    image, layout = render(PARAGRAPH)
    recognized(api, image)
    words = api.results(RIL_WORD)
    expected = [word for line in layout for word in line]
    assert [w.text for w in words] == [text for text, _ in expected]
    for element, (_, (left, top, right, bottom)) in zip(words, expected, strict=True):
        # Tesseract's box is the ink; Pillow's includes side bearings: a few pixels.
        assert abs(element.left - left) <= 6 and abs(element.right - right) <= 6
        assert abs(element.top - top) <= 6 and abs(element.bottom - bottom) <= 6
    assert [w.line_num for w in words] == [n + 1 for n, line in enumerate(layout)
                                           for _ in line]
    assert all(w.block_type == PolyBlockType.FLOWING_TEXT for w in words)


def test_text_of_rendered_paragraph(api):
    image, _ = render(PARAGRAPH)
    recognized(api, image)
    assert api.get_utf8_text() == "\n".join(PARAGRAPH) + "\n"


def test_phototest_matches_ground_truth_and_cli(api, phototest):
    recognized(api, pix_read(phototest))
    text = api.get_utf8_text()
    truth = (phototest.parent / "phototest.txt").read_text()
    assert text.split() == truth.split()
    assert text == cli(phototest)
    assert as_tsv_words(api.results()) == cli_words(phototest)
    assert api.mean_text_confidence() > 85


# ---- levels, iteration, confidences, formats --------------------------------------------


def test_levels(api):
    image, _layout = render(PARAGRAPH)
    recognized(api, image)
    lines = api.results(RIL_TEXTLINE)
    assert [line.text.strip() for line in lines] == PARAGRAPH
    assert [line.line_num for line in lines] == [1, 2, 3]
    symbols = api.results(RIL_SYMBOL)
    assert "".join(s.text for s in symbols) == "".join("".join(PARAGRAPH).split())
    words = api.results(RIL_WORD)
    for word in words:
        mine = [s for s in symbols if (s.block_num, s.par_num, s.line_num, s.word_num)
                == (word.block_num, word.par_num, word.line_num, word.word_num)]
        assert "".join(s.text for s in mine) == word.text
        assert min(s.left for s in mine) >= word.left
    paras = api.results(RIL_PARA)
    blocks = api.results(RIL_BLOCK)
    assert "".join(p.text for p in paras) == api.get_utf8_text()
    assert len(blocks) == 1 and blocks[0].text == api.get_utf8_text()
    assert list(api.iterate(RIL_WORD)) == [w.text for w in words]
    assert list(api.iterate(RIL_PARA)) == [p.text for p in paras]


@pytest.mark.parametrize("level", list(PageIteratorLevel))
def test_results_grow_their_buffers(pages, level):
    """The walk reports the sizes it needs when the arrays are too small; the retry
    must give exactly what roomy arrays give."""
    from tightbind.ocr._native import ffi

    with TessApi() as roomy, TessApi() as tight:
        for engine in (roomy, tight):
            recognized(engine, pages["paragraph"])
        tight._elements = ffi.new("tb_ocr_element[]", 1)
        tight._text = ffi.new("char[]", 1)
        assert tight.results(level) == roomy.results(level)
        tight._elements = ffi.new("tb_ocr_element[]", 1)
        assert tight.analyse_layout(level) == roomy.analyse_layout(level)


def test_confidences(api, pages):
    recognized(api, pages["paragraph"])
    words = api.results()
    confidences = api.all_word_confidences()
    assert len(confidences) == len(words)
    assert all(0 <= c <= 100 for c in confidences)
    assert 0 <= api.mean_text_confidence() <= 100
    assert all(0 <= w.confidence <= 100 for w in words)


def test_other_formats(api, pages):
    recognized(api, pages["line"])
    words = [w.text for w in api.results()]
    hocr = api.get_hocr_text()
    assert "ocrx_word" in hocr and all(word in hocr for word in words)
    alto = api.get_alto_text()
    assert all(f'CONTENT="{word}"' in alto for word in words)
    box = api.get_box_text().splitlines()
    assert "".join(line.split(" ")[0] for line in box) == "".join(words)
    assert api.get_unlv_text().split() == words
    assert api.get_hocr_text() == api.get_hocr_text()  # repeatable, no state consumed


def test_image_inputs_agree(api, pages, tmp_path):
    path = pages["line"]
    expected = cli(path)
    image = Image.open(path)
    array = np.asarray(image)
    inputs = [str(path), path, path.read_bytes(), image, image.convert("RGB"),
              image.convert("RGBA"), image.convert("1"), array,
              np.stack([array] * 3, axis=2), pix_read(path), Pix.from_pil(image)]
    for item in inputs:
        recognized(api, item)
        assert api.get_utf8_text() == expected, type(item)


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


# ---- engine settings ---------------------------------------------------------------------


def test_engine_settings(api, pages):
    assert TessApi.version().startswith("5.")
    assert api.get_init_languages_as_string() == "eng"
    assert "eng" in api.available_languages() and "osd" in api.available_languages()
    assert api.loaded_languages() == ["eng"]
    assert Path(api.data_path, "eng.traineddata").exists()
    with TessApi(psm=PSM.SINGLE_LINE, variables={"tessedit_char_whitelist": "0123456789",
                                                  "load_system_dawg": False}) as digits:
        assert digits.get_page_seg_mode() == PSM.SINGLE_LINE
        assert digits.get_string_variable("tessedit_char_whitelist") == "0123456789"
        assert digits.get_bool_variable("load_system_dawg") is False
        digits.set_image(pages["line"])
        digits.recognize()
        assert set(digits.get_utf8_text().strip()) <= set("0123456789 ")
        assert "123" in digits.get_utf8_text()
        digits.set_variable("tessedit_char_whitelist", "")
        digits.set_page_seg_mode(PSM.AUTO)
        digits.recognize()
        assert digits.get_utf8_text() == cli(pages["line"])
    assert api.get_int_variable("tessedit_pageseg_mode") == int(api.get_page_seg_mode())
    assert api.get_double_variable("textord_noise_hfract") > 0
    assert api.get_bool_variable("tessedit_create_hocr") is False
    assert api.is_valid_word("house") and not api.is_valid_word("xqzkv")
    api.clear_adaptive_classifier()


def test_set_rectangle(api):
    image, layout = render(PARAGRAPH)
    api.set_image(image)
    top = layout[1][0][1][1] - 15
    bottom = layout[1][-1][1][3] + 15
    api.set_rectangle(0, top, image.width, bottom - top)
    api.recognize()
    assert api.get_utf8_text().strip() == PARAGRAPH[1]
    with pytest.raises(ValueError):
        api.set_rectangle(0, 0, image.width + 1, 10)


def test_source_resolution_and_text_direction(api, pages):
    api.set_image(pages["line"])
    api.set_source_resolution(300)
    api.recognize()
    assert api.get_utf8_text() == cli(pages["line"])
    direction = api.get_text_direction()
    assert direction is None or abs(direction.slope) < 0.05
    with pytest.raises(ValueError):
        api.set_source_resolution(0)


# ---- layout, thresholding, orientation ---------------------------------------------------


def test_layout(api, pages):
    image, layout = render(PARAGRAPH)
    api.set_image(image)
    lines = api.get_text_lines()
    assert len(lines) == len(PARAGRAPH)
    words = api.get_words()
    assert len(words) == sum(len(line) for line in layout)
    for left, top, right, bottom in words:
        assert 0 <= left < right <= image.width and 0 <= top < bottom <= image.height
    regions = api.get_regions()
    assert regions and all(len(box) == 4 for box in regions)
    pairs = api.get_text_lines(images=True)
    assert [box for box, _ in pairs] == lines
    for (left, top, right, bottom), pix in pairs:
        assert (pix.width, pix.height) == (right - left, bottom - top)
    blocks = api.analyse_layout()
    assert len(blocks) == 1 and blocks[0].block_type == PolyBlockType.FLOWING_TEXT
    assert blocks[0].confidence == -1 and blocks[0].text == ""
    layout_lines = api.analyse_layout(RIL_TEXTLINE)
    assert [e.box for e in layout_lines] == lines
    assert [e.line_num for e in layout_lines] == [1, 2, 3]
    with pytest.raises(NotRecognized):
        api.get_utf8_text()  # layout analysis is not recognition


def test_thresholded_image(api, pages):
    api.set_image(pages["line"])
    binary = api.get_thresholded_image()
    assert binary.depth == 1
    source = pix_read(pages["line"])
    assert (binary.width, binary.height) == (source.width, source.height)
    assert (binary.to_numpy() < 128).sum() > 100  # there is ink


def osd_cli(path: Path) -> dict[str, str]:
    done = subprocess.run([TESSERACT, str(path), "stdout", "--psm", "0"], capture_output=True,
                          text=True, env=CLI_ENV, check=True)
    return dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)


@pytest.mark.parametrize("quarter_turns", [0, 1, 2])
def test_detect_orientation_script_matches_cli(api, phototest, tmp_path, quarter_turns):
    pix = pix_read(phototest).rotate(quarter_turns)
    path = tmp_path / "turned.png"
    pix.write(path)
    expected = osd_cli(path)
    api.set_image(pix)
    found = api.detect_orientation_script()
    assert found.orientation == int(expected["Orientation in degrees"])
    assert found.rotation == int(expected["Rotate"])
    assert found.script == expected["Script"]
    assert f"{found.orientation_confidence:.2f}" == expected["Orientation confidence"]


# ---- errors ------------------------------------------------------------------------------


def test_missing_language_is_explained():
    with pytest.raises(LanguageNotFound) as info:
        TessApi(None, "xyz+eng")
    error = info.value
    assert isinstance(error, OcrError) and isinstance(error, tightbind.TightbindError)
    assert error.languages == ["xyz", "eng"] and error.missing == ["xyz"]
    assert "eng" in error.available and "osd" in error.available
    assert error.paths and Path(error.paths[0], "eng.traineddata").exists()
    message = str(error)
    assert "'xyz'" in message and error.paths[0] in message and "eng, osd" in message


def test_missing_data_path_is_explained(tmp_path):
    with pytest.raises(LanguageNotFound) as info:
        TessApi(tmp_path / "nowhere", "eng")
    assert info.value.available == []
    assert str(tmp_path / "nowhere") in str(info.value)


def test_tessdata_prefix_is_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    with pytest.raises(LanguageNotFound) as info:
        TessApi()
    assert str(tmp_path) in info.value.paths[0]


def test_bad_arguments_to_constructor():
    with pytest.raises(ValueError):
        TessApi(None, "")
    with pytest.raises(ValueError):
        TessApi(None, "eng\0")
    for bad in ("../eng", "/usr/share/tesseract-ocr/5/tessdata/eng", "eng+..", "a b"):
        with pytest.raises(ValueError, match="language name"):
            TessApi(None, bad)
    with pytest.raises(TypeError):
        TessApi(None, 42)  # type: ignore[arg-type]
    with pytest.raises(VariableError):
        TessApi(variables={"no_such_variable_at_all": 1})
    with pytest.raises(ValueError):
        TessApi(psm=99)


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
    with pytest.raises(ImageError, match="larger than MAX_IMAGE_PIXELS"):
        Pix.from_bytes(png)


def test_calls_before_image_and_before_recognize():
    with TessApi() as engine:
        for call in (engine.recognize, engine.get_thresholded_image, engine.analyse_layout,
                     engine.get_regions, engine.detect_orientation_script,
                     lambda: engine.set_rectangle(0, 0, 1, 1)):
            with pytest.raises(NoImage):
                call()
        engine.set_image(Image.new("L", (50, 50), 255))
        for call in (engine.get_utf8_text, engine.get_hocr_text, engine.get_tsv_text,
                     engine.get_alto_text, engine.get_box_text, engine.get_unlv_text,
                     engine.mean_text_confidence, engine.all_word_confidences,
                     engine.results, lambda: list(engine.iterate(RIL_WORD))):
            with pytest.raises(NotRecognized):
                call()
        with pytest.raises(ValueError):
            engine.results(7)
        with pytest.raises(VariableError):
            engine.set_variable("no_such_variable_at_all", "1")
        with pytest.raises(VariableError):
            engine.get_int_variable("no_such_variable_at_all")
        with pytest.raises(VariableError):
            engine.get_string_variable("no_such_variable_at_all")


def test_blank_page_has_no_words(api):
    recognized(api, Image.new("L", (400, 300), 255))
    assert api.get_utf8_text() == ""
    assert api.results() == [] and api.all_word_confidences() == []
    recognized(api, Image.new("L", (1, 1), 0))
    assert api.results() == []


def test_closed_engine():
    engine = TessApi()
    engine.close()
    assert engine.closed
    for call in (engine.get_utf8_text, engine.recognize, engine.results,
                 lambda: engine.set_image(b"x")):
        with pytest.raises(ClosedError):
            call()
    engine.close()


def test_timeout_then_engine_still_works(api, phototest):
    big = pix_read(phototest).scale(2)
    api.set_image(big)
    with pytest.raises(RecognitionTimeout):
        api.recognize(timeout=0.001)
    with pytest.raises(NotRecognized):
        api.get_utf8_text()
    with pytest.raises(ValueError):
        api.recognize(timeout=0)
    api.set_image(phototest)
    api.recognize(timeout=60)
    assert api.get_utf8_text() == cli(phototest)


def test_cancel_from_another_thread(pages):
    lines = [f"line {n} of a long page that takes a while to read" for n in range(40)]
    image, _ = render(lines, size=30, spacing=20)
    with TessApi() as engine:
        engine.set_image(image)
        outcome: list[object] = []

        def run() -> None:
            try:
                engine.recognize()
                outcome.append("finished")
            except RecognitionCancelled as exc:
                outcome.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        time.sleep(0.2)
        engine.cancel()
        worker.join(60)
        assert isinstance(outcome[0], RecognitionCancelled)
        engine.recognize()  # the next run is not cancelled
        assert "line 39" in engine.get_utf8_text()


def run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=environment, timeout=120, cwd="/", check=False)


def test_nothing_on_stderr(pages, tmp_path):
    done = run_python(f"""
        import logging
        from PIL import Image
        from tightbind.ocr import TessApi, OcrError
        try:
            TessApi(None, "xyz")
        except OcrError:
            pass
        api = TessApi()
        import io
        whole = open({str(pages['paragraph'])!r}, "rb").read()
        jpeg = io.BytesIO()
        Image.open(io.BytesIO(whole)).save(jpeg, "JPEG")
        for bad in (b"junk", whole[:300], whole[:-20], jpeg.getvalue()[:2000]):
            try:
                api.set_image(bad)
            except OcrError:
                pass
        api.set_image(Image.new("L", (2, 40), 0))     # "Image too small to scale"
        api.recognize()
        api.set_image(Image.new("L", (600, 100), 255))  # no dpi, empty page
        api.recognize()
        print(repr(api.get_utf8_text()))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.strip() == "''"


def test_damaged_images_never_crash_or_print():
    script = Path(__file__).parent / "ocr_native" / "mutate.py"
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
    with pytest.raises(ImageError, match="larger than MAX_IMAGE_PIXELS"):
        pix_read(path)


def test_leptonica_messages_go_to_logging(caplog, pages):
    buffer = io.BytesIO()
    Image.open(pages["paragraph"]).save(buffer, "TIFF")
    data = buffer.getvalue()
    with caplog.at_level("DEBUG", logger="tightbind.ocr"), pytest.raises(ImageError) as info:
        Pix.from_bytes(data[: len(data) // 2])
    assert "leptonica" in str(info.value).lower()
    assert any(r.name == "tightbind.ocr" and "leptonica" in r.getMessage()
               for r in caplog.records)


def test_openmp_defaults_to_one_thread():
    code = """
        import os
        import tightbind.ocr as ocr
        print(ocr.openmp_thread_limit(), ocr.OMP_DEFAULTED, os.environ.get("OMP_THREAD_LIMIT"))
    """
    assert run_python(code).stdout.split() == ["1", "True", "None"]
    assert run_python(code, {"OMP_THREAD_LIMIT": "2"}).stdout.split() == ["2", "False", "2"]
    assert openmp_thread_limit() in (1, int(os.environ.get("OMP_THREAD_LIMIT", "1")))


# ---- threads, batches, documents ---------------------------------------------------------


def test_shared_engine_between_threads(api, pages):
    expected = {name: cli(path) for name, path in pages.items()}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            for _ in range(3):
                assert api.ocr(pages[name]) == expected[name]
                with api.lock:
                    api.set_image(pages[name])
                    api.recognize()
                    assert api.get_utf8_text() == expected[name]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(name,)) for name in pages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors


def test_separate_engines_in_threads(pages):
    expected = {name: cli(path) for name, path in pages.items()}
    results: dict[str, list[str]] = {}

    def work(name: str) -> None:
        with TessApi() as engine:
            results[name] = [engine.ocr(pages[name]) for _ in range(2)]

    threads = [threading.Thread(target=work, args=(name,)) for name in pages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert results == {name: [text, text] for name, text in expected.items()}


def test_ocr_many_in_order(pages):
    items = [pages["paragraph"], pages["line"], pages["blocks"]] * 2
    expected = [cli(path) for path in items]
    results = list(ocr_many(items, workers=2))
    assert [r.index for r in results] == list(range(len(items)))
    assert [r.text for r in results] == expected
    assert [w.text for w in results[1].words] == ["Hello", "tightbind", "123"]
    lazy = list(ocr_many(iter(items[:2]), workers=1, progress=True))
    assert [r.text for r in lazy] == expected[:2]


def test_ocr_many_progress_bar_on_a_terminal(pages, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    results = list(ocr_many([pages["line"]] * 3, workers=2, progress=True))
    assert len(results) == 3
    assert terminal.getvalue().endswith("] 3/3\n")
    assert terminal.getvalue().count("\r") == 3
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal: nothing drawn
    list(ocr_many([pages["line"]], progress=True))
    assert sys.stderr.getvalue() == ""


def test_ocr_many_errors(pages):
    with pytest.raises(ImageError):
        list(ocr_many([pages["line"], b"junk", pages["line"]], workers=2))
    with pytest.raises(LanguageNotFound):
        ocr_many([pages["line"]], language="xyz")  # at the call, before iterating
    with pytest.raises(ValueError):
        ocr_many([pages["line"]], workers=0)


def test_process_pages(api, pages, tmp_path):
    written = api.process_pages(pages["paragraph"], tmp_path / "doc")
    assert sorted(Path(p).name for p in written) == sorted(
        ["doc.pdf", "doc.hocr", "doc.tsv", "doc.xml", "doc.txt"])
    assert (tmp_path / "doc.txt").read_text() == cli(pages["paragraph"])
    pdf = (tmp_path / "doc.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"GlyphLessFont" in pdf  # the invisible text layer
    assert (tmp_path / "doc.tsv").read_text() == cli(pages["paragraph"], "tsv")
    tiff = tmp_path / "two.tif"
    Image.open(pages["line"]).save(tiff, save_all=True,
                                   append_images=[Image.open(pages["paragraph"])])
    process_pages(tiff, str(tmp_path / "new" / "multi"), ("hocr", "txt"))  # makes new/
    assert (tmp_path / "new" / "multi.hocr").read_text().count("class='ocr_page'") == 2
    api.process_pages([pages["line"], Image.open(pages["blocks"])], tmp_path / "list",
                      ["txt"])
    both = tmp_path / "both.tif"
    Image.open(pages["line"]).save(both, save_all=True, dpi=(300, 300),
                                   append_images=[Image.open(pages["blocks"])])
    assert (tmp_path / "list.txt").read_text() == cli(both)
    with pytest.raises(RecognitionTimeout):
        api.process_pages([pix_read(pages["paragraph"]).scale(3)], tmp_path / "slow", ["txt"],
                          timeout=0.001)
    with pytest.raises(ValueError):
        api.process_pages(pages["line"], tmp_path / "x", ["docx"])
    with pytest.raises(ImageFileNotFound):
        api.process_pages(tmp_path / "missing.tif", tmp_path / "x", ["txt"])
    with pytest.raises(ImageError):
        api.process_pages([], tmp_path / "x", ["txt"])


# ---- memory ------------------------------------------------------------------------------


def rss_kib() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


@pytest.mark.slow
def test_memory_flat_over_1000_pages():
    image, _ = render(["Memory 42 stays flat"], size=24, margin=10, spacing=5)
    pix = Pix.from_pil(image)
    png = pix.to_png()
    with TessApi(psm=PSM.SINGLE_LINE) as engine:

        def page(n: int) -> None:
            engine.set_image(png if n % 2 else pix)
            engine.recognize()
            assert engine.get_utf8_text().split() == ["Memory", "42", "stays", "flat"]
            engine.results(RIL_SYMBOL)
            engine.get_hocr_text()
            engine.all_word_confidences()

        for n in range(200):
            page(n)
        baseline = rss_kib()
        for n in range(800):
            page(n)
        grown = rss_kib() - baseline
    assert grown < 8 * 1024, f"RSS grew by {grown} KiB over 800 pages"


# ---- command line ------------------------------------------------------------------------


def tightbind_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tightbind", "ocr", *args],
                          capture_output=True, text=True, timeout=120, cwd=cwd or "/",
                          check=False)


def test_command_text_tsv_json(pages):
    done = tightbind_cli(str(pages["paragraph"]))
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout == cli(pages["paragraph"]).rstrip("\f")
    tsv = tightbind_cli("--format", "tsv", str(pages["line"]))
    assert tsv.stdout == cli(pages["line"], "tsv")
    data = tightbind_cli("--format", "json", "-j", "2", str(pages["line"]),
                         str(pages["blocks"]))
    import json

    parsed = json.loads(data.stdout)
    assert [p["file"] for p in parsed] == [str(pages["line"]), str(pages["blocks"])]
    assert [w["text"] for w in parsed[0]["words"]] == ["Hello", "tightbind", "123"]
    hocr = tightbind_cli("--format", "hocr", "--psm", "7", str(pages["line"]))
    assert "ocrx_word" in hocr.stdout


def test_command_pdf_and_errors(pages, tmp_path):
    done = tightbind_cli("--format", "pdf", "--output-dir", str(tmp_path), str(pages["line"]))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "line.pdf").read_bytes().startswith(b"%PDF")
    missing = tightbind_cli(str(tmp_path / "missing.png"), str(pages["line"]))
    assert missing.returncode == 1
    assert "missing.png" in missing.stderr and "Hello tightbind 123" in missing.stdout
    bad_lang = tightbind_cli("--lang", "xyz", str(pages["line"]))
    assert bad_lang.returncode == 2 and "xyz" in bad_lang.stderr


# ---- memory errors -----------------------------------------------------------------------

NATIVE = ("tightbind/_ocr", "_ocr.c", "tb_ocr", "ocr.c", "libtesseract", "liblept")


def native_valgrind_errors(log: str) -> list[str]:
    """Valgrind records (errors and definite leaks) with a frame in our shim, Tesseract
    or Leptonica.  CPython's own start-up reports (no suppression file) are ignored, as
    are one-time allocations of cffi's module initialisation."""
    records = []
    current: list[str] = []
    for line in log.splitlines():
        body = line.split("== ", 1)[1] if "== " in line else ""
        if not body.strip():
            if current:
                records.append("\n".join(current))
            current = []
        else:
            current.append(body)
    if current:
        records.append("\n".join(current))
    bad = []
    for record in records:
        head = record.splitlines()[0]
        if not any(word in head for word in ("Invalid", "uninitialised", "definitely lost",
                                             "Mismatched", "free'd", "overlap")):
            continue
        if "_cffi_init" in record:
            continue
        if any(name in record for name in NATIVE):
            bad.append(record)
    return bad


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_native_paths_under_valgrind(tmp_path):
    script = Path(__file__).parent / "ocr_native" / "exercise.py"
    log = tmp_path / "valgrind.log"
    done = subprocess.run(
        ["valgrind", "--leak-check=full", "--show-leak-kinds=definite", "--num-callers=40",
         f"--log-file={log}", sys.executable, str(script), str(tmp_path), "--quick"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False,
        env={**os.environ, "PYTHONMALLOC": "malloc"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    errors = native_valgrind_errors(log.read_text())
    assert not errors, "\n\n".join(errors[:5])


def test_valgrind_log_filter_sees_native_errors():
    log = ("==1== Invalid write of size 4\n==1==    at 0x1: tb_ocr_walk (ocr.c:200)\n==1== \n"
           "==1== Invalid read of size 8\n==1==    at 0x2: strncmp (strcmp-sse2.S:160)\n"
           "==1== \n==1== 24 bytes in 1 blocks are definitely lost\n"
           "==1==    by 0x3: _cffi_init (tightbind._ocr.c:442)\n==1== \n")
    errors = native_valgrind_errors(log)
    assert len(errors) == 1 and "tb_ocr_walk" in errors[0]
