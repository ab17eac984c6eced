"""tightbind.ocr.isolation: ocr_many(isolate=True) runs each image in a worker process that
is killed and replaced when the image overruns its deadline or the process dies."""

from __future__ import annotations

import os
import signal
import time

import pytest
from helpers.images import noise_page
from helpers.pages import cli

from tightbind.ocr import ImageError, OcrError, RecognitionTimeout, ocr_many, pix_read
from tightbind.ocr.deadline import SLACK
from tightbind.ocr.isolation import WorkerProcess

ENGINE = {"data_path": None, "language": "eng", "psm": None, "variables": None}


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def worker():
    process = WorkerProcess(ENGINE)
    process.wait_ready()
    yield process
    process.close()


def test_isolated_results_equal_threaded_ones(pages):
    items = [pages["line"], pix_read(pages["paragraph"]), pages["blocks"].read_bytes()]
    isolated = list(ocr_many(items, workers=2, isolate=True))
    assert [r.index for r in isolated] == [0, 1, 2]
    assert [r.text for r in isolated] == [cli(pages[name]) for name in
                                          ("line", "paragraph", "blocks")]
    threaded = list(ocr_many(items, workers=1))
    assert [r.words for r in isolated] == [r.words for r in threaded]


def test_a_worker_overrunning_its_deadline_is_killed_and_replaced(worker, pages):
    first = worker.pid
    noise = noise_page()
    started = time.monotonic()
    with pytest.raises(RecognitionTimeout, match="killed and replaced"):
        worker.run(0, noise, 0.5)
    assert time.monotonic() - started < 0.5 + SLACK
    assert gone(first) and worker.pid != first
    assert worker.run(1, pages["line"], 30).text == cli(pages["line"])


def test_a_dead_worker_costs_one_image(worker, pages):
    os.kill(worker.pid, signal.SIGKILL)
    with pytest.raises(OcrError, match=r"died .*signal 9"):
        worker.run(0, pages["line"], None)
    assert worker.run(1, pages["line"], None).text == cli(pages["line"])


def test_a_workers_errors_arrive_as_themselves(worker):
    with pytest.raises(ImageError, match="not an image format"):
        worker.run(0, b"junk", None)


def test_ocr_many_isolated_keeps_its_deadline(pages):
    results = ocr_many([pages["line"], noise_page(), pages["line"]], workers=1, page_timeout=0.5,
                       isolate=True)
    assert next(results).text == cli(pages["line"])
    started = time.monotonic()
    with pytest.raises(RecognitionTimeout, match="killed"):
        next(results)
    assert time.monotonic() - started < 0.5 + SLACK


def test_a_worker_that_cannot_load_its_engine_says_why():
    process = WorkerProcess({"language": "xyz"})
    try:
        with pytest.raises(OcrError, match=r"could not load its engine.*xyz"):
            process.wait_ready()
    finally:
        process.close()


def test_one_pool_for_images_and_pages(pages):
    """The worker processes of ocr_many(isolate=True) run batch pages too."""
    from tightbind.ocr.isolation import ProcessPool
    from tightbind.ocr.workers import EngineOptions, PageTask

    pool = ProcessPool(EngineOptions(), 1)
    try:
        assert pool.run(0, pages["line"], None).text == cli(pages["line"])
        outcome = pool.run_page(PageTask(str(pages["line"]), "image", 0, ("txt",)), 30)
        assert outcome.parts == {"txt": cli(pages["line"]).encode()}
    finally:
        pool.close()
