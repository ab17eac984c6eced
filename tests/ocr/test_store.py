"""tightbind.ocr.store: the output folder of a batch survives a kill at any moment."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tightbind.ocr.batch import run_batch
from tightbind.ocr.store import OutputStore


def manifest_pages(out) -> list[tuple[str, int]]:
    lines = (out / "manifest.jsonl").read_text().splitlines()
    return sorted((r["input"], r["page"]) for r in map(json.loads, lines))


def outputs_of(out) -> dict[str, bytes]:
    return {str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*"))
            if path.is_file() and ".tightbind" not in path.parts
            and path.name != "manifest.jsonl"}


def test_a_torn_finish_is_completed_once(tmp_path):
    """A run killed while appending a document's manifest lines left half a line; the
    next store cuts the manifest back and appends the lines once, then marks it done."""
    out = tmp_path / "out"
    store = OutputStore(out, ["txt"])
    (out / "manifest.jsonl").write_text('{"input": "a.png", "page": 1}\n{"inp')
    record = {"input": "b.png", "page": 1, "status": "ok"}
    commit = {"key": "a" * 40, "done": {"input": "b.png", "outputs": [], "pages": 1,
                                             "failed": 0}, "offset": 30,
              "lines": json.dumps(record) + "\n"}
    (out / ".tightbind" / "commit.json").write_text(json.dumps(commit))
    del store
    OutputStore(out, ["txt"])
    assert manifest_pages(out) == [("a.png", 1), ("b.png", 1)]
    assert json.loads((out / ".tightbind" / "done" / f"{'a' * 40}.json").read_text())[
        "input"] == "b.png"
    assert not (out / ".tightbind" / "commit.json").exists()


KILLED_AT_FSYNC = """
import os, signal, sys
from tightbind.ocr.batch import run_batch
calls = [0]
real_fsync = os.fsync
def fsync(fd):
    real_fsync(fd)
    calls[0] += 1
    if calls[0] == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)
os.fsync = fsync
run_batch(sys.argv[1], sys.argv[2], formats=["txt", "json"], workers=1)
"""


@pytest.mark.slow
def test_a_kill_after_any_write_then_a_rerun_gives_the_same_folder(pages, tmp_path):
    """Kill a run just after each of its durable writes in turn (every page part, page
    record, output, commit record, manifest append and done record); a re-run then
    leaves the outputs and the manifest of an uninterrupted run, each page once."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("line", "blocks"):
        (folder / f"{name}.png").write_bytes(pages[name].read_bytes())
    whole = tmp_path / "whole"
    run_batch(folder, whole, formats=["txt", "json"], workers=1)
    writes = 0
    while True:
        writes += 1
        out = tmp_path / f"killed-{writes}"
        child = subprocess.run([sys.executable, "-c", KILLED_AT_FSYNC, str(folder), str(out),
                                str(writes)], env=os.environ.copy(), timeout=300)
        if child.returncode == 0:
            break  # the run made fewer durable writes than ``writes``: all were tried
        assert child.returncode == -9
        run_batch(folder, out, formats=["txt", "json"], workers=1)
        assert outputs_of(out) == outputs_of(whole), writes
        assert manifest_pages(out) == manifest_pages(whole), writes
    assert writes > 10
