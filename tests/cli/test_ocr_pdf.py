"""``tightbind ocr --out DIR --format pdf`` with --pdf-text and --rotate-pages, and
the repository's ``bench pdf`` on its own corpus."""

from __future__ import annotations

import json

import pytest

pikepdf = pytest.importorskip("pikepdf")

from bench.pdfcorpus import draw_page, vector_pdf  # noqa: E402


def test_pdf_text_option(tmp_path, run_cli):
    (tmp_path / "vector.pdf").write_bytes(vector_pdf(["born digital words"]))
    out = tmp_path / "out"
    done = run_cli("ocr", "--out", str(out), "--format", "pdf,txt", "-q", "--pdf-text", "force",
                   "--rotate-pages", str(tmp_path / "vector.pdf"))
    assert done.returncode == 0, done.stderr
    record = json.loads((out / "manifest.jsonl").read_text().splitlines()[0])
    assert record["pdf"]["action"] == "force" and record["pdf"]["rotate"] == 0
    assert "digital" in (out / "vector.pdf.txt").read_text()
    with pikepdf.open(out / "vector.pdf.pdf") as pdf:
        assert len(pdf.pages[0].get_images()) == 1  # rasterised

    skipped = run_cli("ocr", "--out", str(tmp_path / "skip"), "--format", "txt", "-q",
                      str(tmp_path / "vector.pdf"))
    assert skipped.returncode == 0, skipped.stderr
    record = json.loads((tmp_path / "skip" / "manifest.jsonl").read_text().splitlines()[0])
    assert record["pdf"]["action"] == "skipped"


def test_pdf_text_option_checked(tmp_path, run_cli):
    done = run_cli("ocr", "--out", str(tmp_path), "--pdf-text", "twice", str(tmp_path))
    assert done.returncode == 2 and "--pdf-text" in done.stderr


def test_help_says_force_rasterises(run_cli):
    done = run_cli("ocr", "--help")
    assert "--force-ocr" in done.stdout and "rasterised" in done.stdout


@pytest.mark.slow
def test_bench_pdf_measures_tightbind(monkeypatch):
    from bench import pdf

    monkeypatch.setenv("TIGHTBIND_BENCH_PAGES", "1")
    monkeypatch.setenv("TIGHTBIND_BENCH_ROUNDS", "1")
    monkeypatch.setattr(pdf, "venv_python", lambda name, requirements: (None, "not here"))
    [table] = pdf.run(quick=True)
    [row] = table.rows
    assert row[0].startswith("tightbind") and row[1] > 0 and row[2] > 0
    assert row[3] > 0 and row[5] < 0.1  # output bytes, word error rate
    assert any("not here" in note for note in table.notes)


def test_bench_corpus(tmp_path):
    from bench.pdf import make_corpus

    corpus = make_corpus(tmp_path, 1)
    assert sorted(path.name for path in corpus) == ["colour.pdf", "g4.pdf", "jbig2.pdf",
                                                   "jpeg.pdf"]
    assert all(len(text.split()) > 100 for text in corpus.values())
    with pikepdf.open(tmp_path / "g4.pdf") as pdf:
        [image] = pdf.pages[0].get_images().values()
        assert str(image.Filter[0]) == "/CCITTFaxDecode" and image.Width == 2480
    assert draw_page(1, lines=1).text
