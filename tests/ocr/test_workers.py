"""tightbind.ocr.workers: pages in threads, killable processes and on a real Dask cluster."""

from __future__ import annotations

import json
import os
import signal

import pytest

from tightbind.ocr import LanguageNotFound, OcrError
from tightbind.ocr.batch import run_batch
from tightbind.ocr.workers import (
    EngineOptions,
    PageTask,
    ProcessPages,
    hard_deadline,
    recognise_page,
    thread_engine,
)


def test_recognise_page_returns_failures(pages, tmp_path):
    api = thread_engine(EngineOptions())
    assert thread_engine(EngineOptions()) is api  # loaded once per thread
    good = recognise_page(api, PageTask(str(pages["line"]), "image", 0, ("txt", "json")))
    assert good.ok and good.parts["txt"] == b"Hello tightbind 123\n"
    assert json.loads(good.parts["json"])["words"][0]["text"] == "Hello"
    missing = recognise_page(api, PageTask(str(tmp_path / "none.png"), "image", 0, ("txt",)))
    assert not missing.ok and missing.error_class == "ImageFileNotFound"
    unknown = recognise_page(api, PageTask(str(pages["line"]), "image", 0, ("doc",)))
    assert unknown.error_class == "ValueError"


def test_process_pages(pages):
    processes = ProcessPages(EngineOptions(), 1, hard_deadline(5))
    try:
        outcome = processes.run(PageTask(str(pages["line"]), "image", 0, ("txt",)))
        assert outcome.parts == {"txt": b"Hello tightbind 123\n"}
        [child] = processes._idle
        child.process.kill()  # a worker that died between pages
        child.process.join()
        died = processes.run(PageTask(str(pages["line"]), "image", 0, ("txt",)))
        assert died.error_class == "WorkerDied"
        again = processes.run(PageTask(str(pages["line"]), "image", 0, ("txt",)))
        assert again.ok  # replaced
    finally:
        processes.close()
    with pytest.raises(OcrError):
        ProcessPages(EngineOptions(language="xyz"), 1, 10)
    assert hard_deadline(10) == 15 and hard_deadline(1) == 3
    with pytest.raises(LanguageNotFound):
        EngineOptions(language="xyz").engine()


def outputs_of(out) -> dict[str, bytes]:
    return {str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*"))
            if path.is_file() and ".tightbind" not in path.parts
            and path.name != "manifest.jsonl"}


@pytest.mark.slow
def test_dask_cluster_with_a_worker_killed_mid_run(dask_cluster, pages, mixed_folder,
                                                   tmp_path):
    """Pages run as tasks on two worker processes; one is SIGKILLed after the first page
    comes back: its pages are re-run elsewhere and the outputs equal a local run's."""
    _, client = dask_cluster
    folder = tmp_path / "in"
    folder.mkdir()
    for index, name in enumerate(["paragraph", "line", "blocks"] * 3):
        (folder / f"{index}-{name}.png").write_bytes(pages[name].read_bytes())
    (folder / "two.pdf").write_bytes((mixed_folder / "two.pdf").read_bytes())
    local = tmp_path / "local"
    run_batch(folder, local, formats=("txt", "hocr", "pdf"), workers=2)
    killed = []

    def kill_one_worker(event):
        if not killed:
            pids = client.run(os.getpid)
            address, pid = sorted(pids.items())[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(address)

    out = tmp_path / "dask"
    summary = run_batch(folder, out, formats=("txt", "hocr", "pdf"), client=client,
                        callback=kill_one_worker)
    assert killed and summary.failed == 0 and summary.pages == 11
    assert outputs_of(out) == outputs_of(local)
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(records) == 11 and len({(r["input"], r["page"]) for r in records}) == 11
    client.wait_for_workers(2, timeout=120)
    assert run_batch(folder, out, formats=("txt", "hocr", "pdf"), client=client).all_done
