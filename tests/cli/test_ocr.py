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


# ---- batch mode (--out) ---------------------------------------------------------------------


def test_command_batch_mixed_folder_then_all_done(mixed_folder, tmp_path, run_cli):
    out = tmp_path / "out"
    done = run_cli("ocr", str(mixed_folder), "--out", str(out), "--format", "txt,hocr,pdf",
                   "-j", "2")
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert "6 pages of 4 documents" in done.stderr and "1 pages FAILED" in done.stderr
    assert str(out / "manifest.jsonl") in done.stderr
    assert (out / "scans" / "two.tif.hocr").exists() and (out / "two.pdf.pdf").exists()
    assert not (out / "corrupt.png.txt").exists()
    # Before: the same command again printed "all done" and exited 0, hiding the failure.
    again = run_cli("ocr", str(mixed_folder), "--out", str(out), "--format", "txt,hocr,pdf")
    assert again.returncode == 1, again.stderr
    assert "1 pages of 1 documents" in again.stderr and "1 pages FAILED" in again.stderr
    quiet = run_cli("ocr", str(mixed_folder / "line.png"), "--out", str(tmp_path / "q"),
                    "--quiet", "--page-timeout", "60", "--dpi", "200", "--include", "*.png")
    assert (quiet.returncode, quiet.stderr) == (0, "")
    assert (tmp_path / "q" / "line.png.txt").read_text() == "Hello tightbind 123\n"


def test_command_batch_errors(pages, tmp_path, run_cli):
    bad_format = run_cli("ocr", str(pages["line"]), "--out", str(tmp_path), "--format", "doc")
    assert bad_format.returncode == 2 and "unknown output formats" in bad_format.stderr
    bad_stdout = run_cli("ocr", str(pages["line"]), "--format", "alto")
    assert bad_stdout.returncode == 2 and "--out" in bad_stdout.stderr
    bad_jobs = run_cli("ocr", str(pages["line"]), "--out", str(tmp_path), "-j", "0")
    assert bad_jobs.returncode == 2
    no_scheduler = run_cli("ocr", str(pages["line"]), "--out", str(tmp_path),
                           "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "1",
                           timeout=60)
    assert no_scheduler.returncode == 2 and "tightbind ocr:" in no_scheduler.stderr


def test_command_batch_on_a_dask_scheduler(dask_cluster, pages, tmp_path, run_cli):
    cluster, _ = dask_cluster
    done = run_cli("ocr", str(pages["line"]), str(pages["paragraph"]), "--out",
                   str(tmp_path), "--scheduler", cluster.scheduler_address, "-q")
    assert (done.returncode, done.stderr) == (0, "")
    assert (tmp_path / "line.png.txt").read_text() == "Hello tightbind 123\n"


def test_command_variables_and_speed_settings(pages, tmp_path, run_cli):
    digits = run_cli("ocr", "--variable", "tessedit_char_whitelist=0123456789", "--psm", "7",
                     str(pages["line"]))
    assert digits.returncode == 0, digits.stderr
    assert set(digits.stdout.strip()) <= set("0123456789 ") and "123" in digits.stdout
    for item, says in (("no_such_variable=1", "no variable 'no_such_variable'"),
                       ("tessedit_do_invert=maybe", "takes a boolean"),
                       ("tessedit_do_invert", "NAME=VALUE"), ("=1", "NAME=VALUE")):
        bad = run_cli("ocr", "--variable", item, str(pages["line"]))
        assert bad.returncode == 2 and says in bad.stderr, (item, bad.stderr)
    bad_dpi = run_cli("ocr", "--max-dpi", "10", str(pages["line"]))
    assert bad_dpi.returncode == 2 and "max_dpi" in bad_dpi.stderr
    pdf = run_cli("ocr", "--max-dpi", "200", "--format", "pdf", str(pages["line"]))
    assert pdf.returncode == 2 and "--out DIR --format pdf" in pdf.stderr
    fast = run_cli("ocr", str(pages["paragraph"]), "--out", str(tmp_path), "-q",
                   "--no-invert", "--max-dpi", "200", "--variable", "tessedit_do_invert=0")
    assert (fast.returncode, fast.stderr) == (0, "")
    assert (tmp_path / "paragraph.png.txt").read_text().split() \
        == cli(pages["paragraph"]).split()
    plain = run_cli("ocr", "--no-invert", "--max-dpi", "200", str(pages["line"]))
    assert plain.stdout == "Hello tightbind 123\n"


def test_command_one_text_format_name_and_one_json_page_shape(pages, tmp_path, run_cli):
    """txt is the canonical name of plain text everywhere; text is taken for it.  The
    json page object is the batch's own (the stdout list adds the file it came from)."""
    import json

    txt = run_cli("ocr", "--format", "txt", str(pages["line"]))
    text = run_cli("ocr", "--format", "text", str(pages["line"]))
    assert txt.returncode == 0 and txt.stdout == text.stdout == "Hello tightbind 123\n"
    batch = run_cli("ocr", str(pages["line"]), "--out", str(tmp_path), "-q",
                    "--format", "text,json")
    assert (batch.returncode, batch.stderr) == (0, "")
    assert (tmp_path / "line.png.txt").read_text() == "Hello tightbind 123\n"
    document = json.loads((tmp_path / "line.png.json").read_text())
    [stdout_page] = json.loads(run_cli("ocr", "--format", "json", str(pages["line"])).stdout)
    assert stdout_page.pop("file") == str(pages["line"])
    assert stdout_page == document["pages"][0]
    assert set(stdout_page) == {"page", "width", "height", "mean_confidence", "text", "words"}


def test_command_jobs_below_one_is_refused_once(pages, run_cli):
    for extra in ([], ["--out", "unused"]):
        done = run_cli("ocr", str(pages["line"]), "-j", "0", *extra)
        assert done.returncode == 2
        assert done.stderr == "tightbind ocr: --jobs must be at least 1\n"


def test_command_batch_asks_for_worker_processes_one_way(pages, tmp_path, run_cli):
    """--isolate as isolate=True: worker processes with or without a deadline;
    --no-isolate keeps --page-timeout on threads."""
    for flags in (["--isolate"], ["--no-isolate", "--page-timeout", "60"]):
        out = tmp_path / flags[0].strip("-")
        done = run_cli("ocr", str(pages["line"]), "--out", str(out), "-q", *flags)
        assert (done.returncode, done.stderr) == (0, "")
        assert (out / "line.png.txt").read_text() == "Hello tightbind 123\n"
