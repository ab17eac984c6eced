"""Searchable-PDF benchmark: ``tightbind ocr --out DIR --format pdf`` against OCRmyPDF.

Four scanned PDFs are drawn here (:mod:`bench.pdfcorpus`, 300 dpi A4, lines of DejaVu
Sans words): 1-bit pages stored as CCITT G4, 1-bit pages stored as JBIG2 (a generic
region), grey JPEG pages and colour JPEG pages (coloured text on tinted paper).  Both
contenders run as commands on the same files, with the same system Tesseract (English,
``OMP_THREAD_LIMIT=1``) and 2 jobs: ``python -m tightbind ocr --out DIR --format pdf -j 2
FILES`` and, for each file,
``ocrmypdf -j 2 --output-type pdf --optimize 0 IN OUT`` (OCRmyPDF 17.13 in its own cached
venv, its default rasteriser).  Rounds are interleaved (the order turned each round);
medians are reported: pages per second, CPU seconds per page (the command's process tree,
from ``getrusage(RUSAGE_CHILDREN)``), output bytes, and the word error rate of
``pdftotext`` on each output against the drawn words.

``tightbind bench pdf --pages N`` sets the pages per file (default 2, --quick 1);
TIGHTBIND_BENCH_ROUNDS the rounds (default 3, --quick 1).
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._venvs import venv_python
from tightbind.bench._report import Table
from tightbind.bench.batch import error_rates

__all__ = ["run", "versions"]

OCRMYPDF = "ocrmypdf==17.13.0"
JOBS = 2
KINDS = (("g4", "1-bit CCITT G4"), ("jbig2", "1-bit JBIG2"), ("jpeg", "grey JPEG"),
         ("colour", "colour JPEG"))


def versions() -> dict[str, str]:
    import pikepdf

    return {"pikepdf": pikepdf.__version__, "ocrmypdf": OCRMYPDF.split("==")[1]}


def make_corpus(folder: Path, pages: int) -> dict[Path, str]:
    """The four scanned PDFs (``pages`` pages each) and the words drawn on each."""
    from bench.pdfcorpus import draw_page, scanned_pdf

    corpus = {}
    for number, (kind, _) in enumerate(KINDS):
        drawn = []
        for page in range(pages):
            seed = 100 * number + page
            if kind in ("g4", "jbig2"):
                drawn.append((draw_page(seed, mode="1", lines=30, skew=0.4), kind))
            elif kind == "jpeg":
                drawn.append((draw_page(seed, lines=30, skew=-0.3), "jpeg"))
            else:
                drawn.append((draw_page(seed, mode="RGB", lines=30, colour=(30, 40, 140),
                                        paper=(250, 244, 222)), "jpeg"))
        path = folder / f"{kind}.pdf"
        path.write_bytes(scanned_pdf(drawn))
        corpus[path] = " ".join(page.text for page, _ in drawn)
    return corpus


def _pdftotext(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          text=True, check=True, timeout=600)
    return done.stdout


def _timed(commands: list[list[str]], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the finished children) of ``commands``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    for command in commands:
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=3600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _tightbind(files: list[Path], out: Path) -> tuple[list[list[str]], dict[Path, Path]]:
    command = [sys.executable, "-m", "tightbind", "ocr", "--out", str(out), "--format", "pdf",
               "-j", str(JOBS), "-q", *map(str, files)]
    return [command], {path: out / f"{path.name}.pdf" for path in files}


def _ocrmypdf(python: Path) -> Any:
    tool = python.parent / "ocrmypdf"

    def commands(files: list[Path], out: Path) -> tuple[list[list[str]], dict[Path, Path]]:
        out.mkdir(parents=True, exist_ok=True)
        outputs = {path: out / path.name for path in files}
        return [[str(tool), "-q", "-j", str(JOBS), "--output-type", "pdf", "--optimize", "0",
                 str(path), str(outputs[path])] for path in files], outputs
    return commands


def run(quick: bool) -> list[Table]:
    if shutil.which("pdftotext") is None:
        raise ImportError("the pdf benchmark needs pdftotext (poppler-utils)")
    import pikepdf  # noqa: F401 - the [pdf] extra; its absence is reported by the command

    pages = int(os.environ.get("TIGHTBIND_BENCH_PAGES", "1" if quick else "2"))
    rounds = int(os.environ.get("TIGHTBIND_BENCH_ROUNDS", "1" if quick else "3"))
    notes = []
    contenders: dict[str, Any] = {"tightbind ocr --out (graft)": _tightbind}
    python, why = venv_python("ocrmypdf", [OCRMYPDF])
    if python is None:
        notes.append(f"OCRmyPDF could not be installed ({why}): its row is left out")
    else:
        contenders[f"ocrmypdf {OCRMYPDF.split('==')[1]}"] = _ocrmypdf(python)
    env = {k: v for k, v in os.environ.items()}
    env["OMP_THREAD_LIMIT"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    with tempfile.TemporaryDirectory(prefix="tightbind-bench-pdf-") as temp:
        folder = Path(temp)
        (folder / "in").mkdir()
        corpus = make_corpus(folder / "in", pages)
        files = sorted(corpus)
        total_pages = pages * len(files)
        input_bytes = sum(path.stat().st_size for path in files)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
        results: dict[str, tuple[int, float]] = {}
        names = list(contenders)
        for number in range(rounds):
            order = names[number % len(names):] + names[:number % len(names)]
            for name in order:
                out = folder / f"out-{number}-{names.index(name)}"
                commands, outputs = contenders[name](files, out)
                samples[name].append(_timed(commands, env))
                size = sum(outputs[path].stat().st_size for path in files)
                truth = " ".join(corpus[path] for path in files)
                text = " ".join(_pdftotext(outputs[path]) for path in files)
                results[name] = (size, error_rates(truth, text)[0])
                shutil.rmtree(out, ignore_errors=True)
    table = Table(f"pdf: searchable PDFs of {len(files)} scanned PDFs x {pages} A4 pages "
                  f"(300 dpi: G4, JBIG2, grey JPEG, colour JPEG), {JOBS} jobs, {rounds} rounds",
                  ["contender", "pages/s", "CPU s/page", "output bytes", "input bytes",
                   "WER"], notes=notes)
    figures = {}
    for name in names:
        wall = statistics.median(s[0] for s in samples[name])
        cpu = statistics.median(s[1] for s in samples[name])
        size, wer = results[name]
        figures[name] = (total_pages / wall, cpu / total_pages, size, wer)
        table.rows.append([name, round(total_pages / wall, 3), round(cpu / total_pages, 2),
                           size, input_bytes, round(wer, 4)])
    if len(names) == 2:
        ours, peer = figures[names[0]], figures[names[1]]
        table.headlines.append(["searchable PDF pages/s", round(ours[0], 3), names[1],
                                f"{ours[0] / peer[0]:.2f}x"])
        table.headlines.append(["searchable PDF bytes", ours[2], names[1],
                                f"{ours[2] / peer[2]:.2f}x"])
        table.notes.append(f"word error rate: tightbind {ours[3]:.4f}, OCRmyPDF {peer[3]:.4f}")
    return [table]
