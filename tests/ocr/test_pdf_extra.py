"""Without the ``[pdf]`` extra's writers, a batch that asks for searchable PDFs is refused
before any page runs (it used to fail every page, one by one)."""

from __future__ import annotations

import json
import textwrap

import pytest
from helpers.limits import run_limited
from helpers.pages import render, save


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    save(render(["Writers are missing"])[0], root / "line.png")
    return root


def hide(names: tuple[str, ...], code: str) -> str:
    """``code`` run as if ``names`` were not installed (None in ``sys.modules`` is
    Python's own marker for "this import fails")."""
    return f"import sys\nfor name in {names!r}: sys.modules[name] = None\n" + \
        textwrap.dedent(code)


@pytest.mark.parametrize("hidden", [("pikepdf",), ("img2pdf",)])
def test_run_batch_refuses_pdf_output_before_any_page(folder, tmp_path, hidden):
    out = tmp_path / "out"
    child = run_limited(hide(hidden, f"""
        import json
        from tightbind.ocr import OcrError
        from tightbind.ocr.batch import run_batch
        from tightbind.ocr.pdfgraft import PdfWriteMissing
        try:
            run_batch({str(folder)!r}, {str(out)!r}, formats=("txt", "pdf"), workers=1)
        except PdfWriteMissing as error:
            print(json.dumps([str(error), isinstance(error, (OcrError, ImportError))]))
        """), seconds=60)
    assert child.returncode == 0, child.stderr
    message, is_both = json.loads(child.stdout)
    assert f"need {hidden[0]}: pip install 'tightbind[pdf]'" in message and is_both
    assert not out.exists()  # nothing run, nothing written


def test_command_refuses_pdf_output_with_a_sentence(folder, tmp_path):
    out = tmp_path / "out"
    child = run_limited(hide(("pikepdf",), f"""
        import runpy
        sys.argv = ["tightbind", "ocr", {str(folder)!r}, "--out", {str(out)!r},
                    "--format", "txt,pdf"]
        runpy.run_module("tightbind", run_name="__main__")
        """), seconds=60)
    assert child.returncode == 2, child.stderr
    assert "Traceback" not in child.stderr
    assert "searchable PDFs need pikepdf: pip install 'tightbind[pdf]'" in child.stderr
    assert not out.exists()


def test_text_outputs_need_no_pdf_writer(folder, tmp_path):
    out = tmp_path / "out"
    child = run_limited(hide(("pikepdf", "img2pdf"), f"""
        from tightbind.ocr.batch import run_batch
        summary = run_batch({str(folder)!r}, {str(out)!r}, formats=("txt",), workers=1)
        print(summary.pages, summary.failed)
        """), seconds=60)
    assert child.stdout.split() == ["1", "0"], child.stderr
    assert (out / "line.png.txt").read_text().strip() == "Writers are missing"
