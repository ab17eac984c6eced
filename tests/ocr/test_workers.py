"""tightbind.ocr.workers: pages in threads, killable processes and on a real Dask cluster."""

from __future__ import annotations

import json
import os
import signal

import pytest
from helpers.pages import cli
from PIL import Image

from tightbind.ocr import LanguageNotFound, OcrError, Pix, ocr_many, pix_read
from tightbind.ocr.batch import run_batch
from tightbind.ocr.isolation import ProcessPages
from tightbind.ocr.workers import (
    EngineOptions,
    PageTask,
    check_max_dpi,
    hard_deadline,
    limit_resolution,
    no_invert_variables,
    recognise_page,
    speed_variables,
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
        [pid] = processes.pids
        os.kill(pid, signal.SIGKILL)  # a worker that died between pages
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


def test_limit_resolution(pages):
    pix = pix_read(pages["line"])
    assert pix.resolution == (300, 300)
    assert limit_resolution(pix, None) is pix and limit_resolution(pix, 300) is pix
    smaller = limit_resolution(pix, 200)
    assert smaller.resolution == (200, 200)
    assert abs(smaller.width - pix.width * 2 / 3) <= 1
    unknown = Pix.from_numpy(pix.to_numpy())
    assert unknown.resolution == (0, 0)
    assert limit_resolution(unknown, 200) is unknown  # nothing to go by
    one_bit = Pix.from_pil(Image.open(pages["line"]).convert("1"))
    one_bit.resolution = (300, 300)
    scaled = limit_resolution(one_bit, 150)  # made grey first
    assert scaled.depth == 8 and scaled.resolution == (150, 150)
    for bad in (10, 5000, 200.0, True, "200"):
        with pytest.raises(ValueError, match="max_dpi"):
            check_max_dpi(bad)


def test_speed_variables():
    name, value = next(iter(no_invert_variables().items()))
    assert value == "0" and name in ("tessedit_do_invert", "invert_threshold")
    assert speed_variables(None, True) == {}
    assert speed_variables({"user_defined_dpi": 300}, False) == {name: "0",
                                                                 "user_defined_dpi": 300}
    assert speed_variables({name: "1"}, False) == {name: "1"}  # the caller's value wins


def test_run_batch_speed_settings_are_options(pages, tmp_path):
    out = tmp_path / "out"
    first = run_batch([pages["paragraph"]], out, workers=1, invert=False, max_dpi=200)
    assert first.pages == 1 and first.failed == 0
    assert (out / "paragraph.png.txt").read_text().split() == cli(pages["paragraph"]).split()
    assert run_batch([pages["paragraph"]], out, workers=1, invert=False, max_dpi=200).all_done
    again = run_batch([pages["paragraph"]], out, workers=1, max_dpi=200)  # invert changed
    assert again.documents == 1
    assert run_batch([pages["paragraph"]], out, workers=1, max_dpi=150).documents == 1
    with pytest.raises(ValueError, match="max_dpi"):
        run_batch([pages["paragraph"]], out, max_dpi=20)
    threaded = list(ocr_many([pages["line"]], workers=1, invert=False, max_dpi=200))
    assert threaded[0].text == "Hello tightbind 123\n"
