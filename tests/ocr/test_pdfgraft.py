"""Searchable PDFs by grafting (tightbind.ocr.pdfgraft, pdfpages, pdfimage) through
run_batch: each output checked with qpdf and poppler's tools against its input."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pikepdf = pytest.importorskip("pikepdf")
pytest.importorskip("pypdfium2")
pytest.importorskip("img2pdf")

from helpers.pdfcases import (  # noqa: E402
    SMALL,
    graft_rasterising_page_one,
    qpdf_check,
    run_tool,
    write_cases,
)

from bench.pdfcorpus import draw_page, scanned_pdf  # noqa: E402
from tightbind.bench.batch import error_rates  # noqa: E402
from tightbind.ocr import OcrError  # noqa: E402
from tightbind.ocr.batch import run_batch  # noqa: E402
from tightbind.ocr.pdfgraft import PageLayer, graft_text_layer, page_matrix  # noqa: E402
from tightbind.ocr.pdfpages import prepare_page  # noqa: E402

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("qpdf", "pdftotext", "pdfimages")),
    reason="needs qpdf and poppler-utils")


def image_list(path: Path) -> list[list[str]]:
    """pdfimages -list rows without the object numbers: page, type, size, colour,
    components, bits, encoding, ppi, bytes."""
    rows = [line.split() for line in run_tool("pdfimages", "-list", str(path)).splitlines()[2:]]
    return [row[:10] + row[12:] for row in rows]


def image_streams(path: Path) -> set[tuple[str, str]]:
    """(filter, sha256 of the raw bytes) of every image stream in the file."""
    found = set()
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
                found.add((str(obj.get("/Filter")),
                           hashlib.sha256(obj.read_raw_bytes()).hexdigest()))
    return found


@pytest.fixture(scope="module")
def grafted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pdfgraft")
    inputs = folder / "in"
    inputs.mkdir()
    cases = write_cases(inputs)
    summary = run_batch(inputs, folder / "out", formats=("pdf", "txt", "json"), workers=2)
    assert summary.failed == 0, summary.failures
    records = [json.loads(line) for line in
               (folder / "out" / "manifest.jsonl").read_text().splitlines()]
    return cases, inputs, folder / "out", records


CASES = ("ccitt", "jbig2", "jpeg-grey", "jpeg-colour", "jpeg-cmyk", "flate-grey", "skewed",
         "outline", "form-links", "rotated-90", "rotated-180", "cropped-userunit", "vector",
         "ocr-layer")


@pytest.mark.parametrize("name", CASES)
def test_graft_keeps_the_original(grafted, name):
    _cases, inputs, out, _ = grafted
    source, result = inputs / f"{name}.pdf", out / f"{name}.pdf.pdf"
    qpdf_check(result)
    assert image_list(result) == image_list(source)
    assert image_streams(result) == image_streams(source)
    with pikepdf.open(source) as before, pikepdf.open(result) as after:
        assert len(after.pages) == len(before.pages)
        assert dict(after.docinfo.items()) == dict(before.docinfo.items())
        for old, new in zip(before.pages, after.pages, strict=True):
            for key in ("/MediaBox", "/CropBox", "/Rotate", "/UserUnit"):
                assert repr(new.obj.get(key)) == repr(old.obj.get(key))
            old_streams = [s.read_raw_bytes() for s in _contents(old)]
            new_streams = [s.read_raw_bytes() for s in _contents(new)]
            # The page's own streams, in order, wrapped in q/Q, then the text layer.
            assert [s for s in new_streams if s in old_streams] == old_streams
            assert len(old.obj.get("/Annots", [])) == len(new.obj.get("/Annots", []))


def _contents(page):
    contents = page.obj.get("/Contents")
    if contents is None:
        return []
    return list(contents) if isinstance(contents, pikepdf.Array) else [contents]


@pytest.mark.parametrize("name", CASES)
def test_text_once(grafted, name):
    cases, _, out, records = grafted
    case = cases[name]
    text = run_tool("pdftotext", str(out / f"{name}.pdf.pdf"), "-")
    if case.own_text:
        assert " ".join(text.split()).count(case.own_text) == 1
        assert [r["pdf"]["action"] for r in records if r["input"] == f"{name}.pdf"] == \
            ["skipped"]
        return
    truth = " ".join(page.text for page in case.drawn)
    assert error_rates(truth, text)[0] < 0.1, text
    # Each recognised word once: no second layer, no doubled page.
    assert len(text.split()) <= len(truth.split()) + 2


@pytest.mark.parametrize("name", ("ccitt", "jbig2", "jpeg-grey", "jpeg-colour", "outline"))
def test_word_boxes_where_they_were_drawn(grafted, name):
    """pdftotext -bbox boxes within 2 pt of the recognised boxes (json output) and
    on the drawn words."""
    _, _, out, _ = grafted
    bbox = run_tool("pdftotext", "-bbox", str(out / f"{name}.pdf.pdf"), "-")
    pages = re.split(r"<page ", bbox)[1:]
    data = json.loads((out / f"{name}.pdf.json").read_text())
    assert len(pages) == len(data["pages"])
    for page_xml, page in zip(pages, data["pages"], strict=True):
        words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                           r'yMax="([\d.]+)">([^<]*)</word>', page_xml)
        recognised = [w for w in page["words"] if w["text"].strip()]
        assert len(words) == len(recognised)
        scale = SMALL[0] / page["width"]
        lines: dict[tuple[int, int, int], list[float]] = {}
        for w in recognised:
            key = (w["block_num"], w["par_num"], w["line_num"])
            top, bottom = lines.get(key, [1e9, -1e9])
            lines[key] = [min(top, w["box"][1]), max(bottom, w["box"][3])]
        by_text: dict[str, list[tuple[float, ...]]] = {}
        for x0, y0, x1, y1, text in words:
            by_text.setdefault(text, []).append(tuple(map(float, (x0, y0, x1, y1))))
        for w in recognised:
            left, _, right, _ = (v * scale for v in w["box"])
            top, bottom = (v * scale for v in lines[(w["block_num"], w["par_num"],
                                                     w["line_num"])])
            assert any(abs(b[0] - left) <= 2 and abs(b[2] - right) <= 2
                       and abs(b[1] - top) <= 2 and abs(b[3] - bottom) <= 2
                       for b in by_text[w["text"]]), (w, by_text[w["text"]])


def test_manifest_records_what_was_done(grafted):
    _, _, _, records = grafted
    actions = {r["input"]: r["pdf"]["action"] for r in records}
    assert actions["vector.pdf"] == "skipped"
    assert actions["ccitt.pdf"] == "ocr"
    colour = {r["input"]: r["pdf"]["colour"] for r in records}
    assert colour["jpeg-colour.pdf"] and not colour["ccitt.pdf"] and not colour["jpeg-grey.pdf"]
    assert all(r["pdf"]["dpi"] == 300 for r in records if r["input"] != "vector.pdf")


def test_skipped_page_text_in_txt(grafted):
    _, _, out, _ = grafted
    assert "born digital words here" in (out / "vector.pdf.txt").read_text()


# ---- redo and force ---------------------------------------------------------------------

def test_redo_replaces_an_earlier_layer(grafted, tmp_path):
    _, inputs, _, _ = grafted
    summary = run_batch(inputs / "ocr-layer.pdf", tmp_path, formats=("pdf",), workers=1,
                        pdf_text="redo")
    assert summary.failed == 0
    result = tmp_path / "ocr-layer.pdf.pdf"
    qpdf_check(result)
    text = " ".join(run_tool("pdftotext", str(result), "-").split())
    assert "earlier layer words" not in text
    assert len(text.split()) > 5
    assert image_streams(result) == image_streams(inputs / "ocr-layer.pdf")
    record = json.loads((tmp_path / "manifest.jsonl").read_text().splitlines()[0])
    assert record["pdf"]["action"] == "redo"


def test_redo_keeps_visible_text_once(grafted, tmp_path):
    _, inputs, _, _ = grafted
    summary = run_batch(inputs / "vector.pdf", tmp_path, formats=("pdf",), workers=1,
                        pdf_text="redo")
    assert summary.failed == 0
    text = " ".join(run_tool("pdftotext", str(tmp_path / "vector.pdf.pdf"), "-").split())
    assert text.count("born digital words here") == 1


def test_force_rasterises(grafted, tmp_path):
    _, inputs, _, _ = grafted
    summary = run_batch(inputs / "vector.pdf", tmp_path, formats=("pdf",), workers=1,
                        pdf_text="force")
    assert summary.failed == 0
    result = tmp_path / "vector.pdf.pdf"
    qpdf_check(result)
    rows = image_list(result)
    assert len(rows) == 1 and rows[0][8] == "jpeg"
    text = " ".join(run_tool("pdftotext", str(result), "-").split())
    assert text.count("digital") == 1  # the OCR layer's, over the picture of the text


def test_bad_pdf_text_mode(tmp_path):
    with pytest.raises(ValueError, match="pdf_text"):
        run_batch(tmp_path, tmp_path / "out", pdf_text="twice")
    with pytest.raises(ValueError, match="pdf text mode"):
        prepare_page(tmp_path / "x.pdf", 0, mode="twice")


# ---- the coordinate spaces --------------------------------------------------------------

@pytest.mark.parametrize("rotate", (0, 90, 180, 270))
def test_page_matrix_maps_the_shown_page_onto_the_box(rotate):
    box = (-10.0, 20.0, 190.0, 320.0)  # 200 x 300
    shown = (300.0, 200.0) if rotate in (90, 270) else (200.0, 300.0)
    a, b, c, d, e, f = page_matrix(box, rotate, shown[0] / 2, shown[1] / 2)
    corners = {(a * u + c * v + e, b * u + d * v + f)
               for u in (0, shown[0] / 2) for v in (0, shown[1] / 2)}
    assert {(round(x, 6), round(y, 6)) for x, y in corners} == {
        (-10.0, 20.0), (190.0, 20.0), (-10.0, 320.0), (190.0, 320.0)}
    # The shown page's top-left corner lands where a viewer shows the top-left.
    top_left = (c * shown[1] / 2 + e, d * shown[1] / 2 + f)
    expected = {0: (-10.0, 320.0), 90: (-10.0, 20.0), 180: (190.0, 20.0),
                270: (190.0, 320.0)}[rotate]
    assert (round(top_left[0], 6), round(top_left[1], 6)) == expected


@pytest.mark.parametrize(("name", "offset"), (("rotated-90", (0, 0)), ("rotated-180", (0, 0)),
                                            ("cropped-userunit", (50, 40))))
def test_layer_lies_over_the_words_on_turned_and_cropped_pages(grafted, name, offset):
    """pdftotext -bbox (in the shown page, from the MediaBox's corner) finds each word
    within 2 pt of where it was drawn: the layer follows /Rotate, CropBox and UserUnit."""
    cases, _, out, _ = grafted
    bbox = run_tool("pdftotext", "-bbox", str(out / f"{name}.pdf.pdf"), "-")
    drawn = cases[name].drawn[0]
    scale = 72 / drawn.dpi
    found = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                       r'yMax="([\d.]+)">([^<]*)</word>', bbox)
    assert len(found) >= len(drawn.words) - 2
    placed = {}
    for x0, _, x1, y1, text in found:
        placed.setdefault(text, []).append((float(x0), float(x1), float(y1)))
    hits = 0
    for text, (left, _, right, bottom) in drawn.words:
        want = (left * scale + offset[0], right * scale + offset[0],
                bottom * scale + offset[1])
        if any(abs(got[0] - want[0]) <= 2 and abs(got[1] - want[1]) <= 2
               and abs(got[2] - want[2]) <= 3 for got in placed.get(text, [])):
            hits += 1
    assert hits >= 0.9 * len(drawn.words), (placed, drawn.words)


# ---- image inputs -----------------------------------------------------------------------

def test_image_inputs_embedded_as_they_are(tmp_path):
    page = draw_page(50, size=SMALL, lines=4)
    colour = draw_page(51, size=SMALL, lines=4, mode="RGB", colour=(20, 30, 140))
    bilevel = draw_page(52, size=SMALL, lines=4, mode="1")
    page.image.save(tmp_path / "grey.jpg", quality=80, dpi=(300, 300))
    colour.image.save(tmp_path / "colour.png", dpi=(300, 300))
    bilevel.image.save(tmp_path / "bilevel.png", dpi=(300, 300))
    out = tmp_path / "out"
    summary = run_batch(tmp_path, out, formats=("pdf",), workers=2)
    assert summary.failed == 0, summary.failures
    expected = {"grey.jpg": ("jpeg", "gray"), "colour.png": ("image", "rgb"),
                "bilevel.png": ("ccitt", "gray")}
    for name, (encoding, space) in expected.items():
        result = out / f"{name}.pdf"
        qpdf_check(result)
        rows = image_list(result)
        assert len(rows) == 1
        assert rows[0][3:5] == [str(SMALL_PX[0]), str(SMALL_PX[1])]
        assert rows[0][5] == space and rows[0][8] == encoding
        assert rows[0][10:12] == ["300", "300"]
        text = run_tool("pdftotext", str(result), "-")
        truth = {"grey.jpg": page, "colour.png": colour, "bilevel.png": bilevel}[name].text
        assert error_rates(truth, text)[0] < 0.1
    with pikepdf.open(out / "grey.jpg.pdf") as pdf:
        image = next(iter(pdf.pages[0].get_images().values()))
        assert image.read_raw_bytes() == (tmp_path / "grey.jpg").read_bytes()


SMALL_PX = (round(SMALL[0] / 72 * 300), round(SMALL[1] / 72 * 300))


# ---- orientation ------------------------------------------------------------------------

def test_rotate_pages_sets_the_rotation(tmp_path):
    page = draw_page(60, size=(420.0, 300.0), lines=8)
    upside_down = type(page)(page.image.rotate(180), page.words, page.dpi)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "turned.pdf").write_bytes(scanned_pdf([(upside_down, "jpeg")]))
    summary = run_batch(tmp_path / "in", tmp_path / "out", formats=("pdf",), workers=1,
                        rotate_pages=True)
    assert summary.failed == 0
    result = tmp_path / "out" / "turned.pdf.pdf"
    qpdf_check(result)
    with pikepdf.open(result) as pdf:
        assert int(pdf.pages[0].obj.Rotate) == 180
    assert error_rates(page.text, run_tool("pdftotext", str(result), "-"))[0] < 0.1
    record = json.loads((tmp_path / "out" / "manifest.jsonl").read_text().splitlines()[0])
    assert record["pdf"]["rotate"] == 180


# ---- bad input --------------------------------------------------------------------------

def _encrypted(user: str) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(user=user, owner="owner"))
    return out.getvalue()


def test_bad_documents_get_a_record(tmp_path):
    good = scanned_pdf([(draw_page(70, size=SMALL, lines=3), "jpeg")])
    (tmp_path / "in").mkdir()
    files = {"damaged.pdf": good[:len(good) // 3], "locked.pdf": _encrypted("secret"),
             "zero.pdf": _zero_pages()}
    for name, data in files.items():
        (tmp_path / "in" / name).write_bytes(data)
    summary = run_batch(tmp_path / "in", tmp_path / "out", formats=("pdf",), workers=1)
    records = {r["input"]: r for r in map(json.loads, (tmp_path / "out" / "manifest.jsonl")
                                          .read_text().splitlines())}
    assert set(records) == set(files)
    for record in records.values():
        assert record["status"] == "failed" and record["page"] is None
        assert record["error"]["message"]
    assert "password" in records["locked.pdf"]["error"]["message"].lower()
    assert summary.failed == 3


def _zero_pages() -> bytes:
    pdf = pikepdf.new()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_owner_password_only_stays_encrypted(tmp_path):
    page = draw_page(71, size=SMALL, lines=3)
    pdf = pikepdf.open(io.BytesIO(scanned_pdf([(page, "jpeg")])))
    pdf.save(tmp_path / "owner.pdf", encryption=pikepdf.Encryption(user="", owner="owner"))
    summary = run_batch(tmp_path / "owner.pdf", tmp_path / "out", formats=("pdf",), workers=1)
    assert summary.failed == 0, summary.failures
    result = tmp_path / "out" / "owner.pdf.pdf"
    qpdf_check(result)
    with pikepdf.open(result) as done:
        assert done.is_encrypted
    assert error_rates(page.text, run_tool("pdftotext", str(result), "-"))[0] < 0.1


def test_huge_page_is_rendered_to_fit_and_kept(tmp_path):
    """A page too large for MAX_IMAGE_PIXELS at the asked resolution is rendered at the
    largest that fits (issue 17), recorded, and its original kept in the graft."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(14000, 14000))
    pdf.pages[0].obj.UserUnit = 10
    pdf.save(tmp_path / "huge.pdf")
    summary = run_batch(tmp_path / "huge.pdf", tmp_path / "out", formats=("pdf",), workers=1)
    record = json.loads((tmp_path / "out" / "manifest.jsonl").read_text().splitlines()[0])
    assert summary.failed == 0 and record["status"] == "ok", record
    assert record["rendered_dpi"] < 72 and record["pdf"]["dpi"] == record["rendered_dpi"]
    with pikepdf.open(tmp_path / "out" / "huge.pdf.pdf") as out:
        assert float(out.pages[0].obj.UserUnit) == 10


def test_page_the_writer_refuses_is_rasterised(tmp_path):
    page = draw_page(72, size=SMALL, lines=3)
    data = scanned_pdf([(page, "jpeg"), (draw_page(73, size=SMALL, lines=3), "jpeg")])
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.pages[0].obj.Resources.XObject = 5  # not a dictionary: nothing can be added
        pdf.save(tmp_path / "odd.pdf")
    result = graft_rasterising_page_one(tmp_path / "odd.pdf", tmp_path / "out")
    with pikepdf.open(result) as pdf:
        assert len(pdf.pages) == 2
        assert len(pdf.pages[0].get_images()) == 1  # the page as pdfium showed it, an image


def test_graft_errors(tmp_path):
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 nothing")
    with pytest.raises(OcrError, match="cannot open"):
        graft_text_layer(tmp_path / "bad.pdf", {}, tmp_path / "out.pdf")
    (tmp_path / "locked.pdf").write_bytes(_encrypted("secret"))
    with pytest.raises(OcrError, match="password"):
        graft_text_layer(tmp_path / "locked.pdf", {}, tmp_path / "out.pdf")
    (tmp_path / "one.pdf").write_bytes(_zero_pages())
    with pytest.raises(ValueError, match="no page 1"):
        graft_text_layer(tmp_path / "one.pdf", {0: PageLayer()}, tmp_path / "out.pdf")


def test_redo_on_a_grafted_output_replaces_its_layer(grafted, tmp_path):
    """Our own layer (a form XObject of invisible text) counts as an earlier OCR layer:
    skip leaves it, redo removes it and lays a new one, the text once either way."""
    cases, _, out, _ = grafted
    source = tmp_path / "again.pdf"
    source.write_bytes((out / "jpeg-grey.pdf.pdf").read_bytes())
    truth = cases["jpeg-grey"].drawn[0].text
    for mode in ("skip", "redo"):
        summary = run_batch(source, tmp_path / mode, formats=("pdf",), workers=1,
                            pdf_text=mode)
        assert summary.failed == 0
        result = tmp_path / mode / "again.pdf.pdf"
        qpdf_check(result)
        text = run_tool("pdftotext", str(result), "-")
        assert error_rates(truth, text)[0] < 0.1
        assert len(text.split()) <= len(truth.split()) + 2
        record = json.loads((tmp_path / mode / "manifest.jsonl").read_text().splitlines()[0])
        assert record["pdf"]["action"] == {"skip": "skipped", "redo": "redo"}[mode]
    with pikepdf.open(tmp_path / "redo" / "again.pdf.pdf") as pdf:
        names = [str(name) for name in pdf.pages[0].obj.Resources.XObject]
        assert sum(name.startswith("/TbOCR") for name in names) == 2  # old kept, unused
        content = b"".join(s.read_bytes() for s in _contents(pdf.pages[0]))
        assert content.count(b" Do") == 2  # the image and the new layer


def test_image_pdf_takes_odd_modes_losslessly(tmp_path):
    from PIL import Image

    from tightbind.ocr.pdfimage import image_pdf

    rgba = Image.new("RGBA", (400, 200), (255, 255, 255, 0))
    rgba.save(tmp_path / "alpha.png", dpi=(200, 200))
    Image.new("I;16", (300, 100), 500).save(tmp_path / "deep.png")
    palette = Image.new("P", (300, 100), 3)
    palette.info["transparency"] = 3
    palette.save(tmp_path / "palette.gif", transparency=3)
    for name in ("alpha.png", "deep.png", "palette.gif"):
        with pikepdf.open(io.BytesIO(image_pdf(tmp_path / name))) as pdf:
            assert len(pdf.pages) == 1
            [image] = pdf.pages[0].get_images().values()
            assert "/DCTDecode" not in repr(image.get("/Filter"))  # lossless
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(OcrError, match="cannot read the image"):
        image_pdf(tmp_path / "junk.png")


@pytest.mark.slow
@pytest.mark.parametrize("name", ("ccitt", "jbig2", "jpeg-colour", "jpeg-cmyk", "outline",
                                  "form-links", "vector"))
def test_bytes_within_target_of_ocrmypdf(grafted, tmp_path, name):
    """Output bytes at most 1.1x OCRmyPDF 17's on the same file (its own cached venv,
    the same system Tesseract; --skip-text as our default)."""
    from bench._venvs import venv_python
    from bench.pdf import OCRMYPDF

    python, why = venv_python("ocrmypdf", [OCRMYPDF])
    if python is None:
        pytest.skip(f"OCRmyPDF could not be installed: {why}")
    _, inputs, out, _ = grafted
    theirs = tmp_path / "theirs.pdf"
    subprocess.run([str(python.parent / "ocrmypdf"), "-q", "-j", "1", "--output-type", "pdf",
                    "--optimize", "0", "--skip-text", str(inputs / f"{name}.pdf"), str(theirs)],
                   check=True, timeout=600, env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"})
    ours = (out / f"{name}.pdf.pdf").stat().st_size
    assert ours <= 1.1 * theirs.stat().st_size, (ours, theirs.stat().st_size)
