"""The tightocr compatibility package runs TightOCR's seed example unchanged."""

from __future__ import annotations

import os
import subprocess
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
RECEIPT = ["CORNER SHOP", "", "Milk 1.20", "Bread 2.50", "", "Total 3.70"]

SEED = """\
from tightocr.adapters.api_adapter import TessApi
from tightocr.adapters.lept_adapter import pix_read
from tightocr.constants import RIL_PARA

t = TessApi(None, 'eng')
p = pix_read('receipt.png')
t.set_image_pix(p)
t.recognize()
if t.mean_text_confidence() < 85:
    raise Exception("Too much error.")
for block in t.iterate(RIL_PARA):
    print(block)
print(t.get_utf8_text())
"""


def make_receipt(path: str) -> None:
    font = ImageFont.truetype(FONT, 40)
    image = Image.new("L", (700, 120 + 60 * len(RECEIPT)), 255)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(RECEIPT):
        draw.text((60, 60 + 60 * row), line, font=font, fill=0)
    image.save(path, dpi=(300, 300))


def test_seed_example_runs_unchanged(tmp_path):
    make_receipt(str(tmp_path / "receipt.png"))
    done = subprocess.run([sys.executable, "-c", SEED], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ), check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    paragraphs = "CORNER SHOP\n\n\nMilk 1.20\nBread 2.50\n\n\nTotal 3.70\n\n"
    # iterate(RIL_PARA) prints each paragraph (ending in a newline), then the whole text.
    assert done.stdout == paragraphs + "CORNER SHOP\n\nMilk 1.20\nBread 2.50\n\nTotal 3.70\n\n"


def test_names_are_tightbind_objects():
    from tightbind import ocr
    from tightocr import constants
    from tightocr.adapters import api_adapter, lept_adapter

    assert api_adapter.TessApi is ocr.TessApi
    assert lept_adapter.pix_read is ocr.pix_read
    assert (constants.RIL_BLOCK, constants.RIL_PARA, constants.RIL_TEXTLINE,
            constants.RIL_WORD, constants.RIL_SYMBOL) == (0, 1, 2, 3, 4)
