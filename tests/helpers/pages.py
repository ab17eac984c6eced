"""Rendered test pages with known words and positions, and the `tesseract` command as the
oracle.  Images are drawn with Pillow and DejaVu Sans at 300 dpi."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from tightbind.ocr import (
    TessApi,
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


def recognized(api: TessApi, image) -> TessApi:
    api.set_image(image)
    api.recognize()
    return api
