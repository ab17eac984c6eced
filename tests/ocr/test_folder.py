"""The output folder defends itself: state read back is checked, one run at a time, a
torn manifest line is cut."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tightbind.ocr.batch import run_batch
from tightbind.ocr.store import FolderBusy, OutputStore


def manifest(out) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


@pytest.fixture
def finished(tmp_path, pages):
    """An output folder after one good run over one page."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "line.png").write_bytes(pages["line"].read_bytes())
    run_batch(tmp_path / "in", tmp_path / "out", workers=1)
    return tmp_path


COMMITS = [
    [], {"key": None}, {"key": "a" * 40, "done": None, "offset": 0, "lines": ""},
    {"key": "../../escape", "done": {"outputs": [], "pages": 1, "failed": 0}, "offset": 0,
     "lines": ""},
    {"key": None, "done": None, "offset": 100_000, "lines": "{}\n"},
    {"key": None, "done": None, "offset": -1, "lines": "{}\n"},
    {"key": None, "done": None, "offset": 0, "lines": "no newline"},
    {"key": "a" * 40, "done": {"outputs": ["../../outside"], "pages": 1, "failed": 0},
     "offset": 0, "lines": ""},
    {"key": "a" * 40, "done": {"outputs": [], "pages": 1, "failed": 2}, "offset": 0,
     "lines": ""},
    "not json at all", b"\xff\xfe",
]


@pytest.mark.parametrize("commit", COMMITS, ids=range(len(COMMITS)))
def test_every_damaged_commit_record_is_dropped(finished, commit):
    """Before: valid JSON of another shape killed every later run (KeyError/TypeError),
    an offset past the end padded the manifest with NUL bytes, a key holding ../ wrote
    a done record outside the folder."""
    out = finished / "out"
    before = (out / "manifest.jsonl").read_bytes()
    data = commit if isinstance(commit, bytes) else (
        commit.encode() if isinstance(commit, str) and commit.startswith("not") else
        json.dumps(commit).encode())
    (out / ".tightbind" / "commit.json").write_bytes(data)
    again = run_batch(finished / "in", out, workers=1)
    assert again.all_done
    assert (out / "manifest.jsonl").read_bytes() == before
    assert not (out / ".tightbind" / "commit.json").exists()
    assert sorted(p.name for p in finished.iterdir()) == ["in", "out"]


@pytest.mark.parametrize("done", [b"[]", b"{}", b"not json", b'{"outputs": "x"}',
                                  b'{"outputs": ["/etc/passwd"], "pages": 1, "failed": 0}',
                                  b'{"outputs": ["a/../../x"], "pages": 1, "failed": 0}',
                                  b'{"outputs": [], "pages": 1, "failed": -1}'])
def test_a_damaged_done_record_means_the_document_is_redone(finished, done):
    out = finished / "out"
    record, = (out / ".tightbind" / "done").iterdir()
    record.write_bytes(done)
    again = run_batch(finished / "in", out, workers=1)
    assert (again.documents, again.failed) == (1, 0)
    assert json.loads(record.read_bytes())["outputs"] == ["line.png.txt"]


@pytest.mark.parametrize("page", [b"[]", b"{}", b'{"status": "ok"}', b"\0\0",
                                  b'{"status": "maybe", "seconds": 1}'])
def test_a_damaged_page_record_means_the_page_is_redone(tmp_path, pages, page):
    out = tmp_path / "out"
    store = OutputStore(out, ["txt"])
    key = "b" * 40
    folder = out / ".tightbind" / "pages" / key
    folder.mkdir(parents=True)
    (folder / "0.done").write_bytes(page)
    (folder / "0.txt").write_bytes(b"text")
    (folder / "99999999999.done").write_bytes(b'{"status": "ok", "seconds": 1}')
    (folder / "1.done").write_bytes(b'{"status": "ok", "seconds": 1}')  # no part
    assert store.finished_pages(key, 5) == set()
    store.close()


def test_a_torn_manifest_line_is_cut_before_appending(finished, pages):
    """Before: the next record was glued onto the torn line."""
    out = finished / "out"
    with open(out / "manifest.jsonl", "ab") as file:
        file.write(b'{"input": "torn.png", "pa')
    (finished / "in" / "second.png").write_bytes(pages["line"].read_bytes())
    run_batch(finished / "in", out, workers=1)
    assert [r["input"] for r in manifest(out)] == ["line.png", "second.png"]
    (out / "manifest.jsonl").write_bytes(b'{"torn": ')  # no whole line at all
    (finished / "in" / "third.png").write_bytes(pages["line"].read_bytes())
    run_batch(finished / "in", out, workers=1)
    assert [r["input"] for r in manifest(out)] == ["third.png"]


HOLD = """
import sys, time
from tightbind.ocr.store import OutputStore
store = OutputStore(sys.argv[1], ["txt"])
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_run_on_a_held_folder_is_refused_and_a_dead_holder_taken_over(finished):
    """Before: two runs on one folder: one died with FileNotFoundError, records doubled."""
    out = finished / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE,
                              text=True, env={**os.environ,
                                              "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(FolderBusy, match=f"in use by another run \\(process {holder.pid}\\)"):
            run_batch(finished / "in", out, workers=1)
    finally:
        holder.kill()
        holder.wait()
    assert (out / ".tightbind" / "lock").read_text() == f"{holder.pid}\n"
    assert run_batch(finished / "in", out, workers=1).all_done  # the dead holder's lock
    with OutputStoreHeld(out) as store:
        assert store is not None
        with pytest.raises(FolderBusy):
            OutputStore(out, ["txt"])


class OutputStoreHeld:
    def __init__(self, out) -> None:
        self.store = OutputStore(out, ["txt"])

    def __enter__(self) -> OutputStore:
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()
