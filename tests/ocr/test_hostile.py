"""The standing hostile-input suite of tightbind.ocr: every public entry point, fed
families of hostile images in a child process under hard limits (tests/helpers/limits),
so that a hang, a crash or a blow-up fails one test instead of the run.

Families (written byte by byte in tests/helpers/hostile.py): every format's header
declaring sizes over MAX_IMAGE_PIXELS, the same headers under it with almost no data,
a valid 1 MB all-zero 16383x16383 PNG, every truncation point of every format Pillow
writes, every truncation point of multi-page TIFFs in several compressions, and
multi-page TIFFs whose second page declares 30000x30000.  What each must get: an
ImageError (or, for a cut that leaves whole pages, exactly those pages), nothing on
stderr, and a peak RSS under 256 MiB while refusing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.images import (
    ENCODINGS,
    bomb_headers,
    encode,
    multipage_tiff,
    png_zeros,
    sample_image,
    truncation_points,
    with_big_page,
)
from helpers.limits import run_limited

#: The most a child may reach while refusing (RSS, MiB); a child importing tightbind and
#: loading an engine uses about 60.
REFUSAL_PEAK_MIB = 256

#: Every public entry point that takes encoded image data, as the child calls it with
#: ``data`` (bytes) and ``path`` (the same bytes in a file).  Those that load an engine per
#: call (about 0.2 s) take every fourth case of a family, those that start a worker process
#: (about 0.7 s) every twentieth.
ENTRY_POINTS = {
    "Pix.from_bytes": "Pix.from_bytes(data)",
    "pix_read": "pix_read(path)",
    "pix_read_pages": "pix_read_pages(path)",
    "TessApi.set_image": "api.set_image(data)",
    "TessApi.recognize": "api.set_image(path); api.recognize(timeout=10)",
    "TessApi.process_pages": "api.process_pages(path, out, ['txt'], timeout=10)",
    "process_pages": "process_pages(path, out, ('txt',), timeout=10)",
    "ocr_many": "list(ocr_many([data], workers=1, page_timeout=10))",
    "ocr_many(isolate=True)": "list(ocr_many([data], workers=1, page_timeout=10, isolate=True))",
}

_CHILD = """
import json, sys
from pathlib import Path
from tightbind.ocr import (ImageError, Pix, TessApi, ocr_many, pix_read, pix_read_pages,
                           process_pages)
folder = Path({folder!r})
out = str(folder / "out")
api = TessApi() if {needs_engine!r} else None
outcomes = {{}}
for path in sorted(folder.glob("*.case")):
    data = path.read_bytes()
    try:
        {call}
        outcomes[path.stem] = "accepted"
    except ImageError as exc:
        outcomes[path.stem] = "ImageError: " + str(exc)
    except Exception as exc:
        outcomes[path.stem] = type(exc).__name__ + ": " + str(exc)
print(json.dumps(outcomes))
"""


SAMPLED = {"process_pages": 4, "ocr_many": 4, "ocr_many(isolate=True)": 20}


def run_entry_point(entry: str, cases: dict[str, bytes], folder: Path, *,
                    seconds: float = 120, memory_mib: int = 2048):
    cases = dict(sorted(cases.items())[::SAMPLED.get(entry, 1)])
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in cases.items():
        (folder / f"{name}.case").write_bytes(data)
    call = ENTRY_POINTS[entry]
    code = _CHILD.format(folder=str(folder), call=call,
                         needs_engine="api." in call)
    result = run_limited(code, seconds=seconds, memory_mib=memory_mib)
    assert not result.timed_out, f"{entry} hung"
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == "", result.stderr[-3000:]
    return json.loads(result.stdout), result


def hostile_headers() -> dict[str, bytes]:
    """Every format's header over the limit at three sizes, and under it (13000x13000)
    with almost no data; WebP's under-limit headers are left to their own test."""
    cases = {}
    for width, height in ((16383, 16383), (30000, 30000), (65535, 65535)):
        for name, data in bomb_headers(width, height).items():
            cases[f"{name}-{width}"] = data
    for name, data in bomb_headers(13000, 13000).items():
        if not name.startswith("webp"):
            cases[f"{name}-under"] = data
    return cases


@pytest.fixture(scope="module")
def zero_png() -> bytes:
    return png_zeros(16383, 16383)


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_refuses_hostile_headers_cheaply(entry, tmp_path, zero_png):
    cases = hostile_headers()
    cases["png-valid-zeros-16383"] = zero_png
    cases["tiff-page2-30000"] = with_big_page(multipage_tiff())
    outcomes, result = run_entry_point(entry, cases, tmp_path)
    wrong = {name: outcome for name, outcome in outcomes.items()
             if not outcome.startswith("ImageError")}
    assert not wrong, wrong
    for name, outcome in outcomes.items():
        if name.endswith(("16383", "30000", "65535")):
            assert "MAX_IMAGE_PIXELS" in outcome, (name, outcome)
    assert result.peak_mib < REFUSAL_PEAK_MIB, result.peak_mib


def test_one_entry_point_refuses_hostile_headers_cheaply(tmp_path):
    """The fast loop's share of the test above: Pix.from_bytes on every header."""
    outcomes, result = run_entry_point("Pix.from_bytes", hostile_headers(), tmp_path)
    assert all(outcome.startswith("ImageError") for outcome in outcomes.values()), outcomes
    assert result.peak_mib < REFUSAL_PEAK_MIB


@pytest.mark.parametrize("kind", ["webp-lossless", "webp-lossy"])
def test_webp_headers_under_the_limit_cost_at_most_the_image(tmp_path, kind):
    """A damaged WebP under the limit is refused by libwebp only after Leptonica has
    cleared a whole image for it (4 bytes a pixel), so it may cost that much, but no
    more (13000x13000: 645 MiB)."""
    outcomes, result = run_entry_point(
        "Pix.from_bytes", {kind: bomb_headers(13000, 13000)[kind]}, tmp_path)
    assert outcomes[kind].startswith("ImageError")
    assert result.peak_mib < 13000 * 13000 * 4 / 2**20 + 100


def truncations() -> dict[str, bytes]:
    """Cuts of every encoding Pillow writes (about 40 a file)."""
    image = sample_image()
    cases = {}
    for fmt, options, mode in ENCODINGS:
        data = encode(image, fmt, options, mode)
        label = f"{fmt}-{mode}-{'-'.join(f'{k}={v}' for k, v in options.items())}"
        for cut in list(truncation_points(len(data), dense_below=24, step=len(data) // 16))[::2]:
            cases[f"{label}-{cut:06d}"] = data[:cut]
    return cases


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_refuses_truncated_images(entry, tmp_path):
    outcomes, result = run_entry_point(entry, truncations(), tmp_path)
    wrong = {name: outcome for name, outcome in outcomes.items()
             if not outcome.startswith("ImageError")}
    assert not wrong, wrong
    assert result.peak_mib < REFUSAL_PEAK_MIB


_PAGES_CHILD = """
import json, sys
from tightbind.ocr import ImageError, Pix, pix_read_pages
from tightbind.ocr.pix import iter_pages
data = open({path!r}, "rb").read()
full = [page.to_numpy() for page in pix_read_pages(data)]
counts = {{"refused": 0, "whole": 0}}
for cut in {cuts!r}:
    piece = data[:cut]
    for read in (pix_read_pages, lambda d: list(iter_pages(d)), lambda d: [Pix.from_bytes(d)]):
        try:
            pages = read(piece)
        except ImageError:
            counts["refused"] += 1
            continue
        assert len(pages) in (1, len(full)), cut
        assert all((page.to_numpy() == whole).all()
                   for page, whole in zip(pages, full)), cut
        counts["whole"] += 1
print(json.dumps(counts), len(full))
"""


@pytest.mark.parametrize("compression", [None, "tiff_lzw", "tiff_adobe_deflate", "packbits",
                                         "jpeg", "group4"])
def test_multipage_tiff_every_truncation_point(tmp_path, compression):
    """Every cut of a 3-page TIFF, through every page reader: an ImageError or the right
    pages, within the time limit (Leptonica's own multi-page reader spun forever)."""
    data = multipage_tiff(compression, bilevel=compression == "group4")
    path = tmp_path / "pages.tif"
    path.write_bytes(data)
    result = run_limited(_PAGES_CHILD.format(path=str(path), cuts=list(range(1, len(data)))),
                         seconds=240)
    assert not result.timed_out and result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
    counts, pages = result.stdout.rsplit(" ", 1)
    counts = json.loads(counts)
    assert counts["refused"] + counts["whole"] == 3 * (len(data) - 1)
    assert counts["refused"] > 2 * len(data) and int(pages) == 3
    assert result.peak_mib < REFUSAL_PEAK_MIB


@pytest.mark.parametrize("compression", [None, "tiff_lzw", "packbits", "group4"])
def test_multipage_tiff_with_a_huge_later_page(tmp_path, compression):
    data = with_big_page(multipage_tiff(compression, bilevel=compression == "group4"))
    outcomes, result = run_entry_point("pix_read_pages", {"page2": data}, tmp_path)
    assert outcomes["page2"].startswith("ImageError: page 2 of a TIFF of 30000x30000")
    assert result.peak_mib < REFUSAL_PEAK_MIB


@pytest.mark.parametrize("call", [
    "Pix.from_numpy(np.broadcast_to(np.uint8(0), (20000, 20000)))",
    "Pix.from_numpy(np.broadcast_to(np.bool_(True), (20000, 20000)))",
    "Pix.from_numpy(np.broadcast_to(np.uint16(0), (20000, 20000, 3)))",
    "Pix.from_pil(Image.open(io.BytesIO(png(20000, 20000))))",  # lazy: not decoded yet
    "TessApi().set_image(np.broadcast_to(np.uint8(0), (40000, 10)))",
    "Pix.from_numpy(np.zeros((100, 100), np.uint8)).scale(200)",
])
def test_in_memory_images_refused_before_copying(call):
    result = run_limited(f"""
        import io
        import numpy as np
        from PIL import Image
        from helpers.images import png
        from tightbind.ocr import ImageError, Pix, TessApi
        Image.MAX_IMAGE_PIXELS = None  # Pillow's own guard would refuse it first
        try:
            {call}
            print("accepted")
        except ImageError as exc:
            print("refused", exc)
    """, seconds=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.startswith("refused"), result.stdout
    assert result.peak_mib < REFUSAL_PEAK_MIB
