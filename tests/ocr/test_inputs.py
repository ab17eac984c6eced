"""The inputs of a batch: only regular files, any legal name, no two on one output."""

from __future__ import annotations

import json
import os
import socket

import pytest
from helpers.limits import run_limited

from tightbind.ocr.batch import run_batch
from tightbind.ocr.inputs import InputRefused, describe, list_inputs
from tightbind.ocr.store import shorten


def manifest(out) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def special_files(folder) -> dict[str, str]:
    """A FIFO, a symlink to /dev/zero, a socket and a symlink loop, named like images."""
    os.mkfifo(folder / "fifo.png")
    os.symlink("/dev/zero", folder / "zero.png")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(folder / "socket.png"))
    listener.close()
    os.symlink("loop-b.png", folder / "loop-a.png")
    os.symlink("loop-a.png", folder / "loop-b.png")
    os.symlink(".", folder / "self")  # a folder link to itself: not entered
    return {"fifo.png": "a FIFO", "zero.png": "a character device",
            "socket.png": "a socket"}


def test_only_regular_files_are_read_named_or_found(tmp_path, pages):
    """Before: /dev/zero, a link to it or a FIFO never returned, even with a deadline."""
    folder = tmp_path / "in"
    folder.mkdir()
    kinds = special_files(folder)
    (folder / "line.png").write_bytes(pages["line"].read_bytes())
    named = [str(folder / name) for name in kinds] + ["/dev/zero"]
    result = run_limited(f"""
        from tightbind.ocr.batch import run_batch
        print(run_batch({str(folder)!r}, {str(tmp_path / "walked")!r}, workers=1).failed)
        print(run_batch({named!r}, {str(tmp_path / "named")!r}, workers=1,
                        page_timeout=2).failed)
        """, seconds=90)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["5", "3"]  # zero.png and /dev/zero: one device
    walked = {r["input"]: r for r in manifest(tmp_path / "walked")}
    assert walked["line.png"]["status"] == "ok"
    for name, kind in kinds.items():
        assert walked[name]["error"]["class"] == "InputRefused"
        assert f"not a regular file ({kind})" in walked[name]["error"]["message"]
    assert walked["loop-a.png"]["error"]["class"] == "OSError"
    named_records = manifest(tmp_path / "named")
    assert [r["error"]["class"] for r in named_records] == ["InputRefused"] * 3


def test_names_that_are_not_utf8_and_the_longest_legal_name(tmp_path, pages):
    """Before: a name that is not UTF-8 aborted the batch (UnicodeEncodeError), and a
    254-byte name aborted every run (ENAMETOOLONG on its output)."""
    folder = tmp_path / "in"
    folder.mkdir()
    data = pages["line"].read_bytes()
    odd = os.fsdecode(b"caf\xe9-\xff.png")
    long_name = "\u00e9" * 125 + "x.png"  # 255 bytes in UTF-8
    assert len(long_name.encode()) == 255
    for name in (odd, long_name, "plain.png"):
        (folder / name).write_bytes(data)
    formats = ("txt", "json", "hocr")
    summary = run_batch(folder, tmp_path / "out", formats=formats, workers=2)
    assert summary.failed == 0
    records = {r["input"]: r for r in manifest(tmp_path / "out")}
    assert set(records) == {odd, long_name, "plain.png"}
    for record in records.values():
        assert record["status"] == "ok"
        for output in record["outputs"]:
            assert (tmp_path / "out" / output).read_bytes()
            assert len(os.fsencode(output)) <= 255
    assert records[long_name]["outputs"][0] == shorten(long_name, "txt")
    page = json.loads((tmp_path / "out" / records[odd]["outputs"][1]).read_bytes())
    assert page["input"] == odd and "tightbind" in page["pages"][0]["text"]
    again = run_batch(folder, tmp_path / "out", formats=formats, workers=2)
    assert again.skipped == 3 and again.documents == 0


def test_shorten_is_stable_and_fits():
    assert shorten("a/b.png", "txt") == "a/b.png.txt"
    name = "sub/" + "\u00e9" * 200 + ".png"
    short = shorten(name, "hocr")
    assert short.startswith("sub/") and short.endswith(".hocr")
    assert len(os.fsencode(short.rpartition("/")[2])) <= 255
    assert short == shorten(name, "hocr") != shorten(name + "x", "hocr")
    short.encode()  # no character cut in half


def test_inputs_writing_the_same_outputs_are_refused_up_front(tmp_path, pages):
    """Before: c1/x.png and c2/x.png both wrote OUT/x.png.txt, the manifest listing both."""
    for folder in ("c1", "c2"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.png").write_bytes(pages["line"].read_bytes())
    with pytest.raises(ValueError, match=r"c1/x\.png and .*c2/x\.png"):
        run_batch([tmp_path / "c1" / "x.png", tmp_path / "c2" / "x.png"], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    summary = run_batch([tmp_path / "c1" / "x.png", tmp_path / "c1" / "x.png",
                         tmp_path / "c1"], tmp_path / "out")  # one file reached thrice
    assert summary.documents == 1


def test_a_folder_where_an_output_goes_fails_that_document_only(tmp_path, pages):
    """Before: a sub-folder named like an output aborted the batch (FileExistsError)."""
    folder = tmp_path / "in"
    (folder / "x.png.txt").mkdir(parents=True)
    for name in ("x.png", "x.png.txt/y.png"):
        (folder / name).write_bytes(pages["line"].read_bytes())
    (tmp_path / "out" / "z.png.txt").mkdir(parents=True)
    (folder / "z.png").write_bytes(pages["line"].read_bytes())
    summary = run_batch(folder, tmp_path / "out", workers=1)
    records = {r["input"]: r for r in manifest(tmp_path / "out")}
    assert records["z.png"]["status"] == "failed"
    assert records["z.png"]["error"]["class"] == "IsADirectoryError"
    assert summary.failed >= 1
    assert sum(r["status"] == "ok" for r in records.values()) >= 1


def test_the_input_size_cap(tmp_path, pages):
    (tmp_path / "line.png").write_bytes(pages["line"].read_bytes())
    size = (tmp_path / "line.png").stat().st_size
    summary = run_batch(tmp_path / "line.png", tmp_path / "out", max_input_bytes=size - 1)
    record, = manifest(tmp_path / "out")
    assert record["error"]["class"] == "InputRefused"
    assert f"{size:,} bytes, more than the {size - 1:,}" in record["error"]["message"]
    assert summary.failed == 1
    assert describe(str(tmp_path / "line.png"), "line.png", size).kind == "image"
    with pytest.raises(ValueError, match="max_input_bytes"):
        run_batch(tmp_path / "line.png", tmp_path / "out", max_input_bytes=0)
    with pytest.raises(InputRefused, match="a folder"):
        describe(str(tmp_path), "x")
    assert list_inputs([tmp_path / "line.png"]) == [(str(tmp_path / "line.png"), "line.png")]
