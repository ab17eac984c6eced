"""tightbind.ocr.batch: many images on a pool of engines; batches of documents to disk."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from helpers.pages import (
    cli,
)

from tightbind.ocr import (
    ImageError,
    LanguageNotFound,
    ocr_many,
)
from tightbind.ocr.batch import run_batch
from tightbind.ocr.pdfgraft import PdfWriteMissing
from tightbind.ocr.progress import Progress


def test_ocr_many_in_order(pages):
    items = [pages["paragraph"], pages["line"], pages["blocks"]] * 2
    expected = [cli(path) for path in items]
    results = list(ocr_many(items, workers=2))
    assert [r.index for r in results] == list(range(len(items)))
    assert [r.text for r in results] == expected
    assert [w.text for w in results[1].words] == ["Hello", "tightbind", "123"]
    lazy = list(ocr_many(iter(items[:2]), workers=1, progress=True))
    assert [r.text for r in lazy] == expected[:2]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_ocr_many_progress_bar_on_a_terminal(pages, monkeypatch):
    pytest.importorskip("tqdm")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    results = list(ocr_many([pages["line"]] * 3, workers=2, progress=True))
    assert len(results) == 3
    final = terminal.getvalue().rsplit("\r", 1)[-1]
    assert "OCR: 100%" in final and "3/3" in final and "page/s" in final, final
    assert terminal.getvalue().endswith("\n")


def test_ocr_many_progress_lines_when_not_a_terminal(pages, monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    list(ocr_many([pages["line"]] * 2, progress=True))
    lines = sys.stderr.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("OCR: 2/2 pages, "), lines
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    list(ocr_many([pages["line"]], progress=False))
    assert sys.stderr.getvalue() == ""


def test_progress_without_tqdm_writes_plain_lines(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    terminal = Terminal()
    progress = Progress(4, stream=terminal, interval=0.0)
    progress.update()
    progress.update(failed=True)
    progress.close()
    lines = terminal.getvalue().splitlines()
    assert lines[0].startswith("OCR: 1/4 pages, ") and "s left" in lines[0]
    assert lines[-1].startswith("OCR: 2/4 pages, ") and lines[-1].endswith(", 1 failed")
    assert len(lines) == 3


def test_progress_bar_counts_failures(monkeypatch):
    pytest.importorskip("tqdm")
    terminal = Terminal()
    progress = Progress(None, stream=terminal)
    progress.update(failed=True)
    progress.update()
    progress.close()
    assert (progress.done, progress.failed) == (2, 1)
    assert "failed=1" in terminal.getvalue()


def test_ocr_many_errors(pages):
    with pytest.raises(ImageError):
        list(ocr_many([pages["line"], b"junk", pages["line"]], workers=2))
    with pytest.raises(LanguageNotFound):
        ocr_many([pages["line"]], language="xyz")  # at the call, before iterating
    with pytest.raises(ValueError):
        ocr_many([pages["line"]], workers=0)


# ---- run_batch ----------------------------------------------------------------------------

ALL_FORMATS = ("txt", "hocr", "tsv", "alto", "json", "pdf")


def read_manifest(out) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def outputs_of(out) -> dict[str, bytes]:
    """Every output file under ``out`` (not the manifest nor the state folder)."""
    return {str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*"))
            if path.is_file() and ".tightbind" not in path.parts
            and path.name != "manifest.jsonl"}


def test_run_batch_mixed_folder_then_all_done(mixed_folder, tmp_path):
    pytest.importorskip("pypdfium2", reason="the folder holds a PDF ([pdf] extra)")
    out = tmp_path / "out"
    events = []
    summary = run_batch(mixed_folder, out, formats=ALL_FORMATS, workers=2,
                        callback=events.append)
    assert (summary.documents, summary.pages, summary.failed, summary.skipped) == (4, 6, 1, 0)
    assert "1 pages FAILED" in summary.describe() and "manifest.jsonl" in summary.describe()
    records = read_manifest(out)
    assert sorted((r["input"], r["page"], r["status"]) for r in records) == [
        ("corrupt.png", 1, "failed"), ("line.png", 1, "ok"), ("scans/two.tif", 1, "ok"),
        ("scans/two.tif", 2, "ok"), ("two.pdf", 1, "ok"), ("two.pdf", 2, "ok")]
    assert sorted((e["input"], e["page"]) for e in events) == sorted(
        (r["input"], r["page"]) for r in records)
    bad = next(r for r in records if r["status"] == "failed")
    assert bad["error"]["class"] == "ImageError" and bad["outputs"] == []
    good = next(r for r in records if r["input"] == "scans/two.tif")
    assert good["outputs"] == [f"scans/two.tif.{ext}" for ext in
                               ("txt", "hocr", "tsv", "xml", "json", "pdf")]
    assert good["seconds"] >= 0
    assert set(outputs_of(out)) == {f"{name}.{ext}" for name in
                                    ("line.png", "scans/two.tif", "two.pdf")
                                    for ext in ("txt", "hocr", "tsv", "xml", "json", "pdf")}
    assert (out / "two.pdf.txt").read_text() == \
        "Portable document page one\n\f" "And page two of it\n"
    words = json.loads((out / "scans/two.tif.json").read_text())
    assert [p["page"] for p in words["pages"]] == [1, 2]
    assert [w["text"] for w in words["pages"][1]["words"]] == ["Second", "page", "words",
                                                                "here"]
    assert words["pages"][1]["words"][0]["box"][0] > 0
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(out / "two.pdf.pdf"))
    assert len(pdf) == 2
    assert "And page two" in pdf[1].get_textpage().get_text_range()
    again = run_batch(mixed_folder, out, formats=ALL_FORMATS, workers=2)
    # The corrupt file is retried (and fails again): failures stay visible.
    assert not again.all_done
    assert (again.documents, again.pages, again.failed, again.skipped) == (1, 1, 1, 3)
    assert "1 pages FAILED" in again.describe()
    assert read_manifest(out)[len(records):] == [{**bad, "seconds": again.failures[0][
        "seconds"]}]
    (mixed_folder / "corrupt.png").rename(tmp_path / "corrupt.png")
    try:
        last = run_batch(mixed_folder, out, formats=ALL_FORMATS, workers=2)
    finally:
        (tmp_path / "corrupt.png").rename(mixed_folder / "corrupt.png")
    assert last.all_done and (last.pages, last.skipped) == (0, 3)
    assert last.describe().startswith("all done")


def test_run_batch_matches_the_tesseract_command(mixed_folder, tmp_path):
    tiff = mixed_folder / "scans" / "two.tif"
    run_batch([tiff], tmp_path, formats=("txt", "tsv"), workers=1)
    assert (tmp_path / "two.tif.txt").read_text() == cli(tiff)
    assert (tmp_path / "two.tif.tsv").read_text() == cli(tiff, "tsv")


def test_run_batch_redoes_a_changed_input_and_new_options(pages, tmp_path):
    source = tmp_path / "in" / "page.png"
    source.parent.mkdir()
    source.write_bytes(pages["line"].read_bytes())
    out = tmp_path / "out"
    assert run_batch(source.parent, out, workers=1).pages == 1
    assert run_batch(source.parent, out, workers=1).all_done
    assert run_batch(source.parent, out, workers=1, formats="txt,hocr").pages == 1
    source.write_bytes(pages["paragraph"].read_bytes())
    assert run_batch(source.parent, out, workers=1, formats="txt,hocr").pages == 1
    assert "lazy dog" in (out / "page.png.txt").read_text()
    (out / "page.png.txt").unlink()  # a lost output makes its document undone
    assert run_batch(source.parent, out, workers=1, formats="txt,hocr").pages == 1


def test_run_batch_include_patterns_and_progress(mixed_folder, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    summary = run_batch(mixed_folder, tmp_path, include=["*.TIF"], workers=1, progress=True)
    assert (summary.documents, summary.pages) == (1, 2)
    assert sys.stderr.getvalue().startswith("OCR: 2/2 pages")


def test_run_batch_unreadable_documents_are_recorded(tmp_path):
    pytest.importorskip("pypdfium2", reason="a broken PDF is told from a missing extra")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 nothing else")
    (folder / "broken.tif").write_bytes(b"II*\0" + b"\xff" * 20)
    summary = run_batch([folder, tmp_path / "missing.png"], tmp_path / "out")
    records = read_manifest(tmp_path / "out")
    assert summary.failed == 3 and len(summary.failures) == 3
    assert sorted((r["input"], r["page"], r["error"]["class"]) for r in records) == [
        ("broken.pdf", None, "ImageError"), ("broken.tif", None, "ImageError"),
        ("missing.png", None, "FileNotFoundError")]


def test_run_batch_pdf_needs_the_extra(mixed_folder, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pypdfium2", None)
    summary = run_batch([mixed_folder / "two.pdf"], tmp_path)
    assert summary.failures[0]["error"]["class"] == "PdfSupportMissing"
    assert "tightbind[pdf]" in summary.failures[0]["error"]["message"]
    tiff = mixed_folder / "scans" / "two.tif"
    monkeypatch.setitem(sys.modules, "pikepdf", None)  # the searchable PDF's writer
    with pytest.raises(PdfWriteMissing, match=r"tightbind\[pdf\]"):  # before any page runs
        run_batch([tiff], tmp_path / "tiff", formats=["pdf"])
    assert not (tmp_path / "tiff").exists()


def test_run_batch_arguments(pages, tmp_path):
    for kwargs in ({"formats": ["doc"]}, {"formats": []}, {"dpi": 5}, {"workers": 0},
                   {"page_timeout": 0}, {"page_timeout": "1"}):
        with pytest.raises(ValueError):
            run_batch([pages["line"]], tmp_path, **kwargs)
    with pytest.raises(LanguageNotFound):
        run_batch([pages["line"]], tmp_path, language="xyz")


def test_run_batch_page_deadline_kills_a_hanging_page(pages, tmp_path):
    """A noise page keeps layout analysis busy for seconds past the recognition deadline
    (Tesseract checks it only between words): the page is recorded as timed out, either
    by the engine's own deadline (which abandons layout analysis at timeout + 0.5 s) or
    by its worker process being killed and replaced, and the next page is done."""
    import numpy
    from PIL import Image

    folder = tmp_path / "in"
    folder.mkdir()
    noise = numpy.random.default_rng(0).random((4000, 4000)) > 0.5
    Image.fromarray(noise).save(folder / "a-noise.png")
    (folder / "b-line.png").write_bytes(pages["line"].read_bytes())
    summary = run_batch(folder, tmp_path / "out", workers=1, page_timeout=0.5)
    records = {r["input"]: r for r in read_manifest(tmp_path / "out")}
    error = records["a-noise.png"]["error"]
    assert error["class"] in ("PageTimeout", "RecognitionTimeout"), error
    assert records["b-line.png"]["status"] == "ok"
    assert summary.failed == 1
    assert (tmp_path / "out" / "b-line.png.txt").read_text() == "Hello tightbind 123\n"


RESUMABLE_RUN = """
import sys
from tightbind.ocr.batch import run_batch
run_batch(sys.argv[1], sys.argv[2], formats={formats!r}, workers=1)
"""


@pytest.mark.slow
def test_kill_and_resume_gives_identical_outputs(pages, mixed_folder, tmp_path):
    """SIGKILL a run once its first page is kept, re-run: the outputs (PDFs included:
    their dates and IDs are pinned) equal an uninterrupted run's, byte for byte, and the
    manifest holds every page once."""
    folder = tmp_path / "in"
    (folder / "scans").mkdir(parents=True)
    for index, name in enumerate(["paragraph", "line", "blocks"] * 2):
        (folder / f"{index}-{name}.png").write_bytes(pages[name].read_bytes())
    (folder / "scans" / "two.tif").write_bytes((mixed_folder / "scans/two.tif").read_bytes())
    (folder / "two.pdf").write_bytes((mixed_folder / "two.pdf").read_bytes())
    whole = tmp_path / "whole"
    run_batch(folder, whole, formats=ALL_FORMATS, workers=2)
    killed = tmp_path / "killed"
    child = subprocess.Popen([sys.executable, "-c", RESUMABLE_RUN.format(formats=ALL_FORMATS),
                              str(folder), str(killed)], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while not list(killed.glob(".tightbind/pages/*/*.done")):
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=60)
    assert len(outputs_of(killed)) < len(outputs_of(whole))
    summary = run_batch(folder, killed, formats=ALL_FORMATS, workers=2)
    assert summary.pages > 0 and summary.failed == 0
    assert outputs_of(killed) == outputs_of(whole)
    records = read_manifest(killed)
    assert sorted((r["input"], r["page"]) for r in records) == sorted(
        (r["input"], r["page"]) for r in read_manifest(whole))
    assert run_batch(folder, killed, formats=ALL_FORMATS).all_done


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_racing_runs_killed_at_random_moments(pages, tmp_path, seed):
    """Two runs started together on one folder, the one holding it SIGKILLed at a random
    moment, five times over, then a last run: the outputs equal an uninterrupted run's byte for
    byte and the manifest holds every page once.  The run that does not hold the folder
    is refused at once (FolderBusy), never writes beside the holder."""
    folder = tmp_path / "in"
    folder.mkdir()
    for index, name in enumerate(["paragraph", "line", "blocks"] * 4):
        (folder / f"{index}-{name}.png").write_bytes(pages[name].read_bytes())
    formats = ("txt", "json", "hocr")
    whole = tmp_path / "whole"
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", RESUMABLE_RUN.format(formats=formats), str(folder),
                    str(whole)], env=os.environ.copy(), check=True, timeout=300)
    duration = time.monotonic() - started  # kill moments fall inside a run's span
    raced = tmp_path / "raced"
    chance = random.Random(seed)
    kills = 0
    for _ in range(5):
        runs = [subprocess.Popen([sys.executable, "-c", RESUMABLE_RUN.format(formats=formats),
                                  str(folder), str(raced)], env=os.environ.copy(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        time.sleep(chance.uniform(0.1, 0.7) * duration)
        lock = raced / ".tightbind" / "lock"
        holder = lock.read_text().strip() if lock.exists() else ""
        victim = next((run for run in runs if str(run.pid) == holder), chance.choice(runs))
        victim.send_signal(signal.SIGKILL)
        for run in runs:
            _, err = run.communicate(timeout=300)
            if run is not victim:
                assert run.returncode == 0 or (run.returncode == 1 and "FolderBusy" in err), \
                    err[-2000:]
        kills += victim.returncode == -signal.SIGKILL
    assert kills >= 2, "the victims finished before their kill: the race was not run"
    summary = run_batch(folder, raced, formats=formats, workers=1)
    assert summary.failed == 0
    assert outputs_of(raced) == outputs_of(whole)
    records = read_manifest(raced)
    assert sorted((r["input"], r["page"]) for r in records) == sorted(
        (r["input"], r["page"]) for r in read_manifest(whole))
    assert all(r["status"] == "ok" for r in records)


def test_ocr_many_page_timeout_and_its_deprecated_name(pages):
    """page_timeout, as in run_batch; timeout= still works, with a DeprecationWarning."""
    [result] = ocr_many([pages["line"]], workers=1, page_timeout=30)
    assert result.text == "Hello tightbind 123\n"
    with pytest.warns(DeprecationWarning, match="page_timeout"):
        [old] = ocr_many([pages["line"]], workers=1, timeout=30)
    assert old.text == result.text
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError):
        ocr_many([pages["line"]], timeout=30, page_timeout=30)
    with pytest.raises(ValueError, match="timeout"):
        ocr_many([pages["line"]], page_timeout=-1)
