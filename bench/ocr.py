"""``bash scripts/bench ocr``: tightbind.ocr against tesserocr and pytesseract on the same
Tesseract.

Tables:
1. Per page, on the same page and the same tessdata: this interpreter's tightbind (for a
   build from source, the system's Tesseract 5.3 at ``OMP_THREAD_LIMIT=1``), tightbind's
   wheel (its own Tesseract 5.5, OpenMP off), tesserocr's PyPI wheel (its own Tesseract
   5.5), tesserocr built on the system Tesseract, and pytesseract, with and without
   ``OMP_THREAD_LIMIT=1``.  One process cannot hold two libtesseract builds, so each
   contender runs in its own fresh process (and the two wheels in their own virtual
   environments, made once under ``TIGHTBIND_BENCH_VENVS``, default
   ``~/.cache/tightbind/bench``), in interleaved rounds; the figure is the median page
   time, and each row's ratio is given against tesserocr's wheel and against the
   system-library build.  The tesserocr face (``tightbind.ocr.tesserocr``: SetImageFile
   and GetUTF8Text, the same calls as tesserocr's row) runs beside them, against tesserocr
   compiled from its sdist on the system's Tesseract (same Tesseract as this install)
   and tesserocr's wheel against tightbind's wheel.  The wheel is
   ``TIGHTBIND_BENCH_WHEEL``, else the newest ``wheelhouse/tightbind-*manylinux*.whl``
   under the current folder; without one, or without network access for tesserocr's
   wheel, those rows are left out with a note.
2. Words with boxes (``tightbind.bench.ocr``'s table): what ``results(RIL_WORD)`` adds
   to recognition, with the same extraction in tesserocr (a Python loop over its
   iterator) and pytesseract (``image_to_data``) added here.
3. Threads (``tightbind.bench.ocr``'s table): one engine per thread, 1 vs 2 threads.
4. The pytesseract face against pytesseract, per call (``ocr_faces``).

The page is Tesseract's phototest.tif from ../shared/ocr beside the checkout when it is
there (or TIGHTBIND_OCR_BENCH_IMAGE), else a page rendered with Pillow and DejaVu Sans.
Peers are optional: rows for a peer that is not installed are left out with a note.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._venvs import venv_python, wheel_python
from bench.ocr_faces import pytesseract_table
from tightbind.bench import ocr
from tightbind.bench._report import Table
from tightbind.bench.ocr import threads_table, words_table

# Runs in a fresh interpreter: time `pages` recognitions of one image with the models in
# `tessdata`, print JSON with the times and the Tesseract that did the work.
_WORKER = r"""
import json, sys, time
kind, path, pages, tessdata = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if kind == "tightbind":
    from tightbind.ocr import TessApi
    api = TessApi(tessdata)
    version = TessApi.version()
    def page():
        api.set_image(path)
        api.recognize()
        return api.get_utf8_text()
elif kind in ("tesserocr", "tightbind-tesserocr"):
    if kind == "tesserocr":
        import tesserocr
    else:
        from tightbind.ocr import tesserocr
    api = tesserocr.PyTessBaseAPI(path=tessdata)
    version = tesserocr.tesseract_version().split()[1]
    def page():
        api.SetImageFile(path)
        return api.GetUTF8Text()
else:
    import os, pytesseract
    os.environ["TESSDATA_PREFIX"] = tessdata
    version = str(pytesseract.get_tesseract_version())
    def page():
        return pytesseract.image_to_string(path)
text = page()
times = []
for _ in range(pages):
    start = time.perf_counter()
    page()
    times.append(time.perf_counter() - start)
print(json.dumps({"times": times, "words": len(text.split()), "version": version}))
"""

# The tesserocr release whose PyPI wheel (with its own Tesseract) is compared.
TESSEROCR_WHEEL = "tesserocr==2.13.0"
TESSEROCR_SYSTEM = "tesserocr-system"


def _page_image(folder: Path) -> tuple[Path, str]:
    """Tesseract's phototest.tif from ../shared/ocr beside the checkout when it is there,
    else tightbind's own choice (TIGHTBIND_OCR_BENCH_IMAGE or a rendered page)."""
    candidates = [Path.cwd().parent / "shared" / "ocr" / "phototest.tif",
                  Path(sys.prefix).parent.parent / "shared" / "ocr" / "phototest.tif",
                  Path(__file__).resolve().parents[1].parent / "shared" / "ocr" /
                  "phototest.tif"]
    if not os.environ.get("TIGHTBIND_OCR_BENCH_IMAGE"):
        for candidate in candidates:
            if candidate.is_file():
                return candidate, "phototest.tif"
    return ocr.page_image(folder)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _tessdata() -> str:
    """The one tessdata folder every contender reads (the system's when present)."""
    from tightbind.ocr.api import default_data_path

    found = sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata/eng.traineddata"))
    if found:
        return str(found[-1].parent)
    return default_data_path(["eng"]) or ""


class _Contender:
    def __init__(self, name: str, python: str, kind: str, omp: str | None = None) -> None:
        self.name, self.python, self.kind, self.omp = name, python, kind, omp
        self.times: list[float] = []
        self.version = ""


def _contenders() -> tuple[list[_Contender], list[str]]:
    here = sys.executable
    contenders = [_Contender("tightbind, this install (OMP=1)", here,
                             "tightbind", "1")]
    notes: list[str] = []
    python = wheel_python(notes)
    if python is not None:
        contenders.append(_Contender("tightbind wheel", str(python), "tightbind"))
    contenders.append(_Contender("tightbind.ocr.tesserocr, this install (OMP=1)", here,
                                 "tightbind-tesserocr", "1"))
    if python is not None:
        contenders.append(_Contender("tightbind wheel, tesserocr face", str(python),
                                     "tightbind-tesserocr"))
    python, why = venv_python("tesserocr-wheel",
                               ["--only-binary", "tesserocr", TESSEROCR_WHEEL])
    if python is None:
        notes.append(f"could not install tesserocr's wheel ({TESSEROCR_WHEEL}): {why}")
    else:
        contenders.append(_Contender("tesserocr wheel", str(python), "tesserocr"))
    # tesserocr compiled from its sdist against the system's Tesseract: the same
    # Tesseract as this install, for the tesserocr face's row.
    python, why = venv_python(TESSEROCR_SYSTEM,
                              ["--no-binary", "tesserocr", TESSEROCR_WHEEL])
    if python is None:
        notes.append(f"could not build tesserocr on the system Tesseract: {why}")
    else:
        contenders.append(_Contender("tesserocr on system Tesseract (OMP=1)", str(python),
                                     "tesserocr", "1"))
    for peer in ("tesserocr", "pytesseract"):
        if _installed(peer):
            label = "tesserocr, system Tesseract" if peer == "tesserocr" else peer
            contenders.append(_Contender(f"{label} (default)", here, peer))
            contenders.append(_Contender(f"{label} (OMP=1)", here, peer, "1"))
        else:
            notes.append(f"{peer} is not installed: skipped (pip install -r "
                         "requirements/bench.txt)")
    return contenders, notes


def _per_page(path: Path, label: str, quick: bool) -> Table:
    rounds, pages = (1, 2) if quick else (5, 4)
    tessdata = _tessdata()
    contenders, notes = _contenders()
    for _ in range(rounds):
        for contender in contenders:
            env = {k: v for k, v in os.environ.items()
                   if k not in ("OMP_THREAD_LIMIT", "PYTHONPATH", "TESSDATA_PREFIX")}
            if contender.omp is not None:
                env["OMP_THREAD_LIMIT"] = contender.omp
            done = subprocess.run([contender.python, "-c", _WORKER, contender.kind, str(path),
                                   str(pages), tessdata],
                                  capture_output=True, text=True, env=env, check=True)
            result = json.loads(done.stdout)
            contender.times.extend(result["times"])
            contender.version = result["version"]
    medians = {c.name: statistics.median(c.times) for c in contenders}
    system_build = medians[contenders[0].name]
    peer_wheel = medians.get("tesserocr wheel")
    table = Table(f"OCR: one page of {label}, text only, engine reused",
                  ["contender", "Tesseract", "ms/page", "vs tesserocr wheel",
                   "vs this install"])
    for contender in contenders:
        ms = medians[contender.name]
        table.rows.append([contender.name, contender.version, ms * 1000,
                           f"{ms / peer_wheel:.2f}x" if peer_wheel else "-",
                           f"{ms / system_build:.2f}x"])
    table.notes.append(f"median of {rounds * pages} pages per contender, each in its own "
                       f"process, interleaved rounds; every engine reads {tessdata}; "
                       "ratios are time per page over the other's (below 1.00x is faster); "
                       "OMP=1: run with OMP_THREAD_LIMIT=1")
    table.notes.extend(notes)
    return table


def _words(path: Path, quick: bool) -> Table:
    """tightbind's words table with tesserocr (a Python loop over its iterator) interleaved
    and pytesseract's ``image_to_data`` (a tesseract process) appended."""
    peers: dict[str, Callable[[], Any]] = {}
    notes: list[str] = []
    if _installed("tesserocr"):
        import tesserocr

        peer = tesserocr.PyTessBaseAPI()
        peer.SetImageFile(str(path))

        def tesserocr_words() -> None:
            peer.SetImageFile(str(path))
            peer.Recognize()
            iterator = peer.GetIterator()
            level = tesserocr.RIL.WORD
            for word in tesserocr.iterate_level(iterator, level):
                word.GetUTF8Text(level)
                word.Confidence(level)
                word.BoundingBox(level)

        peers["tesserocr: recognize + iterate words"] = tesserocr_words
    else:
        notes.append("tesserocr is not installed: skipped")
    table = words_table(path, quick, peers)
    recognize_s = table.rows[0][1] / 1000
    if _installed("pytesseract"):
        import pytesseract

        start = time.perf_counter()
        runs = 1 if quick else 3
        for _ in range(runs):
            pytesseract.image_to_data(str(path))
        table.rows.append(["pytesseract image_to_data (a tesseract process)",
                           (time.perf_counter() - start) / runs * 1000,
                           f"{(time.perf_counter() - start) / runs / recognize_s:.2f}x"])
    else:
        notes.append("pytesseract is not installed: skipped")
    table.notes.extend(notes)
    return table


def _add_headlines(per_page: Table) -> None:
    """Summary rows: tightbind per page against each peer."""
    rows = {row[0]: row for row in per_page.rows}
    ours = per_page.rows[0]
    for row in per_page.rows[1:]:
        per_page.headlines.append([f"one page: {ours[0]} vs {row[0]}",
                                   f"{ours[2]:.1f} ms/page", row[0],
                                   f"{row[2] / ours[2]:.2f}x"])
    wheel = next((row for name, row in rows.items() if name.startswith("tightbind wheel")),
                 None)
    if wheel is not None and "tesserocr wheel" in rows:
        peer = rows["tesserocr wheel"]
        per_page.headlines.append(["one page: tightbind wheel vs tesserocr wheel",
                                   f"{wheel[2]:.1f} ms/page", "tesserocr wheel",
                                   f"{peer[2] / wheel[2]:.2f}x"])
        per_page.headlines.append([f"one page: tightbind wheel vs {ours[0]}",
                                   f"{wheel[2]:.1f} ms/page", ours[0],
                                   f"{ours[2] / wheel[2]:.2f}x"])
    face = rows.get("tightbind.ocr.tesserocr, this install (OMP=1)")
    peer_system = rows.get("tesserocr on system Tesseract (OMP=1)")
    if face is not None and peer_system is not None:
        per_page.headlines.append(["tesserocr face vs tesserocr, same Tesseract (OMP=1)",
                                   f"{face[2]:.1f} ms/page", peer_system[0],
                                   f"{peer_system[2] / face[2]:.3f}x"])
    face_wheel = rows.get("tightbind wheel, tesserocr face")
    if face_wheel is not None and "tesserocr wheel" in rows:
        per_page.headlines.append(["tesserocr face (wheel) vs tesserocr wheel",
                                   f"{face_wheel[2]:.1f} ms/page", "tesserocr wheel",
                                   f"{rows['tesserocr wheel'][2] / face_wheel[2]:.3f}x"])


versions = ocr.versions


def run(quick: bool) -> list[Table]:
    """The OCR benchmark tables (see the module docstring)."""
    import tightbind.ocr  # noqa: F401 - raises ImportError (skipped) when not built

    with tempfile.TemporaryDirectory() as folder:
        path, label = _page_image(Path(folder))
        tables = [_per_page(path, label, quick), _words(path, quick),
                  threads_table(path, quick)]
        _add_headlines(tables[0])
        tables.append(pytesseract_table(path, label, Path(folder), quick))
    return tables
