"""tightbind.ocr.api (TessApi) against real Tesseract: the `tesseract` command is the oracle.

The real scan ../shared/ocr/phototest.tif is used when present (those tests skip without it)."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from helpers.pages import (
    CLI_ENV,
    PARAGRAPH,
    TESSERACT,
    as_tsv_words,
    cli,
    cli_words,
    recognized,
    render,
)
from PIL import Image

from tightbind.ocr import (
    PSM,
    RIL_TEXTLINE,
    RIL_WORD,
    ClosedError,
    NoImage,
    NotRecognized,
    Pix,
    PolyBlockType,
    RecognitionCancelled,
    RecognitionTimeout,
    TessApi,
    VariableError,
    pix_read,
)

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
