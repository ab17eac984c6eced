"""The invisible text layer of a searchable PDF page, laid out from the recognised words.

Tesseract's text-only page (``textonly_pdf=1``) brings the font, its GlyphLessFont (every
glyph half an em wide and invisible, a ToUnicode map from each UTF-16 code to itself);
:func:`layout_text_page` replaces the page's content with tightbind's own layout of the
words, one line at a time, in every writing direction Tesseract recognises:

- left to right: each word stretched over its box on the line's bottom edge, a space
  stretched over each gap where Tesseract's text has one (so extractors read whole lines,
  and CJK words that Tesseract joins stay joined);
- right to left (Arabic, Hebrew, any script of bidirectional class R or AL): the same
  boxes, each word drawn in visual order (its right-to-left runs reversed), as a PDF that
  shows such text holds it, so extractors, which reorder visual text into logical order,
  give the words as Tesseract read them rather than reversed;
- top to bottom (vertical CJK such as ``chi_sim_vert``): the text turned a quarter
  clockwise, each word stretched down its box, so extractors read each column from the top
  and the columns from right to left, and a word's box is tall and narrow; bottom to top
  (text turned the other way) likewise.

Characters outside the Basic Multilingual Plane take two codes of the Identity-H font (a
UTF-16 surrogate pair), which its ToUnicode map cannot join: such words carry their text
as ``/ActualText`` too.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from typing import Any

__all__ = ["LayerWord", "layer_words", "layout_text_page", "visual_order"]

#: Bidirectional classes read right to left (numbers, Arabic-Indic ones too, read left to
#: right inside them) and those that join the run before.
_STRONG_RTL = frozenset(("R", "AL"))
_ATTACHED = frozenset(("NSM", "BN"))


@dataclass(frozen=True)
class LayerWord:
    """A recognised word as the layer draws it: ``text`` (logical order), ``box`` (left,
    top, right, bottom in pixels), ``line`` (a key shared by the words of its line),
    ``space_before`` (Tesseract's text has a space before it in its line) and the line's
    ``direction``: "ltr", "rtl", "ttb" (top to bottom) or "btt"."""

    text: str
    box: tuple[int, int, int, int]
    line: tuple[int, int, int]
    space_before: bool = True
    direction: str = "ltr"


def visual_order(text: str) -> str:
    """``text`` (one word, logical order) in the order a left-to-right drawing shows it:
    its runs of right-to-left characters reversed, and the runs in reverse order when the
    word has any right-to-left character (a one-word version of Unicode's bidi rules:
    digits, Arabic-Indic ones too, and Latin inside an Arabic word keep their own
    order)."""
    classes = [unicodedata.bidirectional(char) for char in text]
    if not any(kind in _STRONG_RTL for kind in classes):
        return text
    runs: list[tuple[bool, list[str]]] = []
    for char, kind in zip(text, classes, strict=True):
        rtl = kind in _STRONG_RTL if kind not in _ATTACHED or not runs else runs[-1][0]
        if runs and runs[-1][0] == rtl:
            runs[-1][1].append(char)
        else:
            runs.append((rtl, [char]))
    return "".join("".join(reversed(chars)) if rtl else "".join(chars)
                   for rtl, chars in reversed(runs))


def _line_direction(texts: list[str], baseline: tuple[float, float]) -> str:
    dx, dy = baseline
    if abs(dy) > abs(dx):
        return "ttb" if dy > 0 else "btt"
    rtl = ltr = 0
    for text in texts:
        for char in text:
            kind = unicodedata.bidirectional(char)
            rtl += kind in _STRONG_RTL
            ltr += kind == "L"
    return "rtl" if rtl > ltr else "ltr"


def _span(words: list[Any], members: list[int], high: int, low: int) -> int:
    """The extent of the ``members``' boxes between box sides ``low`` and ``high``."""
    return (max(words[n].box[high] for n in members)
            - min(words[n].box[low] for n in members))


def layer_words(api: Any) -> list[LayerWord]:
    """The recognised words of ``api``'s page (a :class:`~tightbind.ocr.TessApi` after
    recognition) for :func:`layout_text_page`: text and box as :meth:`TessApi.results`
    gives them, whether Tesseract's text puts a space before each (its blanks before the
    word where ``preserve_interword_spaces`` is on, as for Chinese and Japanese; else a
    space between any two words), and each line's direction from its baselines and its
    script."""
    from tightbind.ocr.constants import PageIteratorLevel

    words = [w for w in api.results() if w.text.strip()]
    lines: dict[tuple[int, int, int], list[int]] = {}
    for number, word in enumerate(words):
        lines.setdefault((word.block_num, word.par_num, word.line_num), []).append(number)
    preserve = api.get_bool_variable("preserve_interword_spaces")
    # The page's rows (blanks before each word, baselines) cost a walk of the page: read
    # only when spacing is Tesseract's own or some line of several words stands upright.
    upright = any(len(members) > 1
                  and _span(words, members, 3, 1) > _span(words, members, 2, 0)
                  for members in lines.values())
    rows: list[Any] = []
    if preserve or upright:
        rows = [item for item in api.page_rows().items(PageIteratorLevel.WORD)
                if item.text and item.text.strip()]
        if len(rows) != len(words):  # not the same walk: plain spacing, boxes' directions
            rows = []
    out: list[LayerWord | None] = [None] * len(words)
    for key, members in lines.items():
        dx = dy = 0.0
        for number in members:
            baseline = rows[number].baseline if rows else None
            if baseline is not None:
                (x1, y1), (x2, y2) = baseline
            else:
                x1, _, x2, y1 = words[number].box
                y2 = y1
            dx, dy = dx + x2 - x1, dy + y2 - y1
        direction = _line_direction([words[n].text for n in members], (dx, dy))
        for place, number in enumerate(members):
            space = place > 0 and (rows[number].blanks_before > 0
                                   if preserve and rows else True)
            word = words[number]
            out[number] = LayerWord(word.text.strip(), word.box, key, space,
                                    direction)
    return [word for word in out if word is not None]


def _shown(text: str) -> bytes:
    """``text`` as a hex string of the text-only page's font (Identity-H, UTF-16BE)."""
    return b"<" + text.encode("utf-16-be").hex().encode() + b">"


def _codes(text: str) -> int:
    """How many glyphs of the font ``text`` takes: its UTF-16 code units."""
    return len(text.encode("utf-16-be")) // 2


def _scale(length: float, glyphs: int, size: float) -> float:
    """The horizontal scaling (Tz) that makes ``glyphs`` glyphs of the GlyphLessFont
    (each half an em wide) at ``size`` span ``length``."""
    return max(1.0, min(10000.0, 100.0 * length / max(1, glyphs) / (0.5 * size)))


def _number(value: float) -> str:
    return f"{value:.2f}"


def _show(text: str, matrix: tuple[float, ...], length: float, size: float) -> list[bytes]:
    """Operators drawing ``text`` from the origin of ``matrix`` (Tm) stretched to
    ``length`` along its direction; text outside the BMP with its /ActualText."""
    glyphs = _codes(text)
    ops = [(" ".join(_number(v) for v in matrix) + " Tm "
            + f"{_scale(length, glyphs, size):.3f} Tz").encode() + b" " + _shown(text)
           + b" Tj"]
    if glyphs != len(text):
        actual = b"<feff" + text.encode("utf-16-be").hex().encode() + b">"
        ops = [b"/Span <</ActualText " + actual + b">> BDC", *ops, b"EMC"]
    return ops


def _extents(line: list[LayerWord]) -> list[tuple[int, int]]:
    """Each word's (start, end) along the line's reading direction (in a coordinate that
    grows that way), ended where the next word starts when Tesseract's text joins the two
    (a CJK line reads as one run, not words split by the gaps of their boxes) or when the
    boxes overlap (a word never reaches back over the next)."""
    spans = []
    for word in line:
        left, top, right, bottom = word.box
        spans.append({"ltr": (left, right), "rtl": (-right, -left), "ttb": (top, bottom),
                      "btt": (-bottom, -top)}[word.direction])
    out = []
    for number, (start, end) in enumerate(spans):
        if number + 1 < len(spans):
            following = spans[number + 1][0]
            if following > start and (following < end or not line[number + 1].space_before):
                end = following
        out.append((start, end))
    return out


def _draw_line(ops: list[bytes], line: list[LayerWord], scale: tuple[float, float],
               height: int, size: float) -> None:
    """One line: horizontal on the bottom edge of its boxes; a column top to bottom
    (glyph tops to the right, baseline on its left edge) or bottom to top (tops to the
    left, baseline on its right edge).  The space before a word spans the gap to it."""
    sx, sy = scale
    direction = line[0].direction
    baseline = (height - max(w.box[3] for w in line)) * sy
    left = min(w.box[0] for w in line) * sx
    right = max(w.box[2] for w in line) * sx

    def place(start: int, end: int) -> tuple[tuple[float, ...], float]:
        """The text matrix and length drawing over [start, end) of the reading axis."""
        if direction == "ltr":
            return (1, 0, 0, 1, start * sx, baseline), (end - start) * sx
        if direction == "rtl":  # drawn left to right from the left end, in visual order
            return (1, 0, 0, 1, -end * sx, baseline), (end - start) * sx
        if direction == "ttb":
            return (0, -1, 1, 0, left, (height - start) * sy), (end - start) * sy
        return (0, 1, -1, 0, right, (height + start) * sy), (end - start) * sy

    extents = _extents(line)
    for number, (word, (start, end)) in enumerate(zip(line, extents, strict=True)):
        if number and word.space_before:  # the gap, from the end of the word before
            gap_start = extents[number - 1][1]
            matrix, length = place(gap_start, max(gap_start, start))
            ops.extend(_show(" ", matrix, length, size))
        matrix, length = place(start, end)
        text = visual_order(word.text) if direction in ("ltr", "rtl") else word.text
        ops.extend(_show(text, matrix, length, size))


def layout_text_page(text_pdf: bytes, words: list[LayerWord], width: int,
                     height: int) -> bytes:
    """Tesseract's text-only page ``text_pdf`` (of a ``width`` x ``height`` pixel image)
    with its content replaced by a line-by-line layout of ``words`` (in Tesseract's
    reading order), keeping its font, as the module says.  Raises
    :class:`~tightbind.ocr.pdfgraft.PdfWriteMissing` without pikepdf."""
    from tightbind.ocr.pdfgraft import _pikepdf

    pikepdf = _pikepdf()
    lines: dict[tuple[int, int, int], list[LayerWord]] = {}
    for word in words:
        if word.text.strip():
            lines.setdefault(word.line, []).append(word)
    with pikepdf.open(io.BytesIO(text_pdf)) as pdf:
        page = pdf.pages[0]
        media = [float(v) for v in page.mediabox]
        scale = ((media[2] - media[0]) / width, (media[3] - media[1]) / height)
        font = next(iter(page.Resources.Font.keys()))
        ops = [b"BT", b"3 Tr"]
        for line in lines.values():
            vertical = line[0].direction in ("ttb", "btt")
            if vertical:
                size = max(1.0, (max(w.box[2] for w in line)
                                 - min(w.box[0] for w in line)) * scale[0])
            else:
                size = max(1.0, (max(w.box[3] for w in line)
                                 - min(w.box[1] for w in line)) * scale[1])
            ops.append(f"{font} {size:.2f} Tf".encode())
            _draw_line(ops, line, scale, height, size)
        ops.append(b"ET")
        page.obj.Contents = pdf.make_stream(b"\n".join(ops))
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
        return out.getvalue()
