"""The text layer of searchable PDFs (tightbind.ocr.pdftext) in other writing directions
and scripts: right to left (Arabic), horizontal and vertical Chinese, text outside the
BMP; each grafted output read back with poppler's pdftotext and checked with qpdf.
Tesseract's own PDF renderer (TessApi, the pytesseract face) on the same pages."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pikepdf = pytest.importorskip("pikepdf")
pytest.importorskip("pypdfium2")

from helpers.budget import examples  # noqa: E402
from helpers.pdfcases import (  # noqa: E402
    SCRIPT_PAGES,
    qpdf_check,
    run_tool,
    script_missing,
    script_page,
)

from bench.pdfcorpus import scanned_pdf  # noqa: E402
from tightbind.ocr import TessApi  # noqa: E402
from tightbind.ocr.batch import run_batch  # noqa: E402
from tightbind.ocr.pdftext import LayerWord, layout_text_page, visual_order  # noqa: E402
from tightbind.ocr.tessdata import list_languages  # noqa: E402

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("qpdf", "pdftotext", "pdffonts")),
    reason="needs qpdf and poppler-utils")

WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                  r'yMax="([\d.]+)">([^<]*)</word>')


def _needs(name: str) -> None:
    why = script_missing(name)
    if why:
        pytest.skip(why)
    language = SCRIPT_PAGES[name][0]
    if language not in list_languages():
        pytest.skip(f"Debian's tesseract-ocr-{language.replace('_', '-')} is not installed")


def _bare(text: str) -> str:
    """Text without bidi marks (pdftotext wraps right-to-left lines in U+202B..U+202C)
    and, for comparing CJK, without whitespace."""
    return re.sub(r"[\s\u202a-\u202e]", "", text)


@pytest.fixture(scope="module")
def grafted(tmp_path_factory):
    """Each script page as a scanned PDF, grafted by run_batch with its language."""
    folder = tmp_path_factory.mktemp("scripts")
    done = {}
    for name, (language, psm, *_rest) in SCRIPT_PAGES.items():
        if script_missing(name) or language not in list_languages():
            continue
        page = script_page(name)
        source = folder / f"{name}.pdf"
        source.write_bytes(scanned_pdf([(page, "jpeg")]))
        out = folder / f"out-{name}"
        summary = run_batch(source, out, formats=("pdf", "json", "txt"), language=language,
                            psm=psm, workers=1)
        assert summary.failed == 0, summary.failures
        data = json.loads((out / f"{name}.pdf.json").read_text())["pages"][0]
        done[name] = (page, out / f"{name}.pdf.pdf", data,
                      (out / f"{name}.pdf.txt").read_text())
    return done


@pytest.mark.parametrize("name", list(SCRIPT_PAGES))
def test_text_in_reading_order(grafted, name):
    """pdftotext gives Tesseract's own text, in logical order: right-to-left words not
    reversed, columns top to bottom and right to left; and that is what was drawn."""
    _needs(name)
    page, result, _, tesseract_text = grafted[name]
    qpdf_check(result)
    text = run_tool("pdftotext", str(result), "-")
    if SCRIPT_PAGES[name][4] == "rtl":  # words as Tesseract read them, in its order
        assert re.sub(r"[\u202a-\u202e]", "", text).split() == tesseract_text.split()
    else:  # CJK: pdftotext joins words whose boxes touch, as the script writes them
        assert _bare(text) == _bare(tesseract_text)
    drawn = _bare(" ".join(word for word, _ in page.words))
    got = _bare(text)
    same = sum(a == b for a, b in zip(drawn, got, strict=False))
    # What Tesseract read is what was drawn, in the drawn order.  How much of the page it
    # reads is the engine's business (the wheel's Tesseract 5.5 leaves the last Arabic line
    # out where Debian's 5.3 reads it), not the layer's: at least half, read in order.
    assert len(got) >= len(drawn) // 2 and same >= 0.8 * len(got), (drawn, got)


def _boxes(result: Path) -> list[tuple[float, float, float, float, str]]:
    bbox = run_tool("pdftotext", "-bbox", str(result), "-")
    return [(float(a), float(b), float(c), float(d), text)
            for a, b, c, d, text in WORD.findall(bbox)]


def _fits(found: tuple[float, float, float, float, str], word: tuple[float, ...],
          line: list[float], shown: str, vertical: bool) -> bool:
    """Whether the pdftotext word ``found`` holds the recognised ``word`` box (points):
    across its line within 2 pt of the line's extent; along it, within 2 pt of the
    word's own ends when it stands alone (its end may stop short where the next word's
    box overlaps it), around the word when it is part of a run."""
    left, top, right, bottom = word
    across = (abs(found[0] - line[0]) <= 2 and abs(found[2] - line[2]) <= 2) if vertical \
        else (abs(found[1] - line[1]) <= 2 and abs(found[3] - line[3]) <= 2)
    start, end = (top, bottom) if vertical else (left, right)
    low, high = (found[1], found[3]) if vertical else (found[0], found[2])
    if found[4] == shown:
        along = abs(low - start) <= 2 and start < high <= end + 2
    else:
        along = low <= start + 2 and high >= end - 2
    return across and along


@pytest.mark.parametrize("name", list(SCRIPT_PAGES))
def test_glyph_boxes_on_the_recognised_words(grafted, name):
    """Every recognised word (the json output's boxes) lies in a pdftotext -bbox word
    holding its text: across the line within 2 pt of the line's extent, along it within
    2 pt of its own ends when it stands alone, inside the run when Tesseract joined it
    to its neighbours (CJK); a vertical word's box is tall and narrow."""
    _needs(name)
    _, result, data, _ = grafted[name]
    direction = SCRIPT_PAGES[name][4]
    found = _boxes(result)
    scale = 72 / 300
    lines: dict[tuple[int, int, int], list[int]] = {}
    words = [w for w in data["words"] if w["text"].strip()]
    for w in words:
        key = (w["block_num"], w["par_num"], w["line_num"])
        lines.setdefault(key, [10**9, 10**9, -1, -1])
        box = lines[key]
        lines[key] = [min(box[0], w["box"][0]), min(box[1], w["box"][1]),
                      max(box[2], w["box"][2]), max(box[3], w["box"][3])]
    for w in words:
        left, top, right, bottom = (v * scale for v in w["box"])
        line = [v * scale for v in lines[(w["block_num"], w["par_num"], w["line_num"])]]
        shown = visual_order(w["text"]) if direction != "ttb" else w["text"]
        vertical = direction == "ttb"
        candidates = [b for b in found if shown in b[4]]
        assert candidates, (w, found)
        fitting = [b for b in candidates
                   if _fits(b, (left, top, right, bottom), line, shown, vertical)]
        assert fitting, (w, line, candidates)
        if vertical and len(w["text"]) > 1:
            box = fitting[0]
            assert box[3] - box[1] > box[2] - box[0], box  # tall and narrow


def test_vertical_columns_right_to_left(grafted):
    _needs("chinese-vertical")
    _, result, _, _ = grafted["chinese-vertical"]
    lines = [_bare(line) for line in run_tool("pdftotext", str(result), "-").splitlines()
             if _bare(line)]
    columns = [_bare(line) for line in SCRIPT_PAGES["chinese-vertical"][3]]
    assert len(lines) == len(columns)  # a column is one line, the first the rightmost
    for line, column in zip(lines, columns, strict=True):
        assert sum(a == b for a, b in zip(line, column, strict=False)) >= len(column) - 2


# ---- the layout itself, from given words ------------------------------------------------

@pytest.mark.parametrize(("logical", "visual"), [
    ("مرحبا", "ابحرم"), ("שלום", "םולש"), ("word", "word"), ("ص123", "123ص"),
    ("كتاب٣", "٣باتك"), ("ص١٢", "١٢ص"), ("abcשלום", "םולשabc"), ("مَرْحَبًا", "اًبَحْرَم"),
    ("", ""), ("中文", "中文")])
def test_visual_order(logical, visual):
    assert visual_order(logical) == visual
    assert visual_order(visual) == logical  # the reordering is its own inverse here


def _text_only_page() -> bytes:
    """A text-only page from Tesseract's renderer, for its font."""
    from tightbind.ocr.workers import _pdf_page

    api = TessApi(None, "eng")
    from PIL import Image

    api.set_image(Image.new("L", (400, 200), 255))
    api.recognize()
    return _pdf_page(api, textonly=True)


def test_text_outside_the_bmp_extracts(tmp_path):
    """A word with a character outside the BMP (two Identity-H codes, a surrogate pair)
    carries its text as /ActualText: pdftotext gives the character."""
    words = [LayerWord("a\U00020000b", (20, 20, 150, 60), (1, 1, 1)),
             LayerWord("cd", (170, 20, 250, 60), (1, 1, 1))]
    result = tmp_path / "astral.pdf"
    result.write_bytes(layout_text_page(_text_only_page(), words, 400, 200))
    qpdf_check(result)
    assert run_tool("pdftotext", str(result), "-").split() == ["a\U00020000b", "cd"]


@pytest.mark.parametrize("direction", ["ltr", "rtl", "ttb", "btt"])
def test_every_direction_lands_on_its_boxes(tmp_path, direction):
    """Two words of a line in each direction: pdftotext reads them in order (the
    logical text for right to left), each box within 2 pt of the given one."""
    vertical = direction in ("ttb", "btt")
    first, second = ("ab", "cd") if direction != "rtl" else ("שלום", "עולם")
    if vertical:  # a column: the first word above (ttb) or below (btt) the second
        boxes = [(100, 20, 130, 80), (100, 100, 130, 160)]
        if direction == "btt":
            boxes.reverse()
    else:
        boxes = [(20, 60, 120, 90), (140, 60, 240, 90)]
        if direction == "rtl":
            boxes = [(280, 60, 380, 90), (160, 60, 260, 90)]
    words = [LayerWord(text, box, (1, 1, 1), number > 0, direction)
             for number, (text, box) in enumerate(zip((first, second), boxes, strict=True))]
    result = tmp_path / f"{direction}.pdf"
    result.write_bytes(layout_text_page(_text_only_page(), words, 400, 200))
    qpdf_check(result)
    text = re.sub(r"[\u202a-\u202e]", "", run_tool("pdftotext", str(result), "-"))
    assert text.split() == [first, second]
    with pikepdf.open(io.BytesIO(_text_only_page())) as pdf:
        scale = float(pdf.pages[0].mediabox[2]) / 400
    found = _boxes(result)
    assert len(found) == 2
    for text, box in zip((first, second), boxes, strict=True):
        want = [v * scale for v in box]
        shown = visual_order(text)
        assert any(b[4] == shown and all(abs(b[i] - want[i]) <= 2 for i in range(4))
                   for b in found), (want, found)


# ---- Tesseract's own renderer: CJK and right to left, with and without pdf.ttf ----------

def _folder_without_pdf_ttf(tmp_path: Path, languages: list[str]) -> Path:
    """A tessdata folder holding only ``languages``' models and the config files (links;
    ``tesseract IMAGE OUT pdf`` names the config ``pdf``): no pdf.ttf, as the wheel's own
    folder."""
    system = Path("/usr/share/tesseract-ocr/5/tessdata")
    folder = tmp_path / "tessdata"
    folder.mkdir()
    (folder / "configs").symlink_to(system / "configs")
    for language in languages:
        (folder / f"{language}.traineddata").symlink_to(system / f"{language}.traineddata")
    return folder


@pytest.mark.parametrize("name", ["arabic", "chinese"])
@pytest.mark.parametrize("with_pdf_ttf", [True, False])
def test_tesseract_renderer_text_extracts(tmp_path, name, with_pdf_ttf):
    """TessApi.process_pages and the pytesseract face's image_to_pdf_or_hocr write a PDF
    whose GlyphLessFont is embedded with its ToUnicode map (the renderer's built-in copy
    when the data folder has no pdf.ttf): pdftotext gives the recognised text, right to
    left in logical order."""
    _needs(name)
    from tightbind.ocr import pytesseract

    language = SCRIPT_PAGES[name][0]
    page = script_page(name)
    image = tmp_path / "page.png"
    page.image.save(image, dpi=(300, 300))
    data_path = None if with_pdf_ttf else str(_folder_without_pdf_ttf(tmp_path, [language]))
    if data_path is None and not Path("/usr/share/tesseract-ocr/5/tessdata/pdf.ttf").exists():
        pytest.skip("the system's tessdata has no pdf.ttf")
    with TessApi(data_path, language) as api:
        written = api.process_pages([str(image)], tmp_path / "api", formats=("pdf", "txt"))
    text = Path(written[1]).read_text()
    config = "" if data_path is None else f"--tessdata-dir {data_path}"
    face = pytesseract.image_to_pdf_or_hocr(str(image), lang=language, config=config,
                                            extension="pdf")
    (tmp_path / "face.pdf").write_bytes(face)
    for pdf in (Path(written[0]), tmp_path / "face.pdf"):
        qpdf_check(pdf)
        fonts = run_tool("pdffonts", str(pdf)).splitlines()[2:]
        assert fonts and all(row.split()[-5:-2] == ["yes", "no", "yes"] for row in fonts), \
            fonts  # embedded, not a subset, with a ToUnicode map
        got = run_tool("pdftotext", str(pdf), "-")
        if name == "arabic":
            assert re.sub(r"[\u202a-\u202e]", "", got).split() == text.split()
        else:
            assert _bare(got) == _bare(text)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["arabic", "chinese"])
def test_same_reading_as_ocrmypdf(grafted, tmp_path, name):
    """OCRmyPDF 17 (its own cached venv, the same system Tesseract and language) on the
    same scanned page: pdftotext reads both outputs alike (the same characters in the
    same order, bidi marks and spaces aside), so the layer reads as the standard's.  Not
    the vertical page: OCRmyPDF 17.13 reads its leftmost column first there (and, at its
    default page segmentation, drops characters), where ours reads them right to left
    (test_vertical_columns_right_to_left)."""
    import difflib

    from bench._venvs import venv_python
    from bench.pdf import OCRMYPDF

    _needs(name)
    command = run_tool("tesseract", "--version").split()[1] if shutil.which("tesseract") else ""
    if not TessApi.version().startswith(command or "-"):
        pytest.skip(f"OCRmyPDF runs the system's tesseract {command or '(none)'}, this "
                    f"tightbind Tesseract {TessApi.version()}: their readings may differ")
    python, why = venv_python("ocrmypdf", [OCRMYPDF])
    if python is None:
        pytest.skip(f"OCRmyPDF could not be installed: {why}")
    page, ours, _, _ = grafted[name]
    source = tmp_path / "in.pdf"
    source.write_bytes(scanned_pdf([(page, "jpeg")]))
    theirs = tmp_path / "theirs.pdf"
    subprocess.run([str(python.parent / "ocrmypdf"), "-q", "-j", "1", "-l",
                    SCRIPT_PAGES[name][0], "--output-type", "pdf", "--optimize", "0",
                    str(source), str(theirs)], check=True, timeout=600,
                   env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"})
    mine, other = (_bare(run_tool("pdftotext", str(path), "-")) for path in (ours, theirs))
    assert difflib.SequenceMatcher(None, mine, other).ratio() >= 0.9, (mine, other)


@pytest.fixture(scope="module")
def text_only_page() -> bytes:
    return _text_only_page()


_SAMPLES = ["word", "שלום", "مرحبا", "ص١٢", "中文", "a\U0001f600", "x", "123", "é́"]


@settings(max_examples=examples(60), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(_SAMPLES),
                          st.tuples(st.integers(-50, 450), st.integers(-50, 250),
                                    st.integers(-50, 450), st.integers(-50, 250)),
                          st.integers(0, 3), st.booleans(),
                          st.sampled_from(["ltr", "rtl", "ttb", "btt"])), max_size=12))
def test_any_words_make_a_valid_page(text_only_page, tmp_path, words):
    """Words anywhere (off the page, zero-sized, overlapping, boxes upside down), in
    every direction and script: the page passes qpdf --check and pdftotext reads it."""
    layer = [LayerWord(text, box, (1, 1, line), space, direction)
             for text, box, line, space, direction in words]
    result = tmp_path / "any.pdf"
    result.write_bytes(layout_text_page(text_only_page, layer, 400, 200))
    qpdf_check(result)
    run_tool("pdftotext", str(result), "-")
