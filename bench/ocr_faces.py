"""OCR benchmark table for the compatibility faces: ``tightbind.ocr.pytesseract`` against
the real pytesseract on the same images, per call.

Both run in this process, interleaved round by round; the real pytesseract starts
Debian's ``tesseract`` command for every call, with ``OMP_THREAD_LIMIT=1`` (tightbind's
engines use one OpenMP thread too).  Images: the benchmark's page, a rendered line and a
rendered word (PNG files, passed by path as most pytesseract code does).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from tightbind.bench._report import Table, interleaved

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _small_images(folder: Path) -> dict[str, Path]:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 40)
    out = {}
    for name, text in (("a line", "Invoice 4711 dated 2024-07-01 totals 385.20 EUR"),
                       ("a word", "Invoice")):
        width = int(font.getlength(text)) + 40
        image = Image.new("L", (width, 90), 255)
        ImageDraw.Draw(image).text((20, 20), text, font=font, fill=0)
        out[name] = folder / f"{name.replace(' ', '_')}.png"
        image.save(out[name])
    return out


def pytesseract_table(page: Path, label: str, folder: Path, quick: bool) -> Table:
    """``image_to_string`` and ``image_to_data`` per call: the face against pytesseract."""
    from tightbind.ocr import pytesseract as face

    table = Table("OCR: tightbind.ocr.pytesseract vs pytesseract, per call",
                  ["image", "call", "tightbind ms", "pytesseract ms", "speed-up"])
    if importlib.util.find_spec("pytesseract") is None:
        table.notes.append("pytesseract is not installed: skipped (pip install -r "
                           "requirements/bench.txt)")
        return table
    import pytesseract

    images = {f"full page ({label})": page, **_small_images(folder)}
    rounds = 2 if quick else 5
    saved = os.environ.get("OMP_THREAD_LIMIT")
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        for name, path in images.items():
            for call in ("image_to_string", "image_to_data"):
                ours, theirs = getattr(face, call), getattr(pytesseract, call)
                if ours(str(path)) != theirs(str(path)):
                    table.notes.append(f"{call} on {name}: results differ")
                times = interleaved({"tightbind": lambda: ours(str(path)),  # noqa: B023
                                     "pytesseract": lambda: theirs(str(path))},  # noqa: B023
                                    rounds=rounds, min_time=0.0)
                table.rows.append([name, call, times["tightbind"] * 1000,
                                   times["pytesseract"] * 1000,
                                   f"{times['pytesseract'] / times['tightbind']:.2f}x"])
    finally:
        if saved is None:
            os.environ.pop("OMP_THREAD_LIMIT", None)
        else:
            os.environ["OMP_THREAD_LIMIT"] = saved
    table.notes.append(f"median of {rounds} interleaved calls each after a warm-up call "
                       "(tightbind's engine loaded once; pytesseract starts the tesseract "
                       "command, OMP_THREAD_LIMIT=1, every call); results checked equal "
                       "first; speed-up is pytesseract's time over tightbind's")
    for row in table.rows:
        table.headlines.append([f"pytesseract.{row[1]}, {row[0]}", f"{row[2]:.1f} ms",
                                "pytesseract", row[4]])
    return table
