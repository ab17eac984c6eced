"""The PDFs the searchable-PDF tests run on, made here: scans in each encoding, born-digital
pages, rotated, cropped and UserUnit pages, links, a form, an outline, an OCR layer."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from bench.pdfcorpus import DrawnPage, _image_page, draw_page, vector_pdf

SMALL = (300.0, 220.0)  # points: a few lines a page, so the tests stay quick


def run_tool(*command: str) -> str:
    """The output of a command the PDF tests read results with (poppler, qpdf)."""
    return subprocess.run(command, capture_output=True, text=True, check=True,
                          timeout=120).stdout


def graft_rasterising_page_one(source: Path, out: Path, **options: object) -> Path:
    """run_batch's searchable PDF of the two-page ``source`` whose first page the graft
    cannot take: the manifest says that page was rasterised and the second was not, the
    output is valid; returns it."""
    import json

    from tightbind.ocr.batch import run_batch

    summary = run_batch(source, out, formats=("pdf",), workers=1, **options)  # type: ignore[arg-type]
    assert summary.failed == 0, summary.failures
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert "rasterised" in records[0]["pdf"]["fallback"]
    assert "fallback" not in records[1]["pdf"]
    result = out / f"{source.name}.pdf"
    qpdf_check(result)
    return result


def qpdf_check(path: Path) -> None:
    """Fail unless ``qpdf --check`` finds ``path`` a valid PDF."""
    done = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@dataclass
class Case:
    """A generated PDF: what was drawn (to be recognised) and its own text."""

    name: str
    data: bytes
    drawn: list[DrawnPage] = field(default_factory=list)
    own_text: str = ""
    #: whether the drawn pages lie in the page's own coordinates (no turn, no offset)
    plain_layout: bool = True


def _page(seed: int, **options: object) -> DrawnPage:
    return draw_page(seed, size=SMALL, lines=5, **options)  # type: ignore[arg-type]


def _save(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def _scan(drawn: list[tuple[DrawnPage, str]]) -> pikepdf.Pdf:
    pdf = pikepdf.new()
    for page, encoding in drawn:
        _image_page(pdf, page, encoding)
    return pdf


def build_cases() -> list[Case]:
    cases = []
    for name, seed, encoding, options in (
            ("ccitt", 1, "g4", {"mode": "1"}), ("jbig2", 7, "jbig2", {"mode": "1"}),
            ("jpeg-grey", 2, "jpeg", {}),
            ("jpeg-colour", 3, "jpeg", {"mode": "RGB", "colour": (30, 40, 150),
                                        "paper": (250, 240, 210)}),
            ("jpeg-cmyk", 4, "cmyk-jpeg", {"mode": "RGB", "colour": (120, 20, 20)}),
            ("flate-grey", 5, "flate", {}), ("skewed", 6, "jpeg", {"skew": 2.5})):
        page = _page(seed, **options)
        cases.append(Case(name, _save(_scan([(page, encoding)])), [page],
                          plain_layout=name != "skewed"))

    pages = [_page(10), _page(11)]
    pdf = _scan([(pages[0], "jpeg"), (pages[1], "g4")])
    with pdf.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem("First page", 0))
        outline.root.append(pikepdf.OutlineItem("Second page", 1))
    pdf.docinfo["/Title"] = "An outlined document"
    pdf.docinfo["/CreationDate"] = "D:19991231235959Z"
    cases.append(Case("outline", _save(pdf), pages))

    page = _page(12)
    pdf = _scan([(page, "jpeg")])
    link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link,
                              Rect=[10, 10, 120, 30], Border=[0, 0, 0],
                              A=pikepdf.Dictionary(S=pikepdf.Name.URI,
                                                   URI=pikepdf.String("https://example.org/")))
    field_ = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Tx,
        T=pikepdf.String("reference"), V=pikepdf.String("A-4711"), Rect=[150, 10, 290, 30],
        P=pdf.pages[0].obj))
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(link),
                                                               field_]))
    pdf.Root.AcroForm = pdf.make_indirect(pikepdf.Dictionary(Fields=pikepdf.Array([field_])))
    cases.append(Case("form-links", _save(pdf), [page]))

    for rotate in (90, 180):
        page = _page(20 + rotate // 90)
        pdf = _scan([(page, "jpeg")])
        # The scan was stored turned the other way, so the page shows it upright.
        image = page.image.rotate(rotate, expand=True)
        stream = pdf.pages[0].obj.Resources.XObject.Im0
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=75)
        stream.write(buffer.getvalue(), filter=pikepdf.Name.DCTDecode)
        stream.Width, stream.Height = image.width, image.height
        width, height = (image.width * 72 / 300, image.height * 72 / 300)
        pdf.pages[0].obj.MediaBox = [0, 0, width, height]
        pdf.pages[0].obj.Contents = pdf.make_stream(
            f"q {width:.4f} 0 0 {height:.4f} 0 0 cm /Im0 Do Q".encode())
        pdf.pages[0].obj.Rotate = rotate
        cases.append(Case(f"rotated-{rotate}", _save(pdf), [page], plain_layout=False))

    page = _page(30)
    pdf = _scan([(page, "jpeg")])
    media = [float(v) for v in pdf.pages[0].mediabox]
    # Offset MediaBox, a CropBox inside it, and UserUnit 2: the page shows as before.
    pdf.pages[0].obj.MediaBox = [-50, -40, media[2] + 50, media[3] + 40]
    pdf.pages[0].obj.CropBox = [0, 0, media[2], media[3]]
    pdf.pages[0].obj.UserUnit = 2
    cases.append(Case("cropped-userunit", _save(pdf), [page], plain_layout=False))

    cases.append(Case("vector", vector_pdf(["born digital words here",
                                            "a second line of text"]),
                      own_text="born digital words here"))
    under = _page(40)
    cases.append(Case("ocr-layer", vector_pdf(["earlier layer words"], invisible=True,
                                              under_image=under),
                      [under], own_text="earlier layer words"))
    return cases


def write_cases(folder: Path) -> dict[str, Case]:
    cases = {case.name: case for case in build_cases()}
    for case in cases.values():
        (folder / f"{case.name}.pdf").write_bytes(case.data)
    return cases


# ---- pages in other scripts: right to left, CJK, vertical CJK -------------------------

ARABIC_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # fonts-wqy-microhei
#: name -> (Tesseract language, page segmentation mode, font, lines, direction)
SCRIPT_PAGES = {
    "arabic": ("ara", None, ARABIC_FONT,
               ["مرحبا بالعالم الكبير", "هذا اختبار للنص العربي", "كتاب جديد في المكتبة"],
               "rtl"),
    "chinese": ("chi_sim", None, CJK_FONT,
                ["图书馆档案记录。", "今天天气很好，", "中文测试文本"], "ltr"),
    "chinese-vertical": ("chi_sim_vert", 5, CJK_FONT,
                         ["图书馆档案记录", "今天天气很好", "中文测试文本"], "ttb"),
}


def script_missing(name: str) -> str | None:
    """Why the page ``name`` of SCRIPT_PAGES cannot be drawn here, or None."""
    from PIL import features

    font = SCRIPT_PAGES[name][2]
    if not font.exists():
        return f"no {font} (Debian's fonts-dejavu-core / fonts-wqy-microhei)"
    if SCRIPT_PAGES[name][4] == "rtl" and not features.check("raqm"):
        return "Pillow has no raqm (libfribidi) to lay out right-to-left text"
    return None


def script_page(name: str, dpi: int = 300) -> DrawnPage:
    """The page ``name`` of SCRIPT_PAGES (SMALL, at ``dpi``): horizontal lines from the
    left or (right to left) from the right margin, or columns from the right, each
    character upright below the one before; words as (text, box in pixels)."""
    from PIL import Image, ImageDraw, ImageFont

    _, _, font_path, lines, direction = SCRIPT_PAGES[name]
    size = (SMALL[1], SMALL[0]) if direction == "ttb" else SMALL
    width, height = round(size[0] / 72 * dpi), round(size[1] / 72 * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    em = round(dpi * 0.16)
    font = ImageFont.truetype(str(font_path), em)
    margin = round(dpi * 0.4)
    words: list[tuple[str, tuple[int, int, int, int]]] = []
    for number, line in enumerate(lines):
        if direction == "ttb":
            x, y = width - margin - em - round(em * 1.8) * number, margin
            boxes = []
            for char in line:
                boxes.append(draw.textbbox((x, y), char, font=font))
                draw.text((x, y), char, font=font, fill=0)
                y += round(em * 1.05)
            words.append((line, (min(b[0] for b in boxes), min(b[1] for b in boxes),
                                 max(b[2] for b in boxes), max(b[3] for b in boxes))))
            continue
        y = margin + round(dpi * 0.32) * number
        x = width - margin if direction == "rtl" else margin
        for word in line.split():
            length = draw.textlength(word, font=font, direction=direction)
            at = (x - length, y) if direction == "rtl" else (x, y)
            box = draw.textbbox(at, word, font=font, direction=direction)
            draw.text(at, word, font=font, fill=0, direction=direction)
            words.append((word, tuple(round(v) for v in box)))  # type: ignore[misc]
            step = length + draw.textlength(" ", font=font)
            x = x - step if direction == "rtl" else x + step
    return DrawnPage(image, words, dpi)


# ---- earlier OCR layers inside form XObjects ("redo") ----------------------------------

LAYER_TEXT = "earlier layer words"


def _helvetica() -> pikepdf.Dictionary:
    return pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name.Helvetica)


def _text_form(pdf: pikepdf.Pdf, content: str, forms: dict[str, pikepdf.Object] | None = None
               ) -> pikepdf.Object:
    """A form XObject over the SMALL page drawing ``content`` with /F1 (Helvetica) and
    ``forms`` (name -> form) as its own resources."""
    resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=_helvetica()))
    if forms:
        resources.XObject = pikepdf.Dictionary({f"/{k}": v for k, v in forms.items()})
    form = pikepdf.Stream(pdf, content.encode())
    form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
    form.BBox = [0, 0, SMALL[0], SMALL[1]]
    form.Resources = resources
    return pdf.make_indirect(form)


def _shown(text: str, y: float, mode: int) -> str:
    return f"BT {mode} Tr /F1 8 Tf 1 0 0 1 20 {y} Tm ({text}) Tj ET"


def form_layer_cases() -> dict[str, tuple[bytes, list[DrawnPage], list[str]]]:
    """Scanned pages with an earlier OCR layer (LAYER_TEXT, invisible) inside form
    XObjects, and visible text beside it: name -> (PDF, drawn pages, visible texts).

    - "form-layer": the page draws a form holding only the invisible layer;
    - "form-mixed": one form holds visible text and the invisible layer;
    - "nested": the page draws a form with visible text that sets render mode 3 and
      draws an inner form whose text has no mode of its own (invisible by inheritance);
    - "shared": two pages draw the same mixed form (page 1's resources indirect).
    """
    cases = {}
    page = _page(80)
    pdf = _scan([(page, "jpeg")])
    form = _text_form(pdf, _shown(LAYER_TEXT, 120, 3))
    pdf.pages[0].add_resource(form, pikepdf.Name.XObject, name=pikepdf.Name("/OCR1"))
    pdf.pages[0].contents_add(pdf.make_stream(b"q /OCR1 Do Q"), prepend=False)
    cases["form-layer"] = (_save(pdf), [page], [])

    page = _page(81)
    pdf = _scan([(page, "jpeg")])
    form = _text_form(pdf, _shown("visible form words", 12, 0) + "\n"
                      + _shown(LAYER_TEXT, 120, 3))
    pdf.pages[0].add_resource(form, pikepdf.Name.XObject, name=pikepdf.Name("/Fm1"))
    pdf.pages[0].contents_add(pdf.make_stream(b"q /Fm1 Do Q"), prepend=False)
    cases["form-mixed"] = (_save(pdf), [page], ["visible form words"])

    page = _page(82)
    pdf = _scan([(page, "jpeg")])
    inner = _text_form(pdf, "BT /F1 8 Tf 1 0 0 1 20 120 Tm (" + LAYER_TEXT + ") Tj ET")
    outer = _text_form(pdf, _shown("outer visible words", 12, 0) + "\nq 3 Tr /In Do Q",
                       {"In": inner})
    pdf.pages[0].add_resource(outer, pikepdf.Name.XObject, name=pikepdf.Name("/Out"))
    pdf.pages[0].contents_add(pdf.make_stream(b"q /Out Do Q"), prepend=False)
    cases["nested"] = (_save(pdf), [page], ["outer visible words"])

    pages = [_page(83), _page(84)]
    pdf = _scan([(pages[0], "jpeg"), (pages[1], "jpeg")])
    form = _text_form(pdf, _shown("shared visible words", 12, 0) + "\n"
                      + _shown(LAYER_TEXT, 120, 3))
    shared = pdf.make_indirect(pikepdf.Dictionary(
        XObject=pikepdf.Dictionary(Im0=pdf.pages[0].obj.Resources.XObject.Im0, Fm1=form)))
    second_image = pdf.pages[1].obj.Resources.XObject.Im0
    pdf.pages[0].obj.Resources = shared
    pdf.pages[1].obj.Resources = pikepdf.Dictionary(
        XObject=pikepdf.Dictionary(Im0=second_image, Fm1=form))
    for number in (0, 1):
        pdf.pages[number].contents_add(pdf.make_stream(b"q /Fm1 Do Q"), prepend=False)
    cases["shared"] = (_save(pdf), pages, ["shared visible words"] * 2)
    return cases
