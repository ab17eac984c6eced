"""Decode and recognise randomly damaged images; run in a subprocess by test_ocr.py.

Usage: python mutate.py SEED COUNT.  Prints "<decoded> <refused>"; a crash kills the
process and anything a native library prints shows on stderr, both of which the test
checks.
"""

from __future__ import annotations

import io
import random
import sys

from PIL import Image, ImageDraw

from tightbind.ocr import OcrError, Pix, TessApi

rng = random.Random(int(sys.argv[1]))
image = Image.new("L", (120, 60), 255)
ImageDraw.Draw(image).text((5, 20), "fuzz 42", fill=0)
seeds = {}
for fmt, options in (("PNG", {}), ("JPEG", {}), ("TIFF", {}), ("TIFF", {"compression":
                     "tiff_lzw"}), ("BMP", {}), ("GIF", {}), ("WEBP", {}), ("PPM", {})):
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, fmt, **options)
    seeds[f"{fmt}{options}"] = buffer.getvalue()
api = TessApi(psm=7)
decoded = refused = 0
for _ in range(int(sys.argv[2])):
    data = bytearray(seeds[rng.choice(sorted(seeds))])
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    if rng.random() < 0.3:
        data = data[: rng.randrange(1, len(data))]
    try:
        api.set_image_pix(Pix.from_bytes(bytes(data)))
        api.recognize(timeout=5)
        api.results()
        decoded += 1
    except OcrError:
        refused += 1
print(decoded, refused)
