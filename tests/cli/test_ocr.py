"""`tightbind ocr`: the command line against the `tesseract` command."""

from __future__ import annotations

from helpers.pages import (
    cli,
)

# ---- command line ------------------------------------------------------------------------


def test_command_text_tsv_json(pages, run_cli):
    done = run_cli("ocr", str(pages["paragraph"]))
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout == cli(pages["paragraph"]).rstrip("\f")
    tsv = run_cli("ocr", "--format", "tsv", str(pages["line"]))
    assert tsv.stdout == cli(pages["line"], "tsv")
    data = run_cli("ocr", "--format", "json", "-j", "2", str(pages["line"]),
                         str(pages["blocks"]))
    import json

    parsed = json.loads(data.stdout)
    assert [p["file"] for p in parsed] == [str(pages["line"]), str(pages["blocks"])]
    assert [w["text"] for w in parsed[0]["words"]] == ["Hello", "tightbind", "123"]
    hocr = run_cli("ocr", "--format", "hocr", "--psm", "7", str(pages["line"]))
    assert "ocrx_word" in hocr.stdout


def test_command_pdf_and_errors(pages, tmp_path, run_cli):
    done = run_cli("ocr", "--format", "pdf", "--output-dir", str(tmp_path), str(pages["line"]))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "line.pdf").read_bytes().startswith(b"%PDF")
    missing = run_cli("ocr", str(tmp_path / "missing.png"), str(pages["line"]))
    assert missing.returncode == 1
    assert "missing.png" in missing.stderr and "Hello tightbind 123" in missing.stdout
    bad_lang = run_cli("ocr", "--lang", "xyz", str(pages["line"]))
    assert bad_lang.returncode == 2 and "xyz" in bad_lang.stderr
