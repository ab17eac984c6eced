"""Redoing OCR (tightbind.ocr.pdfstrip): an earlier invisible layer inside form XObjects
(nested, shared between pages) is stripped, visible text stays, other pages' use of a
shared form is kept, and a page that cannot be stripped is left as it was."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pikepdf = pytest.importorskip("pikepdf")
pytest.importorskip("pypdfium2")

from helpers.pdfcases import (  # noqa: E402
    LAYER_TEXT,
    form_layer_cases,
    graft_rasterising_page_one,
    qpdf_check,
)

from bench.pdfcorpus import draw_page, scanned_pdf  # noqa: E402
from tightbind.bench.batch import error_rates  # noqa: E402
from tightbind.ocr import OcrError  # noqa: E402
from tightbind.ocr.batch import run_batch  # noqa: E402
from tightbind.ocr.pdfgraft import PageLayer, graft_text_layer  # noqa: E402
from tightbind.ocr.pdfstrip import strip_invisible_text  # noqa: E402

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("qpdf", "pdftotext")),
    reason="needs qpdf and poppler-utils")


def _text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return " ".join(subprocess.run(["pdftotext", *pages, str(path), "-"], capture_output=True,
                                   text=True, check=True, timeout=120).stdout.split())


CASES = form_layer_cases()


@pytest.fixture(scope="module")
def redone(tmp_path_factory):
    folder = tmp_path_factory.mktemp("redo")
    (folder / "in").mkdir()
    for name, (data, _, _) in CASES.items():
        (folder / "in" / f"{name}.pdf").write_bytes(data)
    summary = run_batch(folder / "in", folder / "out", formats=("pdf",), workers=1,
                        pdf_text="redo")
    assert summary.failed == 0, summary.failures
    records = [json.loads(line) for line in
               (folder / "out" / "manifest.jsonl").read_text().splitlines()]
    return folder, records


@pytest.mark.parametrize("name", list(CASES))
def test_input_has_its_layer(tmp_path, name):
    """The inputs are what they claim: pdftotext finds the earlier layer once a page."""
    data, drawn, _ = CASES[name]
    (tmp_path / "in.pdf").write_bytes(data)
    assert _text(tmp_path / "in.pdf").count(LAYER_TEXT) == len(drawn)


@pytest.mark.parametrize("name", list(CASES))
def test_redo_strips_the_layer_in_forms(redone, name):
    """The earlier layer is gone, the visible text is there once, the new OCR text once."""
    folder, records = redone
    _, drawn, visible = CASES[name]
    result = folder / "out" / f"{name}.pdf.pdf"
    qpdf_check(result)
    for number, page in enumerate(drawn, start=1):
        text = _text(result, number)
        assert LAYER_TEXT not in text, text
        own = visible[number - 1] if visible else ""
        if own:
            assert text.count(own) == 1, text
        ocr = text.replace(own, " ") if own else text
        assert error_rates(page.text, ocr)[0] < 0.1, (page.text, ocr)
        assert len(ocr.split()) <= len(page.text.split()) + 2, ocr  # not read twice
    for record in records:
        if record["input"] == f"{name}.pdf":
            assert record["pdf"]["action"] == "redo" and "fallback" not in record["pdf"]


def test_shared_form_kept_for_the_other_page(tmp_path):
    """Redoing page 1 only: page 2 still draws the shared form as it was (its layer and
    visible text), through the same unchanged object."""
    data, _, _ = CASES["shared"]
    source = tmp_path / "shared.pdf"
    source.write_bytes(data)
    out = tmp_path / "out.pdf"
    fallbacks = graft_text_layer(source, {0: PageLayer(strip=True)}, out)
    assert fallbacks == {}
    qpdf_check(out)
    assert LAYER_TEXT not in _text(out, 1) and "shared visible words" in _text(out, 1)
    assert _text(out, 2).count(LAYER_TEXT) == 1
    assert _text(out, 2).count("shared visible words") == 1
    with pikepdf.open(source) as before, pikepdf.open(out) as after:
        old = before.pages[1].obj.Resources.XObject.Fm1.read_bytes()
        assert after.pages[1].obj.Resources.XObject.Fm1.read_bytes() == old
        assert after.pages[0].obj.Resources.XObject.Fm1.read_bytes() != old


def test_a_form_drawn_twice_is_stripped_once(tmp_path):
    """The same form drawn twice on a page (and with two render modes) is replaced by
    one copy for each mode it is drawn with."""
    data, _, _ = CASES["form-mixed"]
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        page.contents_add(pdf.make_stream(b"q 1 0 0 1 0 60 cm /Fm1 Do Q"), prepend=False)
        assert strip_invisible_text(pdf, page)
        assert strip_invisible_text(pdf, page) is False  # nothing left to remove
        pdf.save(tmp_path / "twice.pdf")
    qpdf_check(tmp_path / "twice.pdf")
    text = _text(tmp_path / "twice.pdf")
    assert LAYER_TEXT not in text and text.count("visible form words") == 2


def test_unreadable_form_leaves_the_page_as_it_was(tmp_path):
    """A form whose content cannot be decoded: strip raises and the page is untouched; in
    a batch the page falls back to a rasterised copy (recorded), the others unharmed."""
    page = draw_page(85, size=(300.0, 220.0), lines=5)
    data = scanned_pdf([(page, "jpeg"), (draw_page(86, size=(300.0, 220.0), lines=5), "jpeg")])
    with pikepdf.open(io.BytesIO(data)) as pdf:
        invisible = pdf.make_stream(b"BT 3 Tr /F1 8 Tf 20 120 Td (" + LAYER_TEXT.encode()
                                    + b") Tj ET")
        invisible.Type, invisible.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
        invisible.BBox = [0, 0, 300, 220]
        invisible.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica)))
        broken = pikepdf.Stream(pdf, b"")
        broken.write(b"not deflated at all", filter=pikepdf.Name.FlateDecode)
        broken.Type, broken.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
        broken.BBox = [0, 0, 300, 220]
        first = pdf.pages[0]
        first.add_resource(invisible, pikepdf.Name.XObject, name=pikepdf.Name("/OCR1"))
        first.add_resource(broken, pikepdf.Name.XObject, name=pikepdf.Name("/Bad"))
        first.contents_add(pdf.make_stream(b"q /OCR1 Do Q q /Bad Do Q"), prepend=False)
        pdf.save(tmp_path / "odd.pdf")
    with pikepdf.open(tmp_path / "odd.pdf") as pdf:
        before = (repr(pdf.pages[0].obj.Contents), repr(pdf.pages[0].obj.Resources))
        with pytest.raises(OcrError, match="cannot read the content of the form"):
            strip_invisible_text(pdf, pdf.pages[0])
        assert (repr(pdf.pages[0].obj.Contents), repr(pdf.pages[0].obj.Resources)) == before
    result = graft_rasterising_page_one(tmp_path / "odd.pdf", tmp_path / "out", pdf_text="redo")
    assert LAYER_TEXT not in _text(result, 1)
    assert error_rates(page.text, _text(result, 1))[0] < 0.1


def test_form_loops_and_deep_nesting(tmp_path):
    """A form that draws itself: strip ends and removes its layer, the file stays valid;
    a chain of forms deeper than the stripper follows: OcrError, the page untouched."""
    data, _, _ = CASES["form-layer"]
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        looped = pdf.make_stream(b"BT 3 Tr /F1 8 Tf 20 60 Td (looped layer) Tj ET /Me Do")
        looped.Type, looped.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
        looped.BBox = [0, 0, 300, 220]
        looped.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Me=looped),
                                              Font=pdf.pages[0].obj.Resources.XObject.OCR1
                                              .Resources.Font)
        page.add_resource(looped, pikepdf.Name.XObject, name=pikepdf.Name("/Loop"))
        page.contents_add(pdf.make_stream(b"q /Loop Do Q"), prepend=False)
        assert strip_invisible_text(pdf, page)
        pdf.save(tmp_path / "loops.pdf")
    qpdf_check(tmp_path / "loops.pdf")
    text = _text(tmp_path / "loops.pdf")
    assert LAYER_TEXT not in text and "looped layer" not in text
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        font = page.obj.Resources.XObject.OCR1.Resources.Font
        chain = pdf.make_stream(b"BT 3 Tr /F1 8 Tf 20 30 Td (deep layer) Tj ET")
        chain.Type, chain.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
        chain.BBox = [0, 0, 300, 220]
        chain.Resources = pikepdf.Dictionary(Font=font)
        for _ in range(40):
            holder = pdf.make_stream(b"/Next Do")
            holder.Type, holder.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
            holder.BBox = [0, 0, 300, 220]
            holder.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Next=chain))
            chain = holder
        page.add_resource(chain, pikepdf.Name.XObject, name=pikepdf.Name("/Deep"))
        page.contents_add(pdf.make_stream(b"q /Deep Do Q"), prepend=False)
        before = (repr(page.obj.Contents), repr(page.obj.Resources))
        with pytest.raises(OcrError, match="nested deeper"):
            strip_invisible_text(pdf, page)
        assert (repr(page.obj.Contents), repr(page.obj.Resources)) == before


def test_next_line_shows_keep_their_move(tmp_path):
    """An invisible ' or " show also moves to the next line: stripped, the move stays,
    so the visible line after it is where it was."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 220))
    page = pdf.pages[0]
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)))
    page.obj.Contents = pdf.make_stream(
        b"BT /F1 10 Tf 12 TL 20 200 Td 3 Tr (hidden one) ' 1 0.5 (hidden two) \" "
        b"0 Tr (visible third) ' ET")
    assert strip_invisible_text(pdf, page)
    pdf.save(tmp_path / "moves.pdf")
    qpdf_check(tmp_path / "moves.pdf")
    bbox = subprocess.run(["pdftotext", "-bbox", str(tmp_path / "moves.pdf"), "-"],
                          capture_output=True, text=True, check=True, timeout=60).stdout
    assert "hidden" not in bbox
    # Three line moves of 12 pt from y=200: the baseline at 164, 56 pt from the top (one
    # move, were the removed shows' moves lost: 32 pt).
    [bottom] = [float(v) for v in re.findall(r'yMax="([\d.]+)">third<', bbox)]
    assert 56 <= bottom <= 60, bbox
